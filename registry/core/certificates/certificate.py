"""The PDF certificate of registration of one work.

``render_certificate`` lays out the facts in one or two languages, embeds the
machine-readable proof bundle as ``tamga-proof.json`` and hands the finished
bytes to the registry's signer, so that the PDF alone is enough to verify.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, Spacer, Table

from .facts import (
    Author,
    CertificateFacts,
    WorkFile,
    canonical_bundle_bytes,
    check_bundle_matches,
    validate_facts,
)
from .fonts import MONO
from .i18n import DEFAULT_LANG, label, term
from .layout import (
    ALERT,
    ALERT_PALE,
    FRAME_W,
    GREY,
    INK,
    TEAL,
    Multilingual,
    PageDecor,
    build_pdf,
    esc,
    finish_pdf,
    fitted,
    kv_table,
    section_heading,
    styles,
    table_style,
    wide_block,
    wrap_mono,
)
from .timezones import format_almaty, format_utc

PROOF_ATTACHMENT = "tamga-proof.json"
LABEL_W = 150.0
QR_SIZE = 78.0
QR_SIZE_COMPACT = 58.0  # two languages: still scans at 300 dpi print and phone distance
PROOF_COLUMNS = 2
SHARE_W = 36.0
KEY_FRAMES_SHOWN = 6
KEY_FRAME_H = 19.0
KEY_FRAME_H_COMPACT = 14.0  # the grid stays as tall as the QR code beside the title
OFFLINE_COMMAND = "tamga-verify certificate.pdf --file original"

Signer = Callable[[bytes], bytes]


def render_certificate(
    facts: CertificateFacts,
    proof_json: bytes | Mapping[str, Any],
    *,
    lang: str = DEFAULT_LANG,
    sign: Signer | None = None,
) -> bytes:
    """The certificate PDF: same facts and proof give the same bytes.

    ``lang`` is ``"kk"``, ``"ru"``, ``"en"`` or two of them joined by ``+``
    (default ``"kk+ru"``). ``proof_json`` is the ``tamga-proof/1`` bundle; the
    ledger facts printed must be the ones it carries. ``sign`` receives the
    finished PDF and returns it signed (``%TAMGA-SIGNATURE`` line appended).
    """
    validate_facts(facts)
    check_bundle_matches(facts.ledger, proof_json)
    bundle_bytes = canonical_bundle_bytes(proof_json)
    ml = Multilingual(lang)
    title = f"{' / '.join(ml.label('certificate_title'))} {facts.registration_number}"
    # Two languages are always set compact; one language only when the roomy
    # layout would spill onto a second page.
    for compact in (False, True) if len(ml.langs) == 1 else (True,):
        builder = _CertificateBuilder(facts, ml, compact=compact)
        pdf = build_pdf(
            builder.story(),
            builder.decor(),
            title=title,
            subject=facts.title,
            keywords=f"Tamga, {facts.registration_number}",
            id_seed=hashlib.sha256(repr((lang, facts)).encode() + bundle_bytes).digest(),
        )
        if _page_count(pdf) == 1:
            break
    description = "Tamga proof bundle: ledger entry, inclusion proof, signed checkpoint"
    pdf = finish_pdf(
        pdf,
        dated=facts.registered_at,
        attachments=[
            (PROOF_ATTACHMENT, bundle_bytes, "application/json", description)
        ],
    )
    return sign(pdf) if sign is not None else pdf


CONFIRMATION_KEYS = {"confirmed": "coauthor_confirmed", "pending": "coauthor_pending",
                     "declined": "coauthor_declined"}


class _CertificateBuilder:
    """Turns facts into reportlab flowables; one method per block of the page."""

    def __init__(self, facts: CertificateFacts, ml: Multilingual, *, compact: bool) -> None:
        self.facts = facts
        self.ml = ml
        self.compact = compact
        self.st = styles()
        if self.compact:
            self.st["label"] = ParagraphStyle("label_compact", self.st["label"], leading=8.8)
            self.st["value"] = ParagraphStyle("value_compact", self.st["value"], leading=10.1)
            self.st["mono"] = ParagraphStyle("mono_compact", self.st["mono"], leading=8.8)
            self.st["mono_small"] = ParagraphStyle("mono_small_compact", self.st["mono_small"],
                                                   leading=8.0)
            self.st["title_value"] = ParagraphStyle("title_compact", self.st["title_value"],
                                                    leading=12.5)
            for name, size, lead in (("doc_title", 16, 19), ("doc_subtitle", 11, 13.5),
                                     ("doc_number", 13, 15.5)):
                self.st[name] = ParagraphStyle(f"{name}_compact", self.st[name],
                                               fontSize=size, leading=lead)
            self.st["doc_number_label"] = ParagraphStyle(
                "doc_number_label_compact", self.st["doc_number_label"], spaceBefore=2)

    def decor(self) -> PageDecor:
        number_label = " / ".join(self.ml.label("registration_number"))
        return PageDecor(
            self.ml,
            band_right=[number_label, self.facts.registration_number],
            footer_left=f"Tamga · {self.facts.registration_number}",
        )

    def story(self) -> list[Flowable]:
        story: list[Flowable] = [*self._title(), *self._status_banner()]
        story.append(kv_table(self._work_rows(), LABEL_W, compact=self.compact))
        story.append(section_heading(self.ml, "files_section", self.st["section"]))
        story.append(kv_table(self._file_rows(), LABEL_W, compact=self.compact))
        story.append(
            KeepTogether(
                [
                    section_heading(self.ml, "ledger_section", self.st["section"]),
                    kv_table(self._ledger_rows(), LABEL_W, compact=self.compact),
                ]
            )
        )
        if not self.compact:  # compact: the signature is a row of the ledger table
            story.append(wide_block(self._wide_label("signature"), self._signatures()))
        story.append(wide_block(self._wide_label("inclusion_proof"), self._proof()))
        story.append(self._verification())
        return story

    # -- small helpers -------------------------------------------------------------

    def _p(self, markup: str, style: str = "value") -> Paragraph:
        return Paragraph(markup, self.st[style])

    def _label(self, key: str) -> Paragraph:
        return self._p(self.ml.stacked(self.ml.label(key)), "label")

    def _label_texts(self, texts: list[str]) -> Paragraph:
        return self._p(self.ml.stacked(texts), "label")

    def _wide_label(self, key: str) -> Paragraph:
        first, *rest = self.ml.label(key)
        grey = "".join(f' <font color="{GREY.hexval()}">· {esc(t)}</font>' for t in rest)
        return self._p(f"<b>{esc(first)}</b>{grey}", "label")

    def _term(self, vocabulary: str, code: str) -> str:
        return self.ml.inline(self.ml.term(vocabulary, code))

    def _grey(self, markup: str) -> str:
        return f'<font color="{GREY.hexval()}">{markup}</font>'

    def _not_stated(self) -> str:
        return self._grey(self.ml.inline(self.ml.label("not_stated")))

    # -- blocks --------------------------------------------------------------------

    def _title(self) -> list[Flowable]:
        """The title centred on the page, the QR code to the verification page beside it."""
        first, *rest = self.ml.label("certificate_title")
        side = QR_SIZE + 8  # the column keeps its width: its label must not break
        width = FRAME_W - 2 * side
        titles: list[Flowable] = [Spacer(1, 0 if self.compact else 8),
                                  fitted(first.upper(), self.st["doc_title"], width)]
        titles += [fitted(text.upper(), self.st["doc_subtitle"], width) for text in rest]
        number = " / ".join(self.ml.label("registration_number"))
        titles.append(self._p(f"{esc(number)}", "doc_number_label"))
        titles.append(self._p(f"№ {esc(self.facts.registration_number)}", "doc_number"))
        left = self._key_frame_block(side) if self.facts.key_frames else ""
        table = Table([[left, titles, self._qr_block()]], colWidths=[side, width, side])
        table.setStyle(
            table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2 if self.compact else 6),
                ]
            )
        )
        return [table]

    def _status_banner(self) -> list[Flowable]:
        if self.facts.status == "registered":
            return []
        status = " · ".join(self.ml.label("status"))
        value = " / ".join(self.ml.term("status", self.facts.status))
        banner = Table([[self._p(f"{esc(status)}: {esc(value)}", "banner")]], colWidths=[FRAME_W])
        banner.setStyle(
            table_style(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), ALERT_PALE),
                    ("BOX", (0, 0), (-1, -1), 1, ALERT),
                    ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ]
            )
        )
        return [banner, Spacer(1, 6)]

    def _work_rows(self) -> list[tuple[Flowable, Flowable | list[Flowable]]]:
        f = self.facts
        rows: list[tuple[Flowable, Flowable | list[Flowable]]] = [
            (self._label("registered_at"), self._p(self._times())),
            (self._label("registrant"), self._p(esc(f.registrant))),
            (self._label("work_title"), self._title_cell()),
            (self._label("work_type"), self._p(self._term("work_type", f.work_type))),
            (self._label("authors"), self._authors(f.authors)),
            (self._label("created_on"), self._p(self._date(f.created_on))),
            (self._label("publication"), self._p(self._publication())),
            (self._label("ai_declaration"), self._p(self._ai())),
            (self._label("licence"), self._p(self._licence())),
        ]
        return rows

    def _title_cell(self) -> list[Flowable]:
        cell = [self._p(f"<b>{esc(self.facts.title)}</b>", "title_value")]
        if self.facts.original_title:
            label = self.ml.inline(self.ml.label("original_title"))
            cell.append(self._p(f"{self._grey(label)}: {esc(self.facts.original_title)}"))
        return cell

    def _times(self) -> str:
        moment = self.facts.registered_at
        almaty = self.ml.inline(self.ml.label("almaty_time"))
        return f"<b>{format_utc(moment)}</b><br/>{format_almaty(moment)} ({almaty})"

    def _date(self, value: date | str | None) -> str:
        if value is None or value == "":
            return self._not_stated()
        return esc(value.isoformat() if isinstance(value, date) else value)

    def _authors(self, authors: Sequence[Author]) -> Flowable:
        if not authors:
            return self._p(self._not_stated())
        rows = [
            [
                self._p(f"<b>{esc(a.name)}</b>{self._confirmation(a)}"),
                self._p(self._term("role", a.role)),
                self._p(self._percent(a.share) if a.share is not None else "", "value_right"),
            ]
            for a in authors
        ]
        width = FRAME_W - LABEL_W - 8
        rest = width - SHARE_W
        table = Table(rows, colWidths=[rest * 0.53, rest * 0.47, SHARE_W])
        table.setStyle(
            table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return table

    def _confirmation(self, author: Author) -> str:
        """A co-author's answer under their name: confirmed (when), pending or declined."""
        if author.confirmation not in CONFIRMATION_KEYS:
            return ""
        day = author.confirmed_on.isoformat() if author.confirmed_on else ""
        texts = [t.replace("%(date)s", day).strip()
                 for t in self.ml.label(CONFIRMATION_KEYS[author.confirmation])]
        return f'<br/><font size="6.8">{self.ml.inline(texts)}</font>'

    def _percent(self, share: Decimal | float | int) -> str:
        text = format(Decimal(str(share)).normalize(), "f")
        if self.ml.primary in ("kk", "ru"):
            text = text.replace(".", ",")
        return f"{text}\u00a0%"

    def _publication(self) -> str:
        f = self.facts
        if not f.published:
            return self.ml.inline(self.ml.label("not_published"))
        details = [self._date(f.published_on)]
        if f.publication_place:
            details.append(esc(f.publication_place))
        text = f"{self.ml.inline(self.ml.label('published'))}: {', '.join(details)}"
        if f.publication_url:
            text += f"<br/>{self._grey(esc(f.publication_url))}"
        return text

    def _ai(self) -> str:
        f = self.facts
        parts = [self._term("ai_use", f.ai_use)]
        if f.ai_label in ("ai_generated", "ai_assisted"):
            parts.insert(0, f"<b>{self.ml.inline(self.ml.label('ai_label_' + f.ai_label))}</b>")
        if f.credentialed_url:
            label = self.ml.inline(self.ml.label("content_credentials"))
            parts.append(f"{self._grey(label)}: {esc(f.credentialed_url)}")
        if f.ai_tools:
            tools = ", ".join(esc(t) for t in f.ai_tools)
            parts.append(f"{self._grey(self.ml.inline(self.ml.label('ai_tools')))}: {tools}")
        if f.human_contribution:
            label = self.ml.inline(self.ml.label("human_contribution"))
            parts.append(f"{self._grey(label)}: {esc(f.human_contribution)}")
        return "<br/>".join(parts)

    def _licence(self) -> str:
        if not self.facts.licence:
            return self._not_stated()
        return self._term("licence", self.facts.licence)

    def _file_rows(self) -> list[tuple[Flowable, Flowable | list[Flowable]]]:
        f = self.facts
        rows: list[tuple[Flowable, Flowable | list[Flowable]]] = [
            (self._label_texts(self.ml.term("file_role", item.role)), self._file_cell(item))
            for item in f.files
        ]
        if f.fingerprint_digest:
            digest = wrap_mono(f.fingerprint_digest, 64)
            rows.append((self._fingerprint_label(), self._p(digest, "mono")))
        if f.iscc:
            rows.append((self._label("iscc"), self._p(wrap_mono(f.iscc, 64), "mono")))
        return rows

    def _file_cell(self, item: WorkFile) -> list[Flowable]:
        return [self._p(esc(item.name)), self._p(f"SHA-256 {esc(item.sha256)}", "mono")]

    def _fingerprint_label(self) -> Paragraph:
        kind = self.facts.fingerprint_kind
        texts = self.ml.texts(lambda lang: _with_kind(label("fingerprint", lang), kind, lang))
        return self._label_texts(texts)

    def _ledger_rows(self) -> list[tuple[Flowable, Flowable | list[Flowable]]]:
        ledger = self.facts.ledger
        cp = ledger.checkpoint
        size_label = self._grey(self.ml.inline(self.ml.label("tree_size")))
        return [
            (self._label("leaf_index"), self._p(f"<b>{ledger.leaf_index}</b>")),
            (
                self._label("checkpoint"),
                self._p(f"{esc(cp.origin)} · {size_label}: <b>{cp.tree_size}</b>"),
            ),
            (self._label("root_hash"), self._p(esc(cp.root_hash), "mono")),
            (self._label("attestations"), self._p(self.ml.inline(self.ml.texts(
                lambda lang: label("attested_by", lang) % {
                    "n": ledger.timestamps, "m": ledger.cosignatures})))),
        ] + ([(self._label("signature"), self._signatures(width=76))] if self.compact else [])

    def _signatures(self, width: int = 120) -> Flowable:
        lines = self.facts.ledger.checkpoint.signatures
        return self._p("<br/>".join(wrap_mono(line, width) for line in lines), "mono_small")

    def _proof(self) -> Flowable:
        hashes = self.facts.ledger.inclusion_proof
        if not hashes:
            return self._p(self._grey(self.ml.inline(self.ml.label("proof_empty"))))
        cells = [
            self._p(f"{self._grey(f'{i + 1:>2}'.replace(' ', '&nbsp;'))} {esc(h)}", "mono_small")
            for i, h in enumerate(hashes)
        ]
        per_column = -(-len(cells) // PROOF_COLUMNS)
        columns = [cells[i : i + per_column] for i in range(0, len(cells), per_column)]
        columns += [[]] * (PROOF_COLUMNS - len(columns))
        rows = [[col[r] if r < len(col) else "" for col in columns] for r in range(per_column)]
        width = (FRAME_W - 8) / PROOF_COLUMNS
        table = Table(rows, colWidths=[width] * PROOF_COLUMNS)
        table.setStyle(
            table_style(
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
                ]
            )
        )
        return table

    def _key_frame_block(self, width: float) -> list[Flowable]:
        """A video's key frames (at most six, evenly spread) in a 2 x 3 grid, each over its
        time, in the column facing the QR code: the page keeps its height."""
        frames = list(self.facts.key_frames)
        if len(frames) > KEY_FRAMES_SHOWN:
            step = (len(frames) - 1) / (KEY_FRAMES_SHOWN - 1)
            frames = [frames[round(i * step)] for i in range(KEY_FRAMES_SHOWN)]
        box_h = KEY_FRAME_H_COMPACT if self.compact else KEY_FRAME_H
        cell_w = width / 2
        caption = ParagraphStyle("key_frame_time", self.st["mono_small"], fontSize=5.6,
                                 leading=6.4, alignment=TA_CENTER)
        rows: list[list[Any]] = []
        for pair in (frames[i:i + 2] for i in range(0, len(frames), 2)):
            pictures: list[Any] = []
            for _, jpeg in pair:
                w, h = ImageReader(io.BytesIO(jpeg)).getSize()
                scale = min((cell_w - 2) / w, box_h / h)
                pictures.append(Image(io.BytesIO(jpeg), width=w * scale, height=h * scale))
            rows.append(pictures + [""] * (2 - len(pair)))
            rows.append([Paragraph(_mmss(t), caption) for t, _ in pair] + [""] * (2 - len(pair)))
        grid = Table(rows, colWidths=[cell_w, cell_w])
        grid.setStyle(table_style([
            ("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
        ]))
        label = self.ml.stacked(self.ml.label("key_frames"), size=6.2)
        note = ParagraphStyle("key_frame_label", self.st["note_center"], fontSize=6.4, leading=7.4)
        return [grid, Paragraph(label, note)]

    def _qr_block(self) -> list[Flowable]:
        online = self.ml.stacked(self.ml.label("verify_online"), size=7.4)
        return [_QrFlowable(self.facts.verify_url, self._qr_size),
                self._p(online, "note_center")]

    @property
    def _qr_size(self) -> float:
        return QR_SIZE_COMPACT if self.compact else QR_SIZE

    def _verification(self) -> Flowable:
        command = f'<font name="{MONO}" color="{TEAL.hexval()}">{esc(OFFLINE_COMMAND)}</font>'
        style = "note_compact" if self.compact else "note"
        notes: list[Flowable] = [
            self._p(
                f"{esc(label('verify_offline', lang))} {command}. "
                f"{esc(label('verify_offline_checks', lang))}",
                style,
            )
            for lang in self.ml.langs
        ]
        url = esc(self.facts.verify_url)
        online = self.ml.inline(self.ml.label("verify_online"))
        notes.append(self._p(f"{online}: <font name=\"{MONO}\">{url}</font>", style))
        return wide_block(self._wide_label("verification_section"), notes)


def _page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


class _QrFlowable(Flowable):
    """A QR code drawn straight on the canvas, with a link to the same URL over it.

    Drawn module by module (runs merged) rather than through reportlab's
    graphics renderer, which would pull an unembedded Helvetica into the page.
    """

    QUIET_ZONE = 2  # modules of white margin; the cell padding adds the rest

    def __init__(self, url: str, size: float) -> None:
        super().__init__()
        self.url = url
        self.size = size
        self.qr = QRCode(None, QRErrorCorrectLevel.M)
        self.qr.addData(url)
        self.qr.make()

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        count = self.qr.getModuleCount()
        box = self.size / (count + 2 * self.QUIET_ZONE)
        self.canv.setFillColor(INK)
        for r, row in enumerate(self.qr.modules):
            c = 0
            for dark, run in itertools.groupby(bool(m) for m in row):
                n = len(list(run))
                if dark:
                    x = (c + self.QUIET_ZONE) * box
                    y = self.size - (r + 1 + self.QUIET_ZONE) * box
                    self.canv.rect(x, y, n * box, box, stroke=0, fill=1)
                c += n
        self.canv.linkURL(self.url, (0, 0, self.size, self.size), relative=1, thickness=0)


def _mmss(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _with_kind(text: str, kind: str | None, lang: str) -> str:
    return f"{text} ({term('fingerprint_kind', kind, lang)})" if kind else text


def _qr(url: str) -> Flowable:
    return _QrFlowable(url, QR_SIZE)
