"""The comparison report of a dispute: parties, works, similarity, evidence.

Same family as the certificate (fonts, page frame, bilingual labels). The audio
alignment plot and the image pair are drawn with reportlab alone.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from reportlab.lib import colors
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, Spacer, Table

from registry.core.errors import ValidationFailed

from .certificate import Signer
from .facts import Author
from .fonts import MONO, SANS
from .i18n import DEFAULT_LANG, is_known
from .layout import (
    FRAME_W,
    GOLD,
    GREY,
    INK,
    PALE,
    RULE,
    TEAL,
    Multilingual,
    PageDecor,
    build_pdf,
    esc,
    finish_pdf,
    kv_table,
    section_heading,
    styles,
    table_style,
    wrap_mono,
)
from .timezones import format_almaty, format_utc

LABEL_W = 130.0
PLOT_H = 180.0
THUMB_W = (FRAME_W - 24) / 2
THUMB_H = 150.0
VIDEO_THUMB_H = 95.0

Segment = tuple[float, float, float, float]  # query start, query end, work start, work end


@dataclass(frozen=True)
class Party:
    name: str
    role: str  # "claimant" or "respondent"


@dataclass(frozen=True)
class ReportWork:
    """One side of the comparison; an unregistered questioned file has no number."""

    title: str
    registrant: str
    work_type: str
    registration_number: str | None = None
    registered_at: datetime | None = None
    authors: Sequence[Author] = ()
    sha256: str | None = None


@dataclass(frozen=True)
class AudioAlignment:
    """Matched segments, in seconds, of the questioned recording against the work."""

    query_duration: float
    work_duration: float
    segments: Sequence[Segment]
    #: (speed, pitch in semitones) of the questioned recording, when measured.
    transform: tuple[float, float] | None = None


@dataclass(frozen=True)
class ImageComparison:
    query_jpeg: bytes
    work_jpeg: bytes
    distances: Sequence[tuple[str, float]]  # (measure name, value), e.g. ("pHash", 6)
    transformation: str | None = None  # a ``transformation`` vocabulary code


@dataclass(frozen=True)
class VideoFrames:
    """Matched frames side by side: (query JPEG, query second, work JPEG, work second,
    PDQ bits that differ)."""

    pairs: Sequence[tuple[bytes, float, bytes, float, int]]


@dataclass(frozen=True)
class TimelineEvent:
    at: date | datetime
    text: str


@dataclass(frozen=True)
class Decision:
    outcome: str  # upheld / rejected / settled / withdrawn
    reason: str
    decided_at: date | datetime | None = None


@dataclass(frozen=True)
class ComparisonReport:
    case_number: str
    generated_at: datetime  # timezone-aware; also the PDF's date
    parties: Sequence[Party]
    query: ReportWork
    work: ReportWork
    similarity: float  # 0..1
    audio: AudioAlignment | None = None
    image: ImageComparison | None = None
    video: VideoFrames | None = None
    timeline: Sequence[TimelineEvent] = field(default_factory=tuple)
    decision: Decision | None = None


def render_comparison_report(
    report: ComparisonReport, *, lang: str = DEFAULT_LANG, sign: Signer | None = None
) -> bytes:
    """The report PDF; the same report gives the same bytes."""
    _validate(report)
    ml = Multilingual(lang)
    builder = _ReportBuilder(report, ml)
    pdf = build_pdf(
        builder.story(),
        builder.decor(),
        title=f"{' / '.join(ml.label('report_title'))} {report.case_number}",
        subject=f"{report.query.title} / {report.work.title}",
        keywords=f"Tamga, {report.case_number}",
        id_seed=hashlib.sha256(repr((lang, report)).encode()).digest(),
    )
    pdf = finish_pdf(pdf, dated=report.generated_at)
    return sign(pdf) if sign is not None else pdf


def _validate(report: ComparisonReport) -> None:
    problems: list[str] = []
    if report.generated_at.utcoffset() is None:
        problems.append("generated_at must be timezone-aware")
    if not 0.0 <= report.similarity <= 1.0:
        problems.append("similarity must lie in 0..1")
    problems += [f"unknown party role {p.role!r}" for p in report.parties
                 if not is_known("party_role", p.role)]
    for side in (report.query, report.work):
        if not is_known("work_type", side.work_type):
            problems.append(f"unknown work_type {side.work_type!r}")
    if report.audio is not None:
        problems += _audio_problems(report.audio)
    if report.image is not None:
        problems += _image_problems(report.image)
    if report.decision is not None and not is_known("outcome", report.decision.outcome):
        problems.append(f"unknown outcome {report.decision.outcome!r}")
    if problems:
        raise ValidationFailed("; ".join(problems), problems=problems)


def _audio_problems(audio: AudioAlignment) -> list[str]:
    if audio.query_duration <= 0 or audio.work_duration <= 0:
        return ["audio durations must be positive"]
    for qs, qe, ws, we in audio.segments:
        if not (0 <= qs < qe <= audio.query_duration and 0 <= ws < we <= audio.work_duration):
            return [f"segment {(qs, qe, ws, we)} lies outside the recordings"]
    return []


def _image_problems(image: ImageComparison) -> list[str]:
    problems = []
    for name, data in (("query", image.query_jpeg), ("work", image.work_jpeg)):
        if not data.startswith(b"\xff\xd8"):
            problems.append(f"{name} thumbnail is not a JPEG")
    if image.transformation is not None and not is_known("transformation", image.transformation):
        problems.append(f"unknown transformation {image.transformation!r}")
    return problems


def _clock(seconds: float) -> str:
    """``m:ss.s`` for a time in seconds."""
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


class _ReportBuilder:
    def __init__(self, report: ComparisonReport, ml: Multilingual) -> None:
        self.r = report
        self.ml = ml
        self.st = styles()

    def decor(self) -> PageDecor:
        return PageDecor(
            self.ml,
            band_right=[" / ".join(self.ml.label("case_number")), self.r.case_number],
            footer_left=f"Tamga · {self.r.case_number}",
        )

    def story(self) -> list[Flowable]:
        story: list[Flowable] = [*self._title(), kv_table(self._head_rows(), LABEL_W)]
        story += [self._heading("works_compared"), self._works()]
        story += [self._heading("similarity"), *self._similarity()]
        if self.r.audio is not None:
            plot, *rest = self._audio()
            story += [KeepTogether([self._heading("audio_alignment"), plot]), *rest]
        if self.r.image is not None:
            pair, *rest = self._image()
            story += [KeepTogether([self._heading("image_comparison"), pair]), *rest]
        if self.r.video is not None and self.r.video.pairs:
            first, *rest = self._video()
            story += [KeepTogether([self._heading("video_comparison"), first]), *rest]
        if self.r.timeline:
            story += [self._heading("timeline"), self._timeline()]
        story.append(KeepTogether([self._heading("decision"), self._decision()]))
        return story

    # -- helpers -------------------------------------------------------------------

    def _p(self, markup: str, style: str = "value") -> Paragraph:
        return Paragraph(markup, self.st[style])

    def _label(self, key: str) -> Paragraph:
        return self._p(self.ml.stacked(self.ml.label(key)), "label")

    def _term(self, vocabulary: str, code: str) -> str:
        return self.ml.inline(self.ml.term(vocabulary, code))

    def _heading(self, key: str) -> Flowable:
        return section_heading(self.ml, key, self.st["section"])

    def _grey(self, markup: str) -> str:
        return f'<font color="{GREY.hexval()}">{markup}</font>'

    def _when(self, value: date | datetime | None) -> str:
        if value is None:
            return self._grey(self.ml.inline(self.ml.label("not_stated")))
        if isinstance(value, datetime):
            return esc(format_utc(value))
        return esc(value.isoformat())

    # -- blocks --------------------------------------------------------------------

    def _title(self) -> list[Flowable]:
        first, *rest = self.ml.label("report_title")
        out: list[Flowable] = [Spacer(1, 6), self._p(esc(first.upper()), "doc_title")]
        out += [self._p(esc(text.upper()), "doc_subtitle") for text in rest]
        out.append(Spacer(1, 8))
        return out

    def _head_rows(self) -> list[tuple[Flowable, Flowable]]:
        moment = self.r.generated_at
        almaty = self.ml.inline(self.ml.label("almaty_time"))
        rows = [
            (self._label("case_number"), self._p(f"<b>{esc(self.r.case_number)}</b>")),
            (
                self._label("generated_at"),
                self._p(f"{format_utc(moment)}<br/>{format_almaty(moment)} ({almaty})"),
            ),
        ]
        rows += [
            (self._p(self.ml.stacked(self.ml.term("party_role", p.role)), "label"),
             self._p(f"<b>{esc(p.name)}</b>"))
            for p in self.r.parties
        ]
        return rows

    def _works(self) -> Table:
        q, w = self.r.query, self.r.work
        header = ["", self._p(f"<b>{self._side('query_work')}</b>"),
                  self._p(f"<b>{self._side('registered_work')}</b>")]
        rows: list[list[object]] = [header]
        for key, fn in (
            ("registration_number", self._number),
            ("work_title", lambda x: f"<b>{esc(x.title)}</b>"),
            ("work_type", lambda x: self._term("work_type", x.work_type)),
            ("registrant", lambda x: esc(x.registrant)),
            ("registered_at", lambda x: self._when(x.registered_at)),
            ("authors", self._authors),
        ):
            rows.append([self._label(key), self._p(fn(q)), self._p(fn(w))])
        rows.append([self._p("<b>SHA-256</b>", "label"), self._p(self._sha(q), "mono_small"),
                     self._p(self._sha(w), "mono_small")])
        col = (FRAME_W - LABEL_W) / 2
        table = Table(rows, colWidths=[LABEL_W, col, col], repeatRows=1)
        table.setStyle(
            table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 1), (0, -1), PALE),
                    ("BACKGROUND", (1, 0), (-1, 0), PALE),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                    ("LINEAFTER", (1, 1), (1, -1), 0.3, RULE),
                    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return table

    def _side(self, key: str) -> str:
        return self.ml.inline(self.ml.label(key))

    def _number(self, work: ReportWork) -> str:
        if work.registration_number is None:
            return self._grey(self.ml.inline(self.ml.label("not_registered")))
        return f"<b>{esc(work.registration_number)}</b>"

    def _authors(self, work: ReportWork) -> str:
        if not work.authors:
            return self._grey(self.ml.inline(self.ml.label("not_stated")))
        return "<br/>".join(
            f"{esc(a.name)} — {self._term('role', a.role)}" for a in work.authors
        )

    def _sha(self, work: ReportWork) -> str:
        return wrap_mono(work.sha256, 32) if work.sha256 else "—"

    def _similarity(self) -> list[Flowable]:
        percent = f"{self.r.similarity * 100:.1f}\u00a0%"
        if self.ml.primary in ("kk", "ru"):
            percent = percent.replace(".", ",")
        score = self._p(f"<b>{percent}</b>", "score")
        table = Table([[score, _ScoreBar(self.r.similarity, FRAME_W - 120, 14)]],
                      colWidths=[120, FRAME_W - 120])
        table.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                    ("TOPPADDING", (0, 0), (-1, -1), 8),
                                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
        notes = [self._p(self._grey(esc(t)), "note") for t in self.ml.label("similarity_note")]
        return [table, *notes]

    def _audio(self) -> list[Flowable]:
        audio = self.r.audio
        assert audio is not None
        axis = (self.ml.label("query_time")[0], self.ml.label("work_time")[0])
        plot = _AlignmentPlot(audio, FRAME_W, PLOT_H, axis)
        rows = [
            [self._p(f"{i + 1}", "mono"), self._p(f"{_clock(qs)} – {_clock(qe)}", "mono"),
             self._p(f"{_clock(ws)} – {_clock(we)}", "mono"),
             self._p(f"{qe - qs:.1f} {self.ml.label('seconds')[0]}", "mono")]
            for i, (qs, qe, ws, we) in enumerate(audio.segments)
        ]
        header = ["", self._p(self._side("query_work"), "label"),
                  self._p(self._side("registered_work"), "label"), ""]
        total = sum(qe - qs for qs, qe, _, _ in audio.segments)
        table = Table([header, *rows], colWidths=[24, 180, 180, FRAME_W - 384], repeatRows=1)
        table.setStyle(table_style([("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                                    ("BACKGROUND", (0, 0), (-1, 0), PALE),
                                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
        summary = (f"{self._side('matched_segments')}: <b>{len(audio.segments)}</b> · "
                   f"{self._side('matched_duration')}: <b>{total:.1f} "
                   f"{self.ml.label('seconds')[0]}</b>")
        extra: list[Flowable] = []
        if audio.transform is not None:
            speed, pitch = audio.transform
            change = (f"{self._side('detected_change')}: {self._side('change_speed')} "
                      f"<b>×{speed:.2f}</b> · {self._side('change_pitch')} <b>{pitch:+.1f}</b>")
            extra = [Spacer(1, 2), self._p(change)]
        return [plot, Spacer(1, 6), self._p(summary), *extra, Spacer(1, 3), table]

    def _image(self) -> list[Flowable]:
        image = self.r.image
        assert image is not None
        pair = Table(
            [[_thumbnail(image.query_jpeg), _thumbnail(image.work_jpeg)],
             [self._p(f"<b>{self._side('query_work')}</b>", "note_center"),
              self._p(f"<b>{self._side('registered_work')}</b>", "note_center")]],
            colWidths=[THUMB_W + 12, THUMB_W + 12],
        )
        pair.setStyle(table_style([("ALIGN", (0, 0), (-1, -1), "CENTER"),
                                   ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
                                   ("BOX", (0, 0), (0, 0), 0.3, RULE),
                                   ("BOX", (1, 0), (1, 0), 0.3, RULE)]))
        distances = ", ".join(f"{esc(name)} {value:g}" for name, value in image.distances)
        rows = [(self._label("distances"), self._p(distances or "—", "mono"))]
        if image.transformation is not None:
            rows.append((self._label("transformation"),
                         self._p(self._term("transformation", image.transformation))))
        return [pair, Spacer(1, 4), kv_table(rows, LABEL_W)]

    def _video(self) -> list[Flowable]:
        video = self.r.video
        assert video is not None
        out: list[Flowable] = []
        bits = self.ml.label("frame_bits")[0]
        for qjpeg, qt, wjpeg, wt, diff in video.pairs:
            pair = Table(
                [[_thumbnail(qjpeg, VIDEO_THUMB_H), _thumbnail(wjpeg, VIDEO_THUMB_H)],
                 [self._p(f"<b>{self._side('query_work')}</b> · {_clock(qt)}", "note_center"),
                  self._p(f"<b>{self._side('registered_work')}</b> · {_clock(wt)} · "
                          f"{diff} {esc(bits)}", "note_center")]],
                colWidths=[THUMB_W + 12, THUMB_W + 12])
            pair.setStyle(table_style([("ALIGN", (0, 0), (-1, -1), "CENTER"),
                                       ("VALIGN", (0, 0), (-1, 0), "MIDDLE")]))
            out += [pair, Spacer(1, 3)]
        return out

    def _timeline(self) -> Table:
        rows = [(self._p(self._when(e.at), "mono"), self._p(esc(e.text))) for e in self.r.timeline]
        return kv_table(rows, LABEL_W)

    def _decision(self) -> Table:
        d = self.r.decision
        if d is None:
            body = [self._p(self._grey(self.ml.inline(self.ml.label("no_decision"))))]
        else:
            body = [self._p(f'<font size="11"><b>{self._term("outcome", d.outcome)}</b></font>'),
                    self._p(f"{self._grey(self._side('reason'))}: {esc(d.reason)}")]
            if d.decided_at is not None:
                body.append(self._p(self._grey(self._when(d.decided_at))))
        table = Table([[body]], colWidths=[FRAME_W])
        table.setStyle(table_style([("BOX", (0, 0), (-1, -1), 0.8, TEAL),
                                    ("BACKGROUND", (0, 0), (-1, -1), PALE),
                                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                                    ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
                                    ("LEFTPADDING", (0, 0), (-1, -1), 8)]))
        return table


def _thumbnail(jpeg: bytes, box_h: float = THUMB_H) -> Image:
    """A JPEG scaled to fit the thumbnail box, aspect ratio kept (embedded as is)."""
    width, height = ImageReader(io.BytesIO(jpeg)).getSize()
    scale = min(THUMB_W / width, box_h / height)
    return Image(io.BytesIO(jpeg), width=width * scale, height=height * scale)


class _ScoreBar(Flowable):
    """A horizontal gauge of the similarity score."""

    def __init__(self, value: float, width: float, height: float) -> None:
        super().__init__()
        self.value, self.width, self.height = value, width, height

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setFillColor(PALE)
        c.setStrokeColor(RULE)
        c.roundRect(0, 0, self.width, self.height, 3, stroke=1, fill=1)
        c.setFillColor(TEAL if self.value < 0.5 else GOLD)
        c.roundRect(0, 0, max(self.width * self.value, 0.5), self.height, 3, stroke=0, fill=1)


def _nice_step(span: float, max_ticks: int = 8) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600):
        if span / step <= max_ticks:
            return float(step)
    return span / max_ticks


class _AlignmentPlot(Flowable):
    """Questioned-work time (x) against registered-work time (y), matches highlighted.

    Each matched segment is a thick line from (query start, work start) to
    (query end, work end); its ranges are also shaded along both axes, so a
    reader sees at once which parts of each recording correspond.
    """

    LEFT, BOTTOM, TOP, RIGHT = 44.0, 30.0, 8.0, 10.0
    RUG = 4.0

    def __init__(
        self, audio: AudioAlignment, width: float, height: float, axis: tuple[str, str]
    ) -> None:
        super().__init__()
        self.audio, self.width, self.height, self.axis = audio, width, height, axis
        self.pw = width - self.LEFT - self.RIGHT
        self.ph = height - self.BOTTOM - self.TOP

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height + 4  # a little air above the plot

    def _x(self, t: float) -> float:
        return self.LEFT + self.pw * t / self.audio.query_duration

    def _y(self, t: float) -> float:
        return self.BOTTOM + self.ph * t / self.audio.work_duration

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.setFillColor(colors.white)
        c.rect(self.LEFT, self.BOTTOM, self.pw, self.ph, stroke=0, fill=1)
        self._bands()
        self._grid()
        self._segments()
        c.setStrokeColor(INK)
        c.setLineWidth(0.8)
        c.rect(self.LEFT, self.BOTTOM, self.pw, self.ph, stroke=1, fill=0)
        c.restoreState()

    def _bands(self) -> None:
        """Each segment's span projected onto both axes: dashed guides and a gold rug mark."""
        c = self.canv
        c.setStrokeColor(GREY)
        c.setLineWidth(0.4)
        c.setDash(2, 2)
        for qs, qe, ws, we in self.audio.segments:
            for q, w in ((qs, ws), (qe, we)):
                c.line(self._x(q), self.BOTTOM, self._x(q), self._y(w))
                c.line(self.LEFT, self._y(w), self._x(q), self._y(w))
        c.setDash()
        c.setFillColor(GOLD)
        for qs, qe, ws, we in self.audio.segments:
            x0, x1, y0, y1 = self._x(qs), self._x(qe), self._y(ws), self._y(we)
            c.rect(x0, self.BOTTOM, x1 - x0, self.RUG, stroke=0, fill=1)
            c.rect(self.LEFT, y0, self.RUG, y1 - y0, stroke=0, fill=1)

    def _grid(self) -> None:
        c = self.canv
        c.setFont(SANS, 6.8)
        c.setLineWidth(0.25)
        c.setStrokeColor(RULE)
        c.setFillColor(GREY)
        step = _nice_step(self.audio.query_duration)
        t = 0.0
        while t <= self.audio.query_duration + 1e-9:
            c.line(self._x(t), self.BOTTOM, self._x(t), self.BOTTOM + self.ph)
            c.drawCentredString(self._x(t), self.BOTTOM - 9, _clock(t).removesuffix(".0"))
            t += step
        step = _nice_step(self.audio.work_duration, 6)
        t = 0.0
        while t <= self.audio.work_duration + 1e-9:
            c.line(self.LEFT, self._y(t), self.LEFT + self.pw, self._y(t))
            c.drawRightString(self.LEFT - 3, self._y(t) - 2.3, _clock(t).removesuffix(".0"))
            t += step
        c.setFillColor(INK)
        c.setFont(SANS, 7.4)
        c.drawCentredString(self.LEFT + self.pw / 2, 3, self.axis[0])
        c.saveState()
        c.translate(9, self.BOTTOM + self.ph / 2)
        c.rotate(90)
        c.drawCentredString(0, 0, self.axis[1])
        c.restoreState()

    def _segments(self) -> None:
        c = self.canv
        c.setStrokeColor(TEAL)
        c.setLineWidth(3)
        c.setLineCap(1)
        for qs, qe, ws, we in self.audio.segments:
            c.line(self._x(qs), self._y(ws), self._x(qe), self._y(we))
        c.setFont(MONO, 7.5)
        c.setFillColor(TEAL)
        for i, (qs, _qe, ws, _we) in enumerate(self.audio.segments):
            c.drawString(self._x(qs) - 8, self._y(ws) + 3, str(i + 1))
