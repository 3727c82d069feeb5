"""Shared building blocks of Tamga's PDFs: page frame, styles, multilingual text.

Both the registration certificate and the comparison report use them, so the
two documents look like one family and translate the same way.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, TextStringObject
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Table,
)
from reportlab.platypus.tables import TableStyle

from .fonts import MONO, SANS, SANS_BOLD, register_fonts
from .i18n import label, parse_lang, term

INK = colors.HexColor("#1c2733")
TEAL = colors.HexColor("#1d4e5f")
GOLD = colors.HexColor("#b08d3c")
GREY = colors.HexColor("#5b6770")
RULE = colors.HexColor("#c9d3d8")
PALE = colors.HexColor("#f3f6f7")
ALERT = colors.HexColor("#9b2c2c")
ALERT_PALE = colors.HexColor("#fbeaea")

PAGE_W, PAGE_H = A4
OUTER = 14.0  # outer border inset
INNER = 18.0  # inner border inset
BAND_H = 52.0  # header band height
MARGIN_X = 34.0
FRAME_TOP = PAGE_H - INNER - BAND_H - 10.0
FRAME_BOTTOM = 40.0
FRAME_W = PAGE_W - 2 * MARGIN_X


def esc(text: object) -> str:
    """User text made safe for reportlab's Paragraph markup."""
    return escape(str(text))


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("base", fontName=SANS, fontSize=9, leading=11.5, textColor=INK)
    return {
        "base": base,
        "label": ParagraphStyle("label", base, fontSize=8, leading=9.6, textColor=INK),
        "value": base,
        "title_value": ParagraphStyle("title_value", base, fontSize=11, leading=14),
        "mono": ParagraphStyle("mono", base, fontName=MONO, fontSize=7.6, leading=9.6),
        "mono_small": ParagraphStyle("mono_small", base, fontName=MONO, fontSize=6.8, leading=8.6),
        "doc_title": ParagraphStyle(
            "doc_title",
            base,
            fontName=SANS_BOLD,
            fontSize=18,
            leading=23,
            alignment=TA_CENTER,
            textColor=TEAL,
        ),
        "doc_subtitle": ParagraphStyle(
            "doc_subtitle", base, fontSize=12.5, leading=16, alignment=TA_CENTER, textColor=GREY
        ),
        "doc_number_label": ParagraphStyle(
            "doc_number_label", base, fontSize=7.4, leading=9, alignment=TA_CENTER,
            textColor=GREY, spaceBefore=6,
        ),
        "doc_number": ParagraphStyle(
            "doc_number", base, fontName=SANS_BOLD, fontSize=14, leading=17,
            alignment=TA_CENTER, textColor=INK,
        ),
        "score": ParagraphStyle(
            "score", base, fontName=SANS_BOLD, fontSize=20, leading=24, textColor=INK
        ),
        "section": ParagraphStyle(
            "section", base, fontName=SANS_BOLD, fontSize=10, leading=13, textColor=TEAL
        ),
        "value_right": ParagraphStyle("value_right", base, alignment=TA_RIGHT),
        "note": ParagraphStyle("note", base, fontSize=7.8, leading=10, spaceAfter=3),
        "note_compact": ParagraphStyle("note_compact", base, fontSize=6.9, leading=8.1,
                                       spaceAfter=1),
        "note_center": ParagraphStyle(
            "note_center", base, fontSize=7.8, leading=10, alignment=TA_CENTER
        ),
        "command": ParagraphStyle(
            "command",
            base,
            fontName=MONO,
            fontSize=8.4,
            leading=11,
            spaceBefore=1,
            spaceAfter=4,
            textColor=TEAL,
        ),
        "banner": ParagraphStyle(
            "banner",
            base,
            fontName=SANS_BOLD,
            fontSize=10,
            leading=13,
            alignment=TA_CENTER,
            textColor=ALERT,
        ),
    }


class Multilingual:
    """Renders labels and vocabulary terms in one or two languages."""

    def __init__(self, lang: str) -> None:
        self.langs = parse_lang(lang)
        self.primary = self.langs[0]

    def texts(self, make: Callable[[str], str]) -> list[str]:
        """One string per language, duplicates dropped (``Лицензия`` twice reads badly)."""
        out: list[str] = []
        for code in self.langs:
            text = make(code)
            if text not in out:
                out.append(text)
        return out

    def label(self, key: str) -> list[str]:
        return self.texts(lambda lang: label(key, lang))

    def term(self, vocabulary: str, code: str) -> list[str]:
        return self.texts(lambda lang: term(vocabulary, code, lang))

    def inline(self, texts: Sequence[str], sep: str = " / ") -> str:
        """Markup: the first language in ink, the others greyed, on one line."""
        first, *rest = [esc(t) for t in texts]
        return first + "".join(f'{sep}<font color="{GREY.hexval()}">{t}</font>' for t in rest)

    def stacked(self, texts: Sequence[str], size: float = 7.2) -> str:
        """Markup: the first language bold, the others smaller and grey below it."""
        first, *rest = [esc(t) for t in texts]
        lines = [f"<b>{first}</b>"]
        lines += [f'<font size="{size}" color="{GREY.hexval()}">{t}</font>' for t in rest]
        return "<br/>".join(lines)


