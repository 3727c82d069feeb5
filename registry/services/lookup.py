"""“Is this registered?”: find registered works by a file, a clip or a SHA-256.

The uploaded file is received into a temporary file, fingerprinted and deleted
before the answer is built, whatever happens: nothing of it is stored. What is
compared is the fingerprint (audio: every speed/tempo variant of the clip;
images: every query variant), against the same indexes registration uses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from registry.core.audio import AudioFingerprint, fingerprint_query
from registry.core.errors import ValidationFailed
from registry.core.image import QueryHashes, load_image, query_variants, thumbnail
from registry.core.matching import audio_index, image_index
from registry.core.media import HEAD_BYTES, MediaLimits, _classify_magic, receive_upload, sniff
from registry.core.sql import use_sqlite_pragmas
from registry.extensions import db
from registry.models.work import WorkFile
from registry.services.search import SEARCHABLE_STATUSES, SHA256_RE, SearchHit, load_hits

log = logging.getLogger(__name__)

MIN_QUERY_SECONDS = 5.0
#: Above this many rows PostgreSQL's planner estimate stands in for count(*).
EXACT_COUNT_LIMIT = 200_000
SAME_RECORDING_SCORE = 0.5
SAME_IMAGE_SCORE = 0.75
MAX_MATCHES = 10

IDENTICAL_FILE = "identical_file"
SAME_RECORDING = "same_recording"
LIKELY_SAME_IMAGE = "likely_same_image"
WEAK_SIMILARITY = "weak_similarity"


@dataclass(frozen=True)
class Segment:
    """Seconds: where the match sits in the query and in the registered recording."""

    query_start: float
    query_end: float
    work_start: float
    work_end: float


@dataclass
class LookupMatch:
    work: SearchHit
    score: float
    meaning: str
    segment: Segment | None = None
    work_duration_s: float | None = None
    distance: int | None = None
    transformation: str | None = None


@dataclass
class Checked:
    """What was compared, for the “no match” answer as much as for the API."""

    media: str  # "audio", "image" or "sha256"
    works_compared: int
    sha256: str
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class LookupResult:
    matches: list[LookupMatch]
    checked: Checked
    query_thumbnail: bytes | None = None  # the query picture, for showing inline only
    timings: dict[str, float] = field(default_factory=dict)


def query_limits(limits: MediaLimits) -> MediaLimits:
    """A query clip must be at least 5 s long, whatever registration accepts."""
    return replace(limits, min_audio_seconds=max(MIN_QUERY_SECONDS, limits.min_audio_seconds))


def lookup_upload(connect: Callable[[], AbstractContextManager[Connection]], stream: BinaryIO,
                  *, upload_dir: Path, limits: MediaLimits,
                  want_thumbnail: bool = False) -> LookupResult:
    """Receive, fingerprint, delete the file, then search.

    ``connect`` (e.g. :func:`reading`) is entered only once the fingerprint
    exists, so no database transaction is held while the file is decoded.
    """
    started = time.perf_counter()
    received = receive_upload(stream, upload_dir, limits)
    timings = {"upload": time.perf_counter() - started}
    try:
        query = _fingerprint(received.path, received.sha256, limits, timings, want_thumbnail)
    finally:
        received.path.unlink(missing_ok=True)
    t = time.perf_counter()
    with connect() as conn:
        result = _search_audio(conn, query) if query.audio else _search_picture(conn, query)
        _add_exact(conn, result, received.sha256)
    _timed(timings, "index", t)
    result.timings = timings
    return result


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


@dataclass
class _Query:
    """A fingerprinted upload: audio variants or image variants, and what was measured."""

    checked: Checked
    audio: list[AudioFingerprint] | None = None
    image: QueryHashes | None = None
    thumbnail: bytes | None = None


def _fingerprint(path: Path, sha256: str, limits: MediaLimits, timings: dict[str, float],
                 want_thumbnail: bool) -> _Query:
    t = time.perf_counter()
    if not _looks_like_image(path):
        fps = _fingerprint_audio(path, limits)
        _timed(timings, "fingerprint", t)
        return _Query(Checked("audio", 0, sha256, duration_s=round(fps[0].duration_s, 2)),
                      audio=fps)
    sniff(path)  # no subprocess for pictures
    loaded = load_image(path, max_pixels=limits.max_pixels)
    t = _timed(timings, "decode", t)
    variants = query_variants(loaded)
    _timed(timings, "fingerprint", t)
    return _Query(Checked("image", 0, sha256, width=loaded.width, height=loaded.height),
                  image=variants, thumbnail=thumbnail(loaded, 320) if want_thumbnail else None)


def _fingerprint_audio(path: Path, limits: MediaLimits) -> list[AudioFingerprint]:
    """Every speed/tempo variant; decoding is part of it (one ffmpeg run inside)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The intake check (ffprobe: audio, not video, a supported codec) runs beside the
        # fingerprinting instead of before it; its verdict still decides.
        checked = pool.submit(sniff, path)
        try:
            return fingerprint_query(path, query_limits(limits))
        finally:
            checked.result()


