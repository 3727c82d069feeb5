"""Media kinds are plugins: the rest of the code loops over them and never names one."""

from __future__ import annotations

import re
from pathlib import Path

from registry import kinds
from registry.kinds import Hit, MediaKind, Query

ROOT = Path(__file__).resolve().parents[2] / "registry"
#: A media kind named in a comparison, e.g. ``media_kind == "audio"`` or ``kind != 'image'``.
NAMED = re.compile(r"""(media_kind|media|kind|\.kind)\s*[!=]=\s*['"](audio|image|video)['"]""")


def test_builtin_kinds_are_registered_with_their_indexes():
    assert list(kinds.KINDS) == ["audio", "image", "video"]
    assert kinds.index_names() == ["audio", "audio_peaks", "audio_pairs", "image",
                                   "image_features", "video"]
    for kind in kinds.all_kinds():
        assert kind.fingerprint_name and kind.default_work_type and kind.meanings


def test_no_code_outside_the_kinds_asks_which_kind_a_file_is():
    offenders = []
    for path in list(ROOT.rglob("*.py")) + list(ROOT.rglob("*.html")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "kinds" or rel.parts[:2] == ("templates", "kinds"):
            continue
        if rel.parts[:2] == ("core", "media.py") or rel.parts[0] == "migrations":
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if NAMED.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []


class _Echo(MediaKind):
    name = "echo"

    def search(self, conn, query, *, limit=10):
        return [Hit(7, 0.4, self.name, "weak_similarity"), Hit(7, 0.9, self.name, "x")]


def test_a_new_kind_plugs_in_with_one_registration(monkeypatch):
    monkeypatch.setattr(kinds, "KINDS", dict(kinds.KINDS))
    kinds.register(_Echo())
    assert kinds.get("echo").search(None, Query("echo", {}))[1].score == 0.9
    assert kinds.get("echo").combine(kinds.get("echo").search(None, Query("echo", {}))).score == 0.9
    assert [k.name for k in kinds.all_kinds()][-1] == "echo"
