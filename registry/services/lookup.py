"""“Is this registered?”: find registered works by a file, a clip or a SHA-256.

The uploaded file is received into a temporary file, fingerprinted and deleted
before the answer is built, whatever happens: nothing of it is stored. The
file's media kind (``registry.kinds``) fingerprints it (audio: every
speed/tempo variant of the clip; images: every query variant), and every
registered kind searches its own indexes with the tracks it understands — the
same indexes registration uses.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from registry import kinds
from registry.core.errors import Busy, ValidationFailed
from registry.core.media import (
    HEAD_BYTES,
    DetectedType,
    MediaLimits,
    _classify_magic,
    magic_type,
    receive_upload,
    sniff,
)
from registry.core.sql import use_sqlite_pragmas
from registry.extensions import db
from registry.kinds import IDENTICAL_FILE, WEAK_SIMILARITY, Hit, Query, Segment, count_rows
from registry.kinds.audio import MIN_QUERY_SECONDS, SAME_RECORDING, query_limits
from registry.kinds.image import LIKELY_SAME_IMAGE
from registry.models.work import WorkFile
from registry.services.search import SEARCHABLE_STATUSES, SHA256_RE, SearchHit, load_hits

log = logging.getLogger(__name__)

__all__ = ["IDENTICAL_FILE", "LIKELY_SAME_IMAGE", "MIN_QUERY_SECONDS", "SAME_RECORDING",
           "WEAK_SIMILARITY", "Checked", "LookupMatch", "LookupResult", "Segment",
           "lookup_sha256", "lookup_upload", "query_limits", "reading"]

MAX_MATCHES = 10


@dataclass
class LookupMatch:
    work: SearchHit
    score: float
    meaning: str
    segment: Segment | None = None
    work_duration_s: float | None = None
    kind: str = ""  # the kind whose index found it ("" for an identical file only)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def transformation(self) -> str | None:
        return self.details.get("transformation")


@dataclass
class Checked:
    """What was compared, for the “no match” answer as much as for the API."""

    media: str  # a kind's name, or "sha256"
    works_compared: int
    sha256: str
    measured: dict[str, Any] = field(default_factory=dict)  # duration_s, width, height...


@dataclass
class LookupResult:
    matches: list[LookupMatch]
    checked: Checked
    query_thumbnail: bytes | None = None  # the query picture, for showing inline only
    timings: dict[str, float] = field(default_factory=dict)
    #: What the query file declares (a ``ProvenanceReport``), when the caller asked.
    file_provenance: Any = None


@dataclass(frozen=True)
class QueryBounds:
    """What one lookup may cost: seconds of audio decoded, and heavy lookups at once."""

    max_seconds: float = 120.0
    concurrency: int = 2
    wait_s: float = 10.0


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


@contextmanager
def heavy_slot(bounds: QueryBounds) -> Iterator[None]:
    """One of ``bounds.concurrency`` places for decoding in this process; waits up to
    ``bounds.wait_s`` for one, then answers "busy" (503) instead of queueing forever."""
    with _slots_lock:
        slot = _slots.setdefault(bounds.concurrency, threading.BoundedSemaphore(
            max(1, bounds.concurrency)))
    if not slot.acquire(timeout=bounds.wait_s):
        raise Busy(_l("The registry is busy comparing other files. Please try again in a "
                      "few seconds."))
    try:
        yield
    finally:
        slot.release()


def query_bounds(settings: Any) -> QueryBounds:
    """The bounds configured for this registry (``TAMGA_LOOKUP_MAX_SECONDS``, …)."""
    return QueryBounds(settings.lookup_max_seconds, settings.lookup_concurrency)


def lookup_upload(connect: Callable[[], AbstractContextManager[Connection]], stream: BinaryIO,
                  *, upload_dir: Path, limits: MediaLimits,
                  want_thumbnail: bool = False,
                  bounds: QueryBounds | None = None,
                  read_provenance: Callable[[Path, DetectedType | None], Any] | None = None,
                  ) -> LookupResult:
    """Receive, fingerprint, delete the file, then search.

    ``read_provenance`` (e.g. :func:`registry.services.provenance.reader`) reads what
    the file declares about its origin before it is deleted (given the file's type
    when the lookup already sniffed it).

    ``connect`` (e.g. :func:`reading`) is entered only once the fingerprint
    exists, so no database transaction is held while the file is decoded. An audio
    file is judged on its declared duration before decoding, and only its first
    ``bounds.max_seconds`` are decoded; at most ``bounds.concurrency`` lookups decode
    at once.
    """
    bounds = bounds or QueryBounds()
    started = time.perf_counter()
    received = receive_upload(stream, upload_dir, limits)
    timings = {"upload": time.perf_counter() - started}
    declared = None
    try:
        t = time.perf_counter()
        kind, detected = _kind_of(received.path)
        with heavy_slot(bounds):
            query = kind.query(received.path, limits, want_thumbnail=want_thumbnail,
                               max_seconds=bounds.max_seconds)
        decoded = sum(query.timings.values())
        timings |= query.timings
        _timed(timings, "fingerprint", t + decoded)
        if read_provenance is not None:
            t = time.perf_counter()
            declared = read_provenance(received.path, detected)
            _timed(timings, "provenance", t)
    finally:
        received.path.unlink(missing_ok=True)
    t = time.perf_counter()
    with connect() as conn:
        result = _search(conn, query, received.sha256)
        _add_exact(conn, result, received.sha256)
    _timed(timings, "index", t)
    result.timings = timings
    result.file_provenance = declared
    return result


def _kind_of(path: Path) -> tuple[kinds.MediaKind, DetectedType | None]:
    """The kind that fingerprints a query file, and the file's type (from its magic
    bytes, or sniffed in full: the provenance reader needs it too).

    The cheap magic-byte half of :func:`sniff` decides when a kind claims the
    magic (that kind then runs its own checks of the streams beside the
    fingerprinting); anything else (an MP4: audio or video?) is sniffed in full
    first, its streams read in process (no ffprobe per query).
    """
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    magic = _classify_magic(head)[0] if head else ""
    kind = next((k for k in kinds.all_kinds() if magic in k.magic), None)
    if kind is not None:
        return kind, magic_type(head)
    detected = sniff(path, in_process=True)
    kind = kinds.for_detected(detected)
    if kind is None:  # a detected type no kind takes (none today)
        raise ValidationFailed(_l("This kind of file cannot be looked up."), field="file")
    return kind, detected


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection for the read-only lookups, its transaction ended afterwards.

    On SQLite the application's engine opens every transaction with ``BEGIN
    IMMEDIATE`` (the ledger needs it), which would make concurrent lookups queue
    for the write lock; lookups read through a second engine instead, with plain
    transactions that WAL lets run beside writers. Elsewhere: the session's.
    """
    if db.engine.dialect.name != "sqlite":
        try:
            yield db.session.connection()
        finally:
            db.session.rollback()
        return
    with _reader(db.engine.url).connect() as conn:
        yield conn
        conn.rollback()


