"""The comparison report PDF (issue 8): content per language, plot, images, determinism."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from registry.core.certificates.facts import Author
from registry.core.certificates.report import (
    AudioAlignment,
    ComparisonReport,
    Decision,
    ImageComparison,
    Party,
    ReportWork,
    TimelineEvent,
    render_comparison_report,
)
from registry.core.errors import ValidationFailed

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "certificates"


def _jpeg(size: tuple[int, int], crop: bool = False) -> bytes:
    """A small drawn picture; ``crop`` gives the questioned, cropped copy of it."""
    img = Image.new("RGB", (320, 240), (236, 226, 200))
    draw = ImageDraw.Draw(img)
    draw.ellipse((40, 30, 200, 190), fill=(29, 78, 95))
    draw.rectangle((170, 120, 300, 220), fill=(176, 141, 60))
    draw.line((0, 239, 319, 0), fill=(155, 44, 44), width=6)
    if crop:
        img = img.crop((30, 20, 300, 230))
    out = io.BytesIO()
    img.resize(size).save(out, format="JPEG", quality=85)
    return out.getvalue()


def make_report(**changes: object) -> ComparisonReport:
    report = ComparisonReport(
        case_number="D-2026-0042",
        generated_at=datetime(2026, 11, 20, 6, 15, tzinfo=UTC),
        parties=(
            Party("Әлия Қоңырбаева", "claimant"),
            Party("«Ұлы Дала Медиа» ЖШС", "respondent"),
        ),
        query=ReportWork(
            title="Көктем түні (ремикс)",
            registrant="«Ұлы Дала Медиа» ЖШС",
            work_type="sound_recording",
            sha256="b" * 64,
        ),
        work=ReportWork(
            title="Алғашқы көктемгі түн",
            registrant="Әлия Қоңырбаева",
            work_type="musical_work",
            registration_number="KZ-2026-000123",
            registered_at=datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC),
            authors=(Author("Әлия Қоңырбаева", "composer"), Author("Өмір Үсенов", "lyricist")),
            sha256="a" * 64,
        ),
        similarity=0.873,
        audio=AudioAlignment(
            query_duration=212.0,
            work_duration=185.5,
            segments=((12.0, 58.5, 0.0, 46.5), (75.0, 131.0, 60.0, 116.0), (150.0, 190.0, 130.0,
                                                                             170.0)),
        ),
        image=ImageComparison(
            query_jpeg=_jpeg((270, 210), crop=True),
            work_jpeg=_jpeg((320, 240)),
            distances=(("pHash", 6), ("dHash", 9), ("ORB inliers", 143)),
            transformation="crop",
        ),
        timeline=(
            TimelineEvent(date(2026, 3, 14), "Туынды тіркелді / Произведение зарегистрировано"),
            TimelineEvent(date(2026, 10, 2), "Шағым түсті / Поступила жалоба"),
            TimelineEvent(date(2026, 10, 20), "Жауапкер жауап берді / Ответчик ответил"),
        ),
        decision=Decision("upheld", "Жазба 2026-03-14 тіркелген туындымен сәйкес келеді.",
                          date(2026, 11, 19)),
    )
    return dataclasses.replace(report, **changes)


def _text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("kk", ["САЛЫСТЫРУ ЕСЕБІ", "Талапкер", "Жауапкер", "Ұқсастық", "87,3 %",
                "Аудио сәйкестігі", "Қию", "Талап қанағаттандырылды"]),
        ("ru", ["ОТЧЁТ О СРАВНЕНИИ", "Заявитель", "Ответчик", "Сходство", "87,3 %",
                "Совпадение аудио", "Обрезка", "Требование удовлетворено"]),
        ("en", ["COMPARISON REPORT", "Claimant", "Respondent", "Similarity", "87.3 %",
                "Audio alignment", "Crop", "Claim upheld", "not registered"]),
        ("kk+ru", ["САЛЫСТЫРУ ЕСЕБІ", "ОТЧЁТ О СРАВНЕНИИ", "Талапкер", "Заявитель"]),
    ],
)
def test_report_states_the_case_in_each_language(lang: str, expected: list[str]):
    text = _text(render_comparison_report(make_report(), lang=lang))
    for needle in expected + ["D-2026-0042", "KZ-2026-000123", "Әлия Қоңырбаева",
                              "0:12.0 – 0:58.5", "2:30.0 – 3:10.0", "pHash 6",
                              "2026-10-02", "a" * 32]:
        assert needle in text, (lang, needle)


def test_report_embeds_both_thumbnails_as_jpeg():
    pdf = render_comparison_report(make_report())
    images = [img for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
    sizes = sorted(Image.open(io.BytesIO(img.data)).size for img in images)
    assert sizes == [(270, 210), (320, 240)]


def _stroked_lines(pdf: bytes) -> int:
    content = b"".join(p.get_contents().get_data() for p in PdfReader(io.BytesIO(pdf)).pages)
    return content.count(b" l S")


def test_alignment_plot_draws_each_segment():
    with_plot = render_comparison_report(make_report(image=None), lang="en")
    without = render_comparison_report(make_report(image=None, audio=None), lang="en")
    one_more = make_report(image=None)
    assert one_more.audio is not None
    audio = dataclasses.replace(one_more.audio, segments=(*one_more.audio.segments,
                                                           (195.0, 205.0, 172.0, 182.0)))
    four = render_comparison_report(dataclasses.replace(one_more, audio=audio), lang="en")
    # Per segment: one thick line, four dashed guides to the axes, one rule in its table row.
    assert _stroked_lines(four) - _stroked_lines(with_plot) == 6
    assert _stroked_lines(with_plot) - _stroked_lines(without) >= 3 * 5 + 8  # + grid


def test_report_without_optional_evidence():
    report = make_report(audio=None, image=None, timeline=(), decision=None)
    text = _text(render_comparison_report(report, lang="ru"))
    assert "Решение ещё не принято" in text
    assert "Совпадение аудио" not in text and "Сравнение изображений" not in text


def test_report_is_reproducible_and_dated():
    first = render_comparison_report(make_report())
    assert first == render_comparison_report(make_report())
    info = PdfReader(io.BytesIO(first)).metadata
    assert info["/CreationDate"] == "D:20261120061500+00'00'"


def test_signed_report_verifies():
    from registry.core.ledger.keys import sign_pdf, signing_key_from_seed
    from registry.core.tamga_verify import verify_pdf_signature

    key = signing_key_from_seed("tamga.kz-2026", bytes(range(32)))
    pdf = render_comparison_report(
        make_report(), sign=lambda data: sign_pdf(data, key.name, key.private_key)
    )
    assert verify_pdf_signature(pdf, [key.vkey]).ok
    tampered = bytearray(pdf)
    tampered[len(pdf) // 3] ^= 0x20
    assert not verify_pdf_signature(bytes(tampered), [key.vkey]).ok


def test_many_segments_flow_onto_further_pages():
    segments = tuple((i * 5.0, i * 5.0 + 4.0, i * 4.0, i * 4.0 + 3.5) for i in range(60))
    report = make_report(audio=AudioAlignment(300.0, 240.0, segments))
    pdf = render_comparison_report(report, lang="en")
    text = _text(pdf)
    assert "Matched segments: 60" in text and "4:55.0 – 4:59.0" in text


def test_report_fonts_are_embedded():
    pdf = render_comparison_report(make_report())
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert "/FontFile2" in font["/FontDescriptor"].get_object(), font["/BaseFont"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"similarity": 1.2}, "similarity"),
        ({"parties": (Party("X", "judge"),)}, "party role"),
        ({"audio": AudioAlignment(10, 10, ((2, 12, 0, 5),))}, "outside"),
        ({"image": ImageComparison(b"PNG", b"\xff\xd8", ())}, "JPEG"),
        ({"decision": Decision("won", "")}, "outcome"),
    ],
)
def test_report_refuses_invalid_input(change: dict[str, object], message: str):
    with pytest.raises(ValidationFailed, match=message):
        render_comparison_report(make_report(**change))


def test_render_report_samples_for_review():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for lang in ("kk+ru", "en"):
        path = ARTIFACTS / f"report-{lang.replace('+', '-')}.pdf"
        path.write_bytes(render_comparison_report(make_report(), lang=lang))
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", str(path), str(path.with_suffix(""))], check=True
        )
        assert path.with_name(path.stem + "-1.png").exists()


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["Detected change", "speed", "pitch, semitones"]),
    ("ru", ["Обнаруженное изменение", "скорость", "высота тона, полутонов"]),
    ("kk", ["Анықталған өзгеріс", "жылдамдық", "дыбыс биіктігі, жартылай тон"]),
])  # fmt: skip
def test_report_states_the_detected_speed_and_pitch(lang: str, words: list[str]):
    audio = AudioAlignment(12.0, 185.5, ((0.0, 12.0, 20.0, 33.4),), transform=(1.12, 2.0))
    text = _text(render_comparison_report(make_report(audio=audio), lang=lang))
    for needle in [*words, "×1.12", "+2.0"]:
        assert needle in text, (lang, needle)
    plain = _text(render_comparison_report(make_report(), lang=lang))
    assert words[0] not in plain
