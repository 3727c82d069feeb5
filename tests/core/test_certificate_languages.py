"""Every PDF label and term exists in all five languages; ky and uz certificates render.

The texts come from the gettext catalogues (context ``pdf``), read without Flask."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from registry.core.certificates import i18n
from registry.core.evidence import readme


def _every_text(lang: str) -> dict[str, str]:
    texts = {key: i18n.label(key, lang) for key in i18n.LABELS}
    texts |= {f"{vocabulary}:{code}": i18n.term(vocabulary, code, lang)
              for vocabulary, entries in i18n.VOCABULARIES.items() for code in entries}
    return texts


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_label_and_term_exists_in_every_language(lang):
    """``translate`` refuses a text the catalogue lacks, so this reads every one."""
    texts = _every_text(lang)
    assert all(texts.values())
    if lang == "en":
        assert texts["certificate_title"] == "Certificate of registration"
    else:  # translated, not the English msgid falling through
        english = _every_text("en")
        same = [key for key, text in texts.items() if text == english[key]]
        assert len(same) < len(texts) // 4, same


def test_a_text_missing_from_the_catalogue_is_an_error_not_english():
    with pytest.raises(i18n.MissingTranslation):
        i18n.translate("A label nobody translated", "kk")


def test_the_catalogue_compiles_from_the_po_file_when_no_mo_is_there(tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "kk" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(i18n.CATALOGUES / "kk" / "LC_MESSAGES" / "messages.po", folder)
    expected = i18n.label("certificate_title", "kk")
    monkeypatch.setattr(i18n, "CATALOGUES", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        assert i18n.label("certificate_title", "kk") == expected == "Тіркеу туралы куәлік"
    finally:
        i18n.catalogue.cache_clear()


@pytest.mark.parametrize("lang", ["ky", "uz", "ky+ru", "uz+ru"])
def test_kyrgyz_and_uzbek_layouts_are_accepted(lang):
    assert i18n.parse_lang(lang)[0] in ("ky", "uz")


def test_the_evidence_readme_speaks_five_languages():
    text = readme("KZ-2026-000001").decode()
    assert "ТАМГА — ДАЛИЛДЕР ТОПТОМУ" in text and "TAMGA — DALILLAR TOʻPLAMI" in text


@pytest.mark.parametrize(("lang", "words"), [
    ("uz", ["Roʻyxat raqami", "Mualliflik huquqi obyektlari reyestri", "Matn muallifi"]),
    ("ky+ru", ["Каттоо номери", "Регистрационный номер", "Тексттин автору", "Кирүү далили"]),
])
def test_kyrgyz_and_uzbek_certificates_carry_their_letters(lang, words):
    """The embedded font draws oʻ gʻ (U+02BB) and ң ө ү: the words survive text extraction."""
    from registry.core.certificates import render_certificate
    from tests.core.test_certificate import make_facts

    facts, bundle = make_facts()
    pdf = render_certificate(facts, bundle, lang=lang)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for word in words:
        assert word in " ".join(text.split()), word


def test_no_hand_made_translation_tables_are_left_in_the_core():
    """PDF and bundle texts come from the catalogues: no ``{"kk": …, "ru": …}`` tables."""
    import ast
    from pathlib import Path

    core = Path(i18n.__file__).resolve().parents[1]
    tables = []
    for path in core.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if {"kk", "ru"} <= keys:
                    tables.append(f"{path.name}:{node.lineno}")
    assert tables == []