_readers: dict[str, sa.Engine] = {}


def _reader(url: sa.URL) -> sa.Engine:
    key = url.render_as_string(hide_password=False)
    if key not in _readers:
        _readers[key] = sa.create_engine(url, poolclass=NullPool,
                                         connect_args={"timeout": 30})
        use_sqlite_pragmas(_readers[key])
    return _readers[key]


def lookup_sha256(conn: Connection, sha256: str) -> LookupResult:
    """Works whose registered file has exactly this SHA-256."""
    value = (sha256 or "").strip().lower()
    if not SHA256_RE.match(value):
        raise ValidationFailed(_l("A SHA-256 is 64 hexadecimal characters."), field="sha256")
    compared = count_rows(conn, WorkFile.__table__)
    result = LookupResult([], Checked("sha256", compared, value))
    _add_exact(conn, result, value)
    return result


def _timed(timings: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    timings[name] = timings.get(name, 0.0) + now - started
    return now


def _search(conn: Connection, query: Query, sha256: str) -> LookupResult:
    """Every kind searches its indexes; the work's own kind combines its hits into one."""
    found: dict[int, list[Hit]] = {}
    for kind in kinds.all_kinds():
        for hit in kind.search(conn, query, limit=MAX_MATCHES):
            found.setdefault(hit.work_id, []).append(hit)
    own = kinds.get(query.media)
    checked = Checked(query.media, own.count(conn) if own else 0, sha256, dict(query.measured))
    hits = _hits(conn, list(found))
    best = {w: (kinds.get(hits[w].media_kind) or kinds.MediaKind()).combine(found[w])
            for w in found if w in hits}
    matches = [
        LookupMatch(hits[w], h.score, h.meaning, h.segment, h.work_duration_s, h.kind, h.details)
        for w, h in best.items() if w in hits
    ]
    return LookupResult(matches, checked, query_thumbnail=query.thumbnail)


def _hits(conn: Connection, work_ids: list[int]) -> dict[int, SearchHit]:
    """The public view of the works the public may see (registered, in conflict, withdrawn)."""
    hits = load_hits(conn, [(wid, "file") for wid in work_ids])
    return {h.work_id: h for h in hits if h.status in SEARCHABLE_STATUSES}


def _add_exact(conn: Connection, result: LookupResult, sha256: str) -> None:
    """Identical files first: upgrade a fingerprint match of the same work, or add one."""
    files = WorkFile.__table__
    ids = conn.execute(sa.select(files.c.work_id).where(
        files.c.sha256 == sha256, files.c.role == "main").order_by(files.c.work_id)
    ).scalars().all()
    by_work = {m.work.work_id: m for m in result.matches}
    for wid, hit in _hits(conn, list(ids)).items():
        match = by_work.get(wid)
        kind = kinds.get(hit.media_kind)
        details, whole = kind.identical(result.checked.measured) if kind else ({}, None)
        if match is None:
            match = LookupMatch(hit, 1.0, IDENTICAL_FILE, details=details)
            result.matches.append(match)
        if match.segment is None and whole is not None:
            match.segment, match.work_duration_s = whole, whole.work_end
        match.score, match.meaning = 1.0, IDENTICAL_FILE
    result.matches.sort(key=lambda m: (-m.score, m.work.registered_at))
    del result.matches[MAX_MATCHES:]