def fitted(text: str, style: ParagraphStyle, width: float, smallest: float = 11.0) -> Paragraph:
    """A one-line heading, its font reduced (down to ``smallest``) so it needs no wrap."""
    size = style.fontSize
    natural = stringWidth(text, style.fontName, size)
    if natural > width:
        size = max(smallest, size * width / natural * 0.98)
    fitted_style = ParagraphStyle(f"{style.name}-fitted", style, fontSize=size,
                                  leading=style.leading * size / style.fontSize)
    return Paragraph(esc(text), fitted_style)


def table_style(commands: Sequence[tuple[Any, ...]]) -> TableStyle:
    """A table style whose base font is ours (reportlab's default is Helvetica)."""
    return TableStyle([("FONT", (0, 0), (-1, -1), SANS, 9), *commands])


def kv_table(
    rows: Sequence[tuple[Flowable, Flowable | list[Flowable]]],
    label_w: float,
    side: Flowable | list[Flowable] | None = None,
    side_w: float = 0.0,
    compact: bool = False,
) -> Table:
    """The two-column label/value table every section uses.

    ``side`` (a QR code, a picture) sits in a third column spanning all rows.
    ``compact`` tightens the rows (two-language certificates, so they fit one page).
    """
    data = [list(row) for row in rows]
    widths = [label_w, FRAME_W - label_w - side_w]
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 1 if compact else 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 if compact else 3),
        ("LINEBELOW", (0, 0), (1, -1), 0.3, RULE),
        ("BACKGROUND", (0, 0), (0, -1), PALE),
    ]
    if side is not None:
        for i, row in enumerate(data):
            row.append(side if i == 0 else "")
        widths.append(side_w)
        commands += [("SPAN", (2, 0), (2, -1)), ("ALIGN", (2, 0), (2, -1), "CENTER"),
                     ("LEFTPADDING", (2, 0), (2, -1), 10), ("RIGHTPADDING", (2, 0), (2, -1), 0)]
    table = Table(data, colWidths=widths, splitByRow=1, splitInRow=1 if side is None else 0)
    table.setStyle(table_style(commands))
    return table


def wide_block(label: Flowable, content: Flowable | list[Flowable]) -> KeepTogether:
    """A full-width block: a shaded label line above long content (proof, signature)."""
    table = Table([[label], [content]], colWidths=[FRAME_W], splitByRow=1)
    table.setStyle(
        table_style(
            [
                ("BACKGROUND", (0, 0), (-1, 0), PALE),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, 0), 3),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 3),
                ("TOPPADDING", (0, 1), (-1, 1), 3),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 4),
                ("LINEBELOW", (0, 1), (-1, 1), 0.3, RULE),
            ]
        )
    )
    return KeepTogether([table])


def section_heading(ml: Multilingual, key: str, style: ParagraphStyle) -> Table:
    """A section title with a teal rule under it."""
    text = ml.inline(ml.label(key), sep=" · ")
    table = Table([[Paragraph(text, style)]], colWidths=[FRAME_W])
    table.setStyle(
        table_style(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.9, TEAL),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 10),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    table.spaceAfter = 3  # keeps the rule clear of the next table's shading
    table.keepWithNext = True  # never orphaned at the foot of a page
    return table


def wrap_mono(text: str, width: int) -> str:
    """Hard-wrap an unbreakable token (hash, signature) every ``width`` characters."""
    return "<br/>".join(esc(text[i : i + width]) for i in range(0, len(text), width)) or "-"


