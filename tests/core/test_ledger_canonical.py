"""Canonical JSON of ledger entries, and entry validation."""

from __future__ import annotations

import pytest

from registry.core.errors import ValidationFailed
from registry.core.ledger.canonical import (
    ENTRY_KINDS,
    canonical_json,
    is_canonical,
    validate_entry,
)


def test_sorted_keys_no_whitespace_utf8() -> None:
    entry = {
        "title": "Қара жорға",
        "at": "2026-11-21T10:00:00Z",
        "kind": "work.registered",
        "files": [{"sha256": "ab", "role": "main"}],
        "n": 3,
        "ok": True,
        "none": None,
    }
    data = canonical_json(entry)
    expected = (
        '{"at":"2026-11-21T10:00:00Z","files":[{"role":"main","sha256":"ab"}],'
        '"kind":"work.registered","n":3,"none":null,"ok":true,"title":"Қара жорға"}'
    )
    assert data == expected.encode()
    assert "Қ".encode() in data  # UTF-8, not \\u049a escapes
    assert canonical_json(dict(reversed(list(entry.items())))) == data
    assert is_canonical(data)
    assert not is_canonical(data.replace(b",", b", ", 1))
    assert not is_canonical(b'{"b":1,"a":2}')


def test_json_escapes_only_what_it_must() -> None:
    assert canonical_json({"t": 'a"b\\c\n\u0001é'}) == '{"t":"a\\"b\\\\c\\n\\u0001é"}'.encode()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1, 2}, b"bytes"])
def test_values_without_a_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(ValidationFailed):
        canonical_json({"v": value})


def test_every_kind_the_app_records_is_accepted() -> None:
    """Every kind passed to ``ledger.record("...")`` in the code is a known, valid kind."""
    import re
    from pathlib import Path

    for kind in sorted(ENTRY_KINDS):
        validate_entry({"kind": kind, "at": "2026-11-21T10:00:00.123456Z"})
    source = Path(__file__).resolve().parents[2] / "registry"
    recorded = {kind for path in source.rglob("*.py")
                for kind in re.findall(r"\brecord\(\s*\"([a-z_]+\.[a-z_]+)\"", path.read_text())}
    assert {"work.registered", "work.withdrawn", "state_filing.prepared"} <= recorded
    assert recorded <= ENTRY_KINDS


@pytest.mark.parametrize(
    "entry",
    [
        {"kind": "work.deleted", "at": "2026-11-21T10:00:00Z"},
        {"at": "2026-11-21T10:00:00Z"},
        {"kind": "work.registered"},
        {"kind": "work.registered", "at": "2026-11-21T10:00:00+05:00"},
        {"kind": "work.registered", "at": "21.11.2026"},
        ["work.registered"],
    ],
)
def test_invalid_entries_are_refused(entry: object) -> None:
    with pytest.raises(ValidationFailed):
        validate_entry(entry)  # type: ignore[arg-type]
