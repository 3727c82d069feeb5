"""The PDF certificate of registration: content, fonts, proof, determinism, signature.

The ledger data is real: a small RFC 9162 tree built with the ledger's code, a
checkpoint signed as a C2SP note, and the PDF signed with ``sign_pdf``; the
offline verifier (``tamga_verify``) then checks the rendered certificate.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from registry.core.certificates import (
    PROOF_ATTACHMENT,
    QR_SIZE_COMPACT,
    Author,
    CertificateFacts,
    WorkFile,
    ledger_facts_from_bundle,
    render_certificate,
)
from registry.core.certificates.timezones import format_almaty, to_almaty
from registry.core.errors import ValidationFailed
from registry.core.ledger.canonical import canonical_json
from registry.core.ledger.keys import sign_note, sign_pdf, signing_key_from_seed
from registry.core.ledger.merkle import MemoryTree
from registry.core.tamga_verify import leaf_hash, verify_certificate, verify_pdf_signature

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "certificates"
KEY = signing_key_from_seed("tamga.kz-2026", hashlib.sha256(b"certificate tests").digest())
ORIGIN = "tamga.kz/ledger"
KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
MAIN_AUDIO = b"RIFF....WAVEfmt the original recording"

TITLE = "Алғашқы көктемгі түн — Жиһан әуені"
AUTHORS = (
    Author("Әлия Ғабитқызы Қоңырбаева", "composer", 50),
    Author("Өмірзақ Ұлықбекұлы Үсенов", "lyricist", 30),
    Author("Һадиша Іргебаева", "performer", 20),
)


def _entry(number: str, files: list[WorkFile]) -> bytes:
    return canonical_json(
        {
            "kind": "work.registered",
            "at": "2026-03-14T09:26:53Z",
            "registration_number": number,
            "title": TITLE,
            "files": [{"role": f.role, "name": f.name, "sha256": f.sha256} for f in files],
        }
    )


def make_bundle(number: str, files: list[WorkFile], leaf_index: int, tree_size: int) -> bytes:
    """A real proof bundle: the entry sits at ``leaf_index`` of a tree of ``tree_size``."""
    entry = _entry(number, files)
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(tree_size)]
    leaves[leaf_index] = leaf_hash(entry)
    tree = MemoryTree(leaves)
    root = base64.b64encode(tree.root(tree_size)).decode()
    note = sign_note(f"{ORIGIN}\n{tree_size}\n{root}\n", KEY.name, KEY.private_key)
    bundle = {
        "format": "tamga-proof/1",
        "entry": base64.b64encode(entry).decode(),
        "leaf_index": leaf_index,
        "tree_size": tree_size,
        "inclusion_proof": [
            base64.b64encode(h).decode() for h in tree.inclusion_proof(leaf_index, tree_size)
        ],
        "checkpoint": note,
        "public_keys": [KEY.public_info()],
    }
    return json.dumps(bundle, sort_keys=True, separators=(",", ":")).encode()


def make_facts(
    *,
    number: str = "KZ-2026-000123",
    files: list[WorkFile] | None = None,
    leaf_index: int = 5,
    tree_size: int = 13,
    **changes: object,
) -> tuple[CertificateFacts, bytes]:
    files = files or [
        WorkFile("main", "algashky-koktemgi-tun.wav", hashlib.sha256(MAIN_AUDIO).hexdigest()),
        WorkFile("supporting", "сөздері.pdf", hashlib.sha256(b"lyrics").hexdigest()),
    ]
    bundle = make_bundle(number, files, leaf_index, tree_size)
    facts = CertificateFacts(
        registration_number=number,
        registered_at=datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC),
        registrant="«Дала Саз» ЖШС / ТОО «Дала Саз»",
        title=TITLE,
        original_title="First Spring Night",
        work_type="musical_work",
        authors=AUTHORS,
        files=files,
        ledger=ledger_facts_from_bundle(bundle),
        verify_url=f"https://tamga.kz/verify/{number}",
        created_on=date(2025, 11, 2),
        published=True,
        published_on=date(2026, 1, 15),
        publication_place="Алматы",
        publication_url="https://music.example.kz/track/42",
        ai_use="ai_assisted",
        ai_tools=("Suno v4",),
        human_contribution="Әуен мен сөзді авторлар жазды; ЖИ тек аранжировкаға көмектесті.",
        licence="cc_by_nc",
        fingerprint_digest=hashlib.sha256(b"chromaprint").hexdigest(),
        fingerprint_kind="audio",
        iscc="ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY",
    )
    return dataclasses.replace(facts, **changes), bundle


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _signer(pdf: bytes) -> bytes:
    return sign_pdf(pdf, KEY.name, KEY.private_key)


# -- content in each language -------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected", "absent"),
    [
        ("kk", ["ТІРКЕУ ТУРАЛЫ КУӘЛІК", "Тіркеу нөмірі", "Музыкалық шығарма", "Композитор",
                "Алматы уақыты", "Енгізу дәлелі", "Бақылау нүктесі"],
         ["Свидетельство", "Certificate"]),
        ("ru", ["СВИДЕТЕЛЬСТВО О РЕГИСТРАЦИИ", "Регистрационный номер",
                "Музыкальное произведение", "Автор текста", "время Алматы",
                "Доказательство включения"], ["КУӘЛІК", "Certificate"]),
        ("en", ["CERTIFICATE OF REGISTRATION", "Registration number", "Musical work",
                "Lyricist", "Almaty time", "Inclusion proof", "Root hash"],
         ["КУӘЛІК", "Свидетельство"]),
        ("kk+ru", ["ТІРКЕУ ТУРАЛЫ КУӘЛІК", "СВИДЕТЕЛЬСТВО О РЕГИСТРАЦИИ", "Тіркеу нөмірі",
                   "Регистрационный номер", "Сөз авторы", "Автор текста"], ["Certificate"]),
    ],
)
def test_each_language_states_the_facts(lang: str, expected: list[str], absent: list[str]):
    facts, bundle = make_facts()
    text = _flat(_text(render_certificate(facts, bundle, lang=lang)))
    for needle in expected + [
        "KZ-2026-000123",
        "2026-03-14 09:26:53 UTC",
        "2026-03-14 14:26:53 UTC+05:00",
        "Әлия Ғабитқызы Қоңырбаева",
        facts.files[0].sha256,
        facts.fingerprint_digest,
        facts.ledger.checkpoint.root_hash,
        "tamga-verify certificate.pdf --file original",
        "CC BY-NC 4.0",
        "Suno v4",
    ]:
        assert needle in text, f"{needle!r} missing in {lang}"
    for needle in absent:
        assert needle not in text


def test_default_layout_is_kazakh_with_russian():
    facts, bundle = make_facts()
    text = _flat(_text(render_certificate(facts, bundle)))
    assert text.index("ТІРКЕУ ТУРАЛЫ КУӘЛІК") < text.index("СВИДЕТЕЛЬСТВО О РЕГИСТРАЦИИ")
    assert "Тіркелген уақыты" in text and "Дата и время регистрации" in text


def test_kazakh_letters_come_out_as_text():
    facts, bundle = make_facts(registrant="Ә Ғ Қ Ң Ө Ұ Ү Һ І ә ғ қ ң ө ұ ү һ і")
    text = _text(render_certificate(facts, bundle, lang="kk"))
    for letter in KAZAKH_LETTERS:
        assert letter in text, letter


def test_every_author_file_and_proof_hash_is_printed():
    facts, bundle = make_facts(leaf_index=700, tree_size=1000)
    text = _flat(_text(render_certificate(facts, bundle, lang="en")))
    assert len(facts.ledger.inclusion_proof) == 10
    for digest in facts.ledger.inclusion_proof:
        assert digest in text
    for line in facts.ledger.checkpoint.signatures:
        assert line.split()[-1] in text.replace(" ", "") or line.split()[-1] in text
    for author in facts.authors:
        assert author.name in text
    assert "1000" in text and "700" in text


def test_ledger_index_and_tree_size_printed():
    facts, bundle = make_facts(leaf_index=3, tree_size=4)
    text = _flat(_text(render_certificate(facts, bundle, lang="en")))
    assert "Ledger entry index 3" in text
    assert "tree size: 4" in text


def test_single_entry_tree_says_the_proof_is_empty():
    facts, bundle = make_facts(leaf_index=0, tree_size=1)
    text = _flat(_text(render_certificate(facts, bundle, lang="en")))
    assert "empty: the entry is the root of the tree" in text


def test_status_other_than_registered_is_announced():
    facts, bundle = make_facts(status="withdrawn")
    text = _flat(_text(render_certificate(facts, bundle, lang="kk+ru")))
    assert "Мәртебесі · Статус: Кері қайтарып алынған / Отозвано" in text


def test_unpublished_work_without_optional_fields():
    facts, bundle = make_facts(
        published=False, original_title=None, licence=None, created_on=None, ai_use="none",
        ai_tools=(), human_contribution=None, iscc=None, fingerprint_digest=None,
        fingerprint_kind=None, authors=(Author("Сәуле Нұрова", "author"),),
    )
    text = _flat(_text(render_certificate(facts, bundle, lang="ru")))
    assert "Не опубликовано" in text and "ИИ не использовался" in text
    assert "не указано" in text and "ISCC" not in text
    assert "%" not in text.split("Сәуле Нұрова")[1].split("Дата создания")[0]


# -- fonts, QR, proof, determinism ----------------------------------------------------------


def _fonts(pdf: bytes) -> dict[str, bool]:
    """Base font name -> whether a TrueType program (FontFile2) is embedded."""
    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            desc = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            name = str(font["/BaseFont"])
            found[name] = bool(desc) and "/FontFile2" in desc.get_object()
    return found


def test_fonts_are_embedded_truetype_subsets():
    facts, bundle = make_facts()
    fonts = _fonts(render_certificate(facts, bundle))
    names = {name.split("+")[-1] for name in fonts}
    assert {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"} <= names
    assert all(fonts.values()), fonts


def test_qr_code_links_to_the_verification_page():
    facts, bundle = make_facts()
    page = PdfReader(io.BytesIO(render_certificate(facts, bundle))).pages[0]
    uris = [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", [])]
    assert uris == [facts.verify_url]
    rect = [float(v) for v in page["/Annots"][0].get_object()["/Rect"]]
    # kk+ru (the default) takes the compact size
    assert rect[2] - rect[0] == pytest.approx(rect[3] - rect[1]) == pytest.approx(QR_SIZE_COMPACT)
    assert rect[1] > 600  # beside the title, at the top of the first page
    # The QR modules are drawn as many filled rectangles inside that square.
    content = page.get_contents().get_data().decode("latin-1")
    assert content.count(" re") > 100


def test_embedded_proof_is_the_input_bytes():
    facts, bundle = make_facts()
    pdf = render_certificate(facts, bundle, sign=_signer)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments[PROOF_ATTACHMENT] == [bundle]
    assert list(reader.attachments) == [PROOF_ATTACHMENT]


def test_dict_bundle_is_embedded_as_canonical_json():
    facts, bundle = make_facts()
    as_dict = json.loads(bundle)
    pdf = render_certificate(facts, as_dict)
    embedded = PdfReader(io.BytesIO(pdf)).attachments[PROOF_ATTACHMENT][0]
    assert embedded == canonical_json(as_dict)


def test_same_facts_give_identical_bytes():
    facts, bundle = make_facts()
    first = render_certificate(facts, bundle, sign=_signer)
    second = render_certificate(facts, bundle, sign=_signer)
    assert first == second
    other = render_certificate(dataclasses.replace(facts, registrant="Басқа"), bundle)
    assert other != render_certificate(facts, bundle)
    ids = {PdfReader(io.BytesIO(pdf)).trailer["/ID"][0] for pdf in (first, other)}
    assert len(ids) == 2  # a reproducible, yet per-document, file identifier


@pytest.mark.parametrize(("lang", "code"), [("kk+ru", "kk"), ("ru", "ru"), ("en", "en")])
def test_document_language_is_declared(lang: str, code: str):
    facts, bundle = make_facts()
    root = PdfReader(io.BytesIO(render_certificate(facts, bundle, lang=lang))).trailer["/Root"]
    assert root["/Lang"] == code


def test_fonts_come_from_the_package_not_the_system():
    from reportlab.pdfbase import pdfmetrics

    from registry.core.certificates.fonts import FONT_DIR, MONO, SANS, SANS_BOLD, register_fonts

    register_fonts()
    for name in (SANS, SANS_BOLD, MONO):
        assert Path(pdfmetrics.getFont(name).face.filename).parent == FONT_DIR
    assert "Bitstream" in (FONT_DIR / "LICENSE").read_text(encoding="utf-8")


def test_document_dates_are_the_registration_time():
    facts, bundle = make_facts()
    info = PdfReader(io.BytesIO(render_certificate(facts, bundle))).metadata
    assert info["/CreationDate"] == "D:20260314092653+00'00'"
    assert info["/ModDate"] == info["/CreationDate"]
    assert "KZ-2026-000123" in info["/Title"]


# -- long content ---------------------------------------------------------------------------


def test_long_content_wraps_on_at_most_two_pages():
    files = [
        WorkFile("main" if i == 0 else "supporting",
                 f"очень-длинное-имя-файла-{i}-" + "ә" * 90 + ".flac",
                 hashlib.sha256(bytes([i])).hexdigest())
        for i in range(5)
    ]
    authors = tuple(
        Author(f"Автор Нөмір{i} Өте-Ұзақ-Тегі-Бар-Адам Құрманғазыұлы", role, 20)
        for i, role in enumerate(["composer", "lyricist", "arranger", "producer", "performer"])
    )
    long_title = " ".join(["Ұзақ атауы бар туынды, ол бірнеше жолға бөлінуі керек"] * 6)
    facts, bundle = make_facts(
        files=files, authors=authors, title=long_title, leaf_index=123_456,
        tree_size=131_073, human_contribution="Шығармашылық үлес. " * 20,
        publication_url="https://example.kz/" + "x" * 120,
    )
    pdf = render_certificate(facts, bundle)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert 1 <= len(pages) <= 2
    text = _flat(_text(pdf))
    assert "Құрманғазыұлы" in text and files[-1].sha256 in text
    for digest in facts.ledger.inclusion_proof:
        assert digest in text


@pytest.mark.parametrize("lang", ["kk", "ru", "en", "ky", "uz"])
@pytest.mark.parametrize("tree", [{}, {"leaf_index": 700, "tree_size": 1000}])
def test_typical_single_language_certificate_fits_on_one_page(lang: str, tree: dict):
    """With a ten-hash inclusion proof the roomy layout spilt onto a second page; it
    is then set compact."""
    facts, bundle = make_facts(**tree)
    assert len(PdfReader(io.BytesIO(render_certificate(facts, bundle, lang=lang))).pages) == 1


def test_typical_bilingual_certificate_fits_on_one_page():
    """Issue 20: the kk+ru certificate used to spill its verification notes (four
    lines) onto a mostly blank second page."""
    facts, bundle = make_facts(leaf_index=700, tree_size=1000)
    pages = PdfReader(io.BytesIO(render_certificate(facts, bundle))).pages
    assert len(pages) == 1
    text = _flat(pages[0].extract_text())
    assert facts.files[-1].sha256 in text and facts.iscc in text
    assert "tamga-verify certificate.pdf --file original" in text
    assert "Онлайн-проверка" in text and "Онлайн тексеру" in text


def _key_frames(count: int = 8, size: tuple[int, int] = (240, 135)) -> tuple:
    """Real JPEG key frames (the fixture photographs) with their times."""
    from PIL import Image

    names = ("landscape", "shapes", "texture", "other_landscape", "other_shapes", "gradient")
    folder = Path(__file__).resolve().parents[1] / "fixtures" / "images"
    frames = []
    for i in range(count):
        out = io.BytesIO()
        with Image.open(folder / f"{names[i % len(names)]}.jpg") as im:
            picture = im.convert("RGB").rotate(90 * (i // len(names)))  # twelve different
            picture.resize(size).save(out, "JPEG", quality=80)
        frames.append((i * 75.5 + 2.0, out.getvalue()))
    return tuple(frames)


@pytest.mark.parametrize("lang", ["kk+ru", "en", "uz+ru"])
@pytest.mark.parametrize("size", [(240, 135), (240, 426)])
def test_video_key_frames_are_printed_and_the_page_stays_one(lang: str, size: tuple):
    """A video's key frames (landscape or vertical) are on the certificate, six
    of the twelve evenly spread, each with its time, and the bilingual certificate still
    fits one page."""
    facts, bundle = make_facts(leaf_index=700, tree_size=1000, work_type="audiovisual",
                               fingerprint_kind="video", key_frames=_key_frames(12, size))
    pdf = render_certificate(facts, bundle, lang=lang)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = _flat(reader.pages[0].extract_text())
    times = [f"{int(t) // 60}:{int(t) % 60:02d}" for t, _ in facts.key_frames]
    shown = [times[i] for i in (0, 2, 4, 7, 9, 11)]
    assert all(t in text for t in shown) and times[1] not in text
    assert len(reader.pages[0].images) == 6
    assert facts.iscc in text and "tamga-verify certificate.pdf --file original" in text


def test_no_key_frames_no_strip():
    facts, bundle = make_facts()
    pdf = render_certificate(facts, bundle, lang="en")
    assert "Key frames" not in _text(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0


# -- signature and offline verification -----------------------------------------------------


def test_signed_certificate_verifies_offline():
    facts, bundle = make_facts()
    pdf = render_certificate(facts, bundle, sign=_signer)
    assert pdf.splitlines()[-1].startswith(f"%TAMGA-SIGNATURE {KEY.name} ".encode())
    assert verify_pdf_signature(pdf, [KEY.vkey]).ok
    checks = verify_certificate(pdf, [KEY.vkey], file_sha256=hashlib.sha256(MAIN_AUDIO).hexdigest())
    assert [c.name for c in checks if not c.ok] == []
    assert len(checks) == 6


def test_one_changed_byte_breaks_the_signature():
    facts, bundle = make_facts()
    pdf = bytearray(render_certificate(facts, bundle, sign=_signer))
    pdf[len(pdf) // 2] ^= 0x01
    assert not verify_pdf_signature(bytes(pdf), [KEY.vkey]).ok


def test_signer_sees_the_finished_pdf():
    facts, bundle = make_facts()
    seen: list[bytes] = []

    def spy(pdf: bytes) -> bytes:
        seen.append(pdf)
        return pdf + b"signed"

    out = render_certificate(facts, bundle, sign=spy)
    assert out == seen[0] + b"signed"
    assert seen[0] == render_certificate(facts, bundle)
    assert seen[0].endswith(b"%%EOF\n")


# -- refusals and time zones ----------------------------------------------------------------


def test_printed_ledger_facts_must_match_the_bundle():
    facts, _ = make_facts(leaf_index=5, tree_size=13)
    _, other_bundle = make_facts(leaf_index=6, tree_size=13)
    with pytest.raises(ValidationFailed, match="differ from the proof bundle"):
        render_certificate(facts, other_bundle)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"registered_at": datetime(2026, 3, 14, 9, 0)}, "timezone-aware"),
        ({"work_type": "novel"}, "unknown work_type"),
        ({"status": "deleted"}, "unknown status"),
        ({"authors": (Author("A", "composer", 70), Author("B", "lyricist", 40))}, "100 %"),
        ({"files": [WorkFile("main", "a.wav", "ABC")]}, "SHA-256"),
        ({"verify_url": "javascript:alert(1)"}, "verify_url"),
        ({"key_frames": ((1.0, b"GIF89a not a jpeg"),)}, "key frame"),
    ],
)
def test_invalid_facts_are_refused(change: dict[str, object], message: str):
    facts, bundle = make_facts()
    with pytest.raises(ValidationFailed, match=message):
        render_certificate(dataclasses.replace(facts, **change), bundle)


@pytest.mark.parametrize("lang", ["de", "kk+kk", "kk+ru+en", ""])
def test_unknown_language_is_refused(lang: str):
    facts, bundle = make_facts()
    with pytest.raises(ValidationFailed, match="language"):
        render_certificate(facts, bundle, lang=lang)


def test_malformed_bundle_is_refused():
    facts, _ = make_facts()
    with pytest.raises(ValidationFailed, match="tamga-proof/1"):
        render_certificate(facts, b'{"format": "other"}')


def test_almaty_is_utc_plus_five_since_march_2024():
    after = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    before = datetime(2024, 2, 29, 17, 59, tzinfo=UTC)
    assert to_almaty(after).utcoffset().total_seconds() == 5 * 3600
    assert to_almaty(before).utcoffset().total_seconds() == 6 * 3600
    assert format_almaty(datetime(2026, 12, 31, 20, 30, tzinfo=UTC)) == (
        "2027-01-01 01:30:00 UTC+05:00"
    )


# -- look at it -----------------------------------------------------------------------------


def test_render_samples_for_review():
    """Writes one sample per language to test-artifacts/ and rasterises it with pdftoppm."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    facts, bundle = make_facts(leaf_index=700, tree_size=1000)
    for lang in ("kk+ru", "kk", "ru", "en"):
        pdf = render_certificate(facts, bundle, lang=lang, sign=_signer)
        path = ARTIFACTS / f"certificate-{lang.replace('+', '-')}.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", str(path), str(path.with_suffix(""))], check=True
        )
        assert path.with_suffix("").with_name(path.stem + "-1.png").exists()


def test_extreme_statement_flows_over_pages_without_error():
    facts, bundle = make_facts(human_contribution="Өте ұзақ мәлімдеме. " * 400)
    pdf = render_certificate(facts, bundle)
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 3
    assert _text(pdf).count("мәлімдеме.") == 400  # nothing lost where rows split


def test_same_bytes_in_another_process_with_another_hash_seed():
    """No set/dict ordering or per-process state leaks into the file."""
    code = (
        "import hashlib, importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('tc', {str(Path(__file__))!r})\n"
        "tc = importlib.util.module_from_spec(spec); spec.loader.exec_module(tc)\n"
        "facts, bundle = tc.make_facts()\n"
        "pdf = tc.render_certificate(facts, bundle, sign=tc._signer)\n"
        "sys.stdout.write(hashlib.sha256(pdf).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    facts, bundle = make_facts()
    expected = hashlib.sha256(render_certificate(facts, bundle, sign=_signer)).hexdigest()
    assert out.stdout == expected