class PageDecor:
    """Draws the border, header band and footer of every page."""

    def __init__(self, ml: Multilingual, band_right: list[str], footer_left: str) -> None:
        self.ml = ml
        self.band_right = band_right
        self.footer_left = footer_left

    def __call__(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        self._border(canvas)
        self._band(canvas)
        self._footer(canvas, doc.page)
        canvas.restoreState()

    def _border(self, canvas: Canvas) -> None:
        canvas.setStrokeColor(TEAL)
        canvas.setLineWidth(1.4)
        canvas.rect(OUTER, OUTER, PAGE_W - 2 * OUTER, PAGE_H - 2 * OUTER)
        canvas.setStrokeColor(GOLD)
        canvas.setLineWidth(0.5)
        canvas.rect(INNER, INNER, PAGE_W - 2 * INNER, PAGE_H - 2 * INNER)

    def _band(self, canvas: Canvas) -> None:
        top = PAGE_H - INNER
        canvas.setFillColor(TEAL)
        canvas.rect(INNER, top - BAND_H, PAGE_W - 2 * INNER, BAND_H, stroke=0, fill=1)
        canvas.setFillColor(GOLD)
        canvas.rect(INNER, top - BAND_H - 2.2, PAGE_W - 2 * INNER, 2.2, stroke=0, fill=1)
        self._emblem(canvas, INNER + 30, top - BAND_H / 2)
        canvas.setFillColor(colors.white)
        canvas.setFont(SANS_BOLD, 20)
        names = self.ml.label("registry_name")[:2]
        title_y = top - 24 if len(names) == 1 else top - 21
        canvas.drawString(INNER + 54, title_y, "TAMGA")
        canvas.setFont(SANS, 7.2)
        for i, name in enumerate(names):
            canvas.drawString(INNER + 54, title_y - 11 - 8.6 * i, name)
        # Right side: small caption lines, then the key value (registration number) large.
        right = PAGE_W - INNER - 14
        *captions, key = self.band_right
        canvas.setFont(SANS, 7.2)
        for i, line in enumerate(captions):
            canvas.drawRightString(right, top - 17 - 8.6 * i, line)
        canvas.setFont(SANS_BOLD, 12.5)
        canvas.drawRightString(right, top - 21 - 8.6 * len(captions) - 4, key)

    @staticmethod
    def _emblem(canvas: Canvas, cx: float, cy: float) -> None:
        """A simple tamga-like seal: a gold ring with a forked mark."""
        canvas.setStrokeColor(GOLD)
        canvas.setLineWidth(1.6)
        canvas.circle(cx, cy, 15, stroke=1, fill=0)
        canvas.setLineWidth(2.2)
        canvas.setLineCap(1)
        path = canvas.beginPath()
        path.moveTo(cx, cy - 9)
        path.lineTo(cx, cy + 3)
        path.moveTo(cx - 7, cy + 9)
        path.curveTo(cx - 7, cy + 3, cx - 4, cy + 1, cx, cy + 1)
        path.curveTo(cx + 4, cy + 1, cx + 7, cy + 3, cx + 7, cy + 9)
        path.moveTo(cx - 5, cy - 9)
        path.lineTo(cx + 5, cy - 9)
        canvas.drawPath(path, stroke=1, fill=0)

    def _footer(self, canvas: Canvas, page: int) -> None:
        canvas.setFont(SANS, 7)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN_X, INNER + 9, self.footer_left)
        page_word = " / ".join(self.ml.label("page"))
        canvas.drawRightString(PAGE_W - MARGIN_X, INNER + 9, f"{page_word} {page}")


def _seeded_canvas(seed: bytes) -> type[Canvas]:
    """A canvas whose document ``/ID`` is derived from ``seed``.

    In invariant mode reportlab gives every document the same ``/ID``; feeding
    the seed into its ID digest keeps the output reproducible while two
    different certificates still get different identifiers.
    """

    class SeededCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._doc.updateSignature(seed)

    return SeededCanvas


def build_pdf(
    story: list[Flowable],
    decor: PageDecor,
    *,
    title: str,
    subject: str,
    keywords: str = "",
    id_seed: bytes = b"",
) -> bytes:
    """Lay out ``story`` on A4 pages; invariant mode keeps the bytes reproducible."""
    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        invariant=1,
        pageCompression=1,
        title=title,
        author="Tamga",
        subject=subject,
        creator="Tamga registry",
        keywords=keywords,
        lang=decor.ml.primary,  # the catalogue /Lang, for screen readers
        initialFontName=SANS,
        initialFontSize=9,
    )
    frame = Frame(MARGIN_X, FRAME_BOTTOM, FRAME_W, FRAME_TOP - FRAME_BOTTOM, 0, 0, 0, 0)
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=decor)])
    doc.build(story, canvasmaker=_seeded_canvas(id_seed))
    return out.getvalue()


def pdf_date(moment: datetime) -> str:
    """A PDF date string (``D:YYYYMMDDHHmmSS+00'00'``) in UTC."""
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def finish_pdf(
    pdf: bytes,
    *,
    dated: datetime,
    attachments: Sequence[tuple[str, bytes, str, str]] = (),
) -> bytes:
    """Embed files and fix the document dates; the output is byte-reproducible.

    Each attachment is ``(name, data, mime type, description)``. pypdf keeps the
    deterministic ``/ID`` reportlab wrote (it only invents one when encrypting).
    """
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for name, data, mime, description in attachments:
        embedded = writer.add_attachment(name, data)
        embedded.subtype = NameObject("/" + mime)  # written as /application#2Fjson
        embedded.size = NumberObject(len(data))
        embedded.description = TextStringObject(description)
        embedded.alternative_name = TextStringObject(name)
        embedded.associated_file_relationship = NameObject("/Data")
    stamp = pdf_date(dated)
    writer.add_metadata({"/CreationDate": stamp, "/ModDate": stamp})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