def lookup_sha256(conn: Connection, sha256: str) -> LookupResult:
    """Works whose registered file has exactly this SHA-256."""
    value = (sha256 or "").strip().lower()
    if not SHA256_RE.match(value):
        raise ValidationFailed(_l("A SHA-256 is 64 hexadecimal characters."), field="sha256")
    compared = _count(conn, WorkFile.__table__)
    result = LookupResult([], Checked("sha256", compared, value))
    _add_exact(conn, result, value)
    return result


def _timed(timings: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    timings[name] = timings.get(name, 0.0) + now - started
    return now


def _search_audio(conn: Connection, query: _Query) -> LookupResult:
    recordings = audio_index.audio_recordings
    found = audio_index.search(conn, query.audio or [])
    query.checked.works_compared = _count(conn, recordings)
    hits = _hits(conn, [m.work_id for m in found])
    durations = dict(conn.execute(
        sa.select(recordings.c.work_id, recordings.c.duration_s)
        .where(recordings.c.work_id.in_(list(hits)))).all()) if hits else {}
    matches = [
        LookupMatch(hits[m.work_id], m.score, _audio_meaning(m.score),
                    Segment(m.query_start, m.query_end, m.work_start, m.work_end),
                    work_duration_s=durations.get(m.work_id))
        for m in found if m.work_id in hits
    ]
    return LookupResult(matches, query.checked)


def _search_picture(conn: Connection, query: _Query) -> LookupResult:
    found = _search_image(conn, query.image or QueryHashes())
    query.checked.works_compared = _count(conn, image_index.image_works)
    hits = _hits(conn, [m.work_id for m in found])
    matches = [
        LookupMatch(hits[m.work_id], m.score, _image_meaning(m.score),
                    distance=int(m.distances.get("phash", 0)), transformation=m.transformation)
        for m in found if m.work_id in hits
    ]
    return LookupResult(matches, query.checked, query_thumbnail=query.thumbnail)


def _search_image(conn: Connection, query: QueryHashes) -> list[image_index.ImageMatch]:
    """Plain, mirrored and trimmed forms first; the eight counter-rotations only if needed.

    A copy, re-encoding, crop, border or mirror is found by the first pass at a
    quarter of the index probes; a rotated copy (or no match) takes both.
    """
    upright = QueryHashes([v for v in query.variants if v.transformation != "rotated"])
    found = image_index.search(conn, upright, limit=MAX_MATCHES)
    if any(m.score >= SAME_IMAGE_SCORE for m in found) or len(upright.variants) == len(
            query.variants):
        return found
    return image_index.search(conn, query, limit=MAX_MATCHES)


def _looks_like_image(path: Path) -> bool:
    """The cheap magic-byte half of :func:`sniff`; audio goes on to ffprobe."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    return bool(head) and _classify_magic(head)[0] == "image"


def _audio_meaning(score: float) -> str:
    return SAME_RECORDING if score >= SAME_RECORDING_SCORE else WEAK_SIMILARITY


def _image_meaning(score: float) -> str:
    return LIKELY_SAME_IMAGE if score >= SAME_IMAGE_SCORE else WEAK_SIMILARITY


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
        if match is None:
            match = LookupMatch(hit, 1.0, IDENTICAL_FILE, distance=0 if hit.media_kind == "image"
                                else None)
            result.matches.append(match)
        if match.segment is None and hit.media_kind == "audio" and result.checked.duration_s:
            whole = result.checked.duration_s
            match.segment, match.work_duration_s = Segment(0.0, whole, 0.0, whole), whole
        match.score, match.meaning = 1.0, IDENTICAL_FILE
    result.matches.sort(key=lambda m: (-m.score, m.work.registered_at))
    del result.matches[MAX_MATCHES:]


_large_counts: dict[tuple[str, str], tuple[float, int]] = {}
LARGE_COUNT_TTL_S = 60.0


def _count(conn: Connection, table: sa.Table) -> int:
    """Rows in ``table``: exact while small; for a large table PostgreSQL's planner
    estimate, or on SQLite an exact count remembered for a minute (counting a
    million rows would cost more than the lookup itself)."""
    if conn.dialect.name == "postgresql":
        estimate = conn.execute(sa.text("SELECT reltuples::bigint FROM pg_class "
                                        "WHERE oid = to_regclass(:name)"),
                                {"name": table.name}).scalar()
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return int(estimate)
    key = (conn.engine.url.render_as_string(hide_password=True), table.name)
    cached = _large_counts.get(key)
    if cached is not None and time.monotonic() - cached[0] < LARGE_COUNT_TTL_S:
        return cached[1]
    n = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    if n > EXACT_COUNT_LIMIT:
        _large_counts[key] = (time.monotonic(), n)
    return n
