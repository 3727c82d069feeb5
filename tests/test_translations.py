"""Every user-visible string is extracted, and every catalogue translates all of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ROOT / "registry" / "translations"
LANGUAGES = ("kk", "ru", "en", "ky", "uz")


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def extracted_ids(tmp_path_factory) -> set:
    out = tmp_path_factory.mktemp("pot") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
         "-k", "lazy_gettext", "-k", "NP_:1c,2", "--no-location", "-o", str(out), str(ROOT)]
    )
    ids = {(message.context, message.id) for message in _read(out) if message.id}
    assert len(ids) > 100, "extraction found almost nothing: check babel.cfg"
    return ids


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_translates_every_extracted_string(lang, extracted_ids):
    catalogue = _read(CATALOGUES / lang / "LC_MESSAGES" / "messages.po")
    present = {(message.context, message.id) for message in catalogue if message.id}
    missing = sorted(str(i) for i in extracted_ids - present)
    assert missing == [], f"{lang}: run `make translations-update` and translate: {missing[:10]}"
    untranslated = [
        str(m.id) for m in catalogue
        if m.id and (m.fuzzy or not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert untranslated == [], f"{lang}: untranslated or fuzzy: {untranslated[:10]}"


@pytest.mark.parametrize("lang", ("kk", "ru", "ky", "uz"))
def test_placeholders_survive_translation(lang):
    import re

    pattern = re.compile(r"%\(\w+\)[sd]")
    catalogue = _read(CATALOGUES / lang / "LC_MESSAGES" / "messages.po")
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(pattern.findall(ids[-1]))
        for text in strings:
            assert set(pattern.findall(text)) <= wanted | set(pattern.findall(ids[0])), (
                f"{lang}: placeholders differ in {ids[0]!r}"
            )
            assert wanted - {"%(num)d"} <= set(pattern.findall(text)), (
                f"{lang}: a placeholder is lost in {ids[0]!r}"
            )


def test_kazakh_catalogue_uses_kazakh_letters():
    catalogue = _read(CATALOGUES / "kk" / "LC_MESSAGES" / "messages.po")
    text = "".join(m.string if isinstance(m.string, str) else "".join(m.string)
                   for m in catalogue if m.id)
    assert set("әғқңөұүі") <= set(text.lower())
