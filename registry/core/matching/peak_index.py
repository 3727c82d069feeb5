"""Inverted index of spectral-peak quads (:mod:`registry.core.audio_peaks`), in SQL.

Same storage shape as the Chromaprint index (:mod:`.audio_index`): one row per
quad hash in ``audio_peak_postings`` with every (work, anchor frame, anchor bin,
span) packed in one binary field, plus ``audio_peak_recordings`` with each
work's peaks (to verify candidates and to rebuild the postings).

A search looks up the query's quad hashes, turns every hit into a transform
estimate (time scale from the spans, pitch shift from the anchor bins, offset
from the anchor frames), votes on (work, scale, pitch, offset) cells, refines
the best cells from their own hits and verifies them on the peaks
(:func:`registry.core.audio_peaks.verify`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from itertools import chain

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry.core.audio_peaks import (
    FPS,
    QUERY,
    REFERENCE,
    PeakPrint,
    Quads,
    QuadSettings,
    Transform,
    Verified,
    _occupancy,
    quads,
    verify,
)
from registry.core.matching import arrays, key_counts
from registry.core.matching.postings import drop_work
from registry.core.sql import (
    IntArray,
    chunks,
    driver_rows,
    metadata,
    postgres_copy_upsert,
    reindex_all,
)

#: One posting: work id, anchor frame, anchor log bin, quad span (frames).
POSTING = np.dtype([("work", ">i4"), ("t", ">i4"), ("f", "u1"), ("span", "u1")])
SATURATED_WORKS = 3000
SQLITE_MAX_PARAMS = 900

audio_peak_recordings = sa.Table(
    "audio_peak_recordings",
    metadata,
    sa.Column("work_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("peak_count", sa.Integer, nullable=False),
    sa.Column("peaks", sa.LargeBinary, nullable=False),
)

audio_peak_postings = sa.Table(
    "audio_peak_postings",
    metadata,
    sa.Column("key", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("works", sa.Integer, nullable=False),
    sa.Column("postings", sa.LargeBinary, nullable=False),
)
sa.event.listen(
    audio_peak_postings, "after_create",
    sa.DDL("ALTER TABLE audio_peak_postings SET (fillfactor = 70)")
    .execute_if(dialect="postgresql"),
)  # fmt: skip

PEAK_TABLES = [audio_peak_recordings, audio_peak_postings]


@dataclass(frozen=True)
class PeakSearchParams:
    """Tuning of :func:`search` (set on the real-music benchmark, see
    ``benchmarks/README_audio.md``)."""

    min_scale: float = 0.72
    max_scale: float = 1.40
    max_pitch_bins: float = 16.0  # 8 semitones: speed 1.25 plus a 4-semitone shift
    scale_step: float = 0.02  # vote cells: log-scale, pitch (bins), offset (frames)
    pitch_step: float = 1.0
    offset_step: float = 12.0
    min_votes: int = 3
    # Cells verified per query (one per work). With 8, a right work whose cell ranked
    # 9th-14th behind chance works (a 3 s clip, a shifted pitch) was never verified.
    max_candidates: int = 16
    max_key_works: int = 2000
    # A query reads the postings of its rarest keys first, up to about this many
    # (a key's postings are counted by its works). In a small registry every key
    # fits; at 100,000 recordings a 15 s query's ~9,000 keys hold ~2 million
    # postings, and voting on all of them took ~0.4 s. The right work's quads are
    # spread over rare and common keys alike, so the rare ones still find it, and
    # rare keys are the better evidence.
    max_postings: int = 150_000
    # Acceptance: at least ``min_matched`` recording peaks re-found, and a share of
    # the recording's peaks in the aligned stretch of at least
    # ratio_base + ratio_slope / sqrt(considered) (chance alignments reach ~5 %).
    min_matched: int = 12
    ratio_base: float = 0.20
    ratio_slope: float = 0.9
    min_seconds: float = 2.0  # aligned stretch, in query seconds
    min_coverage: float = 0.0  # share of the stretch's seconds with a re-found peak
    # Held notes: two unrelated tracks that each hold a few notes line up under some
    # pitch shift and tempo, peak after peak on the same few frequencies (30 % of 5 s
    # clips of unregistered game music did before this rule). The re-found peaks
    # must lie on at least ``min_distinct_bins`` frequencies, unless nearly all of
    # the recording's peaks are re-found (``strong_ratio``: a copy of a sparse melody).
    min_distinct_bins: int = 8
    strong_ratio: float = 0.8
    # A changed copy (speed or pitch off the original) is one of many transforms the
    # search tried, so chance has more ways to line up: it needs more peaks. (At 4
    # and 6 distinct bins, 0.4-0.7 % of 10-15 s clips of unregistered music still
    # matched; at 8 and 8, 0.07 %, with no transformed copy lost: README_audio.md,
    # "Session 8".)
    changed_extra_matched: int = 8


#: Every verified candidate that re-found some peaks: a search under this rule, then
#: :func:`passes` with the default rule, gives both the matches and the candidates
#: that vouch for a weak Chromaprint match (:func:`registry.core.audio_query.vote`).
LENIENT = PeakSearchParams(ratio_base=0.0, ratio_slope=0.0, min_matched=5, min_seconds=1.0,
                           min_distinct_bins=0, changed_extra_matched=0)  # fmt: skip
#: The quad search after a strong Chromaprint match (with
#: :data:`registry.core.audio_peaks.QUERY_CONFIRM` quads): the lenient rule, and the
#: postings of the rarest keys up to 20,000 instead of 150,000.
CONFIRMING = replace(LENIENT, max_postings=20_000)


@dataclass(frozen=True)
class PeakMatch:
    work_id: int
    score: float  # share of the recording's peaks re-found in the aligned stretch
    matched: int
    considered: int
    coverage: float
    votes: int
    query_start: float
    query_end: float
    work_start: float
    work_end: float
    speed: float  # the query plays this many times as fast (tempo)
    pitch_semitones: float
    distinct_bins: int = 0  # different frequencies among the re-found peaks
    z: float = 0.0  # pair stage: standard deviations of the count above chance
    # pair stage, soft verification: (z, distinct frequencies, seconds), or None
    soft: tuple[float, int, float] | None = None


# --------------------------------------------------------------------------- writes


def _group_by_key(batch: Sequence[tuple[int, PeakPrint]]) -> tuple[list, list, list]:
    ks, rows = [], []
    for work_id, fp in batch:
        q = quads(fp, REFERENCE)
        if not len(q):
            continue
        packed = np.empty(len(q), dtype=POSTING)
        packed["work"] = work_id
        packed["t"] = np.rint(q.t).astype(np.int64)
        packed["f"] = np.clip(np.rint(q.f), 0, 255).astype(np.uint8)
        packed["span"] = np.clip(np.rint(q.span), 0, 255).astype(np.uint8)
        ks.append(q.key)
        rows.append(packed)
    return group_postings(ks, rows, POSTING)


def group_postings(ks: list[np.ndarray], rows: list[np.ndarray],
                   dtype: np.dtype) -> tuple[list, list, list]:  # fmt: skip
    """(keys, works per key, packed postings per key) of several recordings' keys and
    postings, sorted by key, work and time; a key in more than
    :data:`SATURATED_WORKS` works keeps no postings."""
    if not ks:
        return [], [], []
    # (np.concatenate returns native byte order for structured arrays)
    keys, packed = np.concatenate(ks), np.concatenate(rows).astype(dtype)
    order = np.lexsort((packed["t"], packed["work"], keys))
    keys, packed = keys[order], packed[order]
    uniq, starts, postings = arrays.packed_runs(keys, packed)
    works = packed["work"].astype(np.int64)
    first_of_work = np.ones(keys.size, dtype=bool)
    first_of_work[1:] = (keys[1:] != keys[:-1]) | (works[1:] != works[:-1])
    n_works = np.add.reduceat(first_of_work.astype(np.int64), starts).tolist()
    postings = [p if n <= SATURATED_WORKS else b"" for p, n in zip(postings, n_works, strict=True)]
    return uniq, n_works, postings


def _upsert_sql(dialect: str, table: str = "audio_peak_postings") -> str:
    def clause(empty: str, concat: str) -> str:
        return (
            f"ON CONFLICT (key) DO UPDATE SET works = {table}.works + excluded.works, "
            f"postings = CASE WHEN {table}.works + excluded.works > {SATURATED_WORKS}"
            f" THEN {empty} ELSE {concat} END"
        )

    if dialect == "postgresql":
        return (
            f"INSERT INTO {table} (key, works, postings) "
            f"SELECT key, works, postings FROM {table}_delta ORDER BY key "
            + clause("''::bytea", f"{table}.postings || excluded.postings")
        )
    return f"INSERT INTO {table} (key, works, postings) VALUES (?, ?, ?) " + clause(
        "X''", f"CAST({table}.postings || excluded.postings AS BLOB)"
    )


def write_rows(conn: Connection, keys: Sequence[int], works: Sequence[int],
               postings: Sequence[bytes], table: str = "audio_peak_postings") -> None:  # fmt: skip
    """Append packed postings to ``table``'s rows (one per key, counted by works)."""
    if not keys:
        return
    rows = zip(keys, works, postings, strict=True)
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(_upsert_sql("sqlite", table), list(rows))
        return
    postgres_copy_upsert(
        conn, [("key", "int4"), ("works", "int4"), ("postings", "bytea")], rows,
        _upsert_sql("postgresql", table), delta=f"{table}_delta",
    )  # fmt: skip


def _write_index(conn: Connection, batch: Sequence[tuple[int, PeakPrint]]) -> None:
    keys, works, postings = _group_by_key(batch)
    write_rows(conn, keys, works, postings)


def add_recordings(conn: Connection, batch: Sequence[tuple[int, PeakPrint]]) -> None:
    """Store and index several recordings, in the caller's transaction."""
    if not batch:
        return
    conn.execute(
        audio_peak_recordings.insert(),
        [
            {"work_id": w, "duration_s": fp.duration_s, "peak_count": len(fp),
             "peaks": fp.to_bytes()}
            for w, fp in batch
        ],  # fmt: skip
    )
    _write_index(conn, batch)


def add_recording(conn: Connection, work_id: int, fp: PeakPrint) -> None:
    add_recordings(conn, [(work_id, fp)])


def load_peaks(conn: Connection, work_id: int) -> PeakPrint | None:
    blob = conn.execute(
        sa.select(audio_peak_recordings.c.peaks).where(audio_peak_recordings.c.work_id == work_id)
    ).scalar_one_or_none()
    return None if blob is None else PeakPrint.from_bytes(bytes(blob))


def remove_recording(conn: Connection, work_id: int) -> bool:
    """Remove a work's peaks and postings; False if it was not indexed."""
    fp = load_peaks(conn, work_id)
    if fp is None:
        return False
    keys = sorted(set(quads(fp, REFERENCE).key.tolist()))
    drop_work(conn, audio_peak_postings, keys, work_id, POSTING,
                       batch=SQLITE_MAX_PARAMS, saturated=SATURATED_WORKS)
    conn.execute(audio_peak_recordings.delete().where(audio_peak_recordings.c.work_id == work_id))
    return True


def count_recordings(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(audio_peak_recordings)
                        ).scalar() or 0


def rebuild(conn: Connection, progress: Callable[[int, int], None] | None = None, *,
            batch_size: int = 500) -> int:  # fmt: skip
    """Recreate the postings from the stored peaks; returns recordings indexed."""
    return rebuild_from_peaks(conn, audio_peak_postings, _write_index, progress,
                              batch_size=batch_size)  # fmt: skip


def rebuild_from_peaks(conn: Connection, postings: sa.Table,
                       index: Callable[[Connection, list[tuple[int, PeakPrint]]], None],
                       progress: Callable[[int, int], None] | None = None, *,
                       batch_size: int = 500) -> int:  # fmt: skip
    """Empty ``postings`` and ``index`` every stored recording's peaks again, a batch
    of (work, peaks) at a time (the quads' and the pairs' rebuild)."""
    conn.execute(postings.delete())
    r = audio_peak_recordings
    return reindex_all(
        conn, r.c.work_id, r.c.peaks,
        lambda rows: index(conn, [(w, PeakPrint.from_bytes(bytes(b))) for w, b in rows]),
        count_recordings(conn), progress, batch_size)  # fmt: skip


# --------------------------------------------------------------------------- search


def _key_rows(conn: Connection, columns: str, keys: Sequence[int],
              max_key_works: int, table: str = "audio_peak_postings") -> list[tuple]:  # fmt: skip
    """``columns`` of the posting rows of ``keys`` in at most ``max_key_works`` works."""
    pg = conn.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    rows: list[tuple] = []
    for chunk in chunks(keys, 20_000 if pg else SQLITE_MAX_PARAMS):
        if pg:
            cond, values = "= ANY(%s)", [IntArray(chunk)]
        else:
            cond, values = f"IN ({','.join('?' * len(chunk))})", list(chunk)
        sql = f"SELECT {columns} FROM {table} WHERE works <= {mark} AND key {cond}"
        rows += driver_rows(conn, sql, [max_key_works, *values])
    return rows


def rarest_keys(conn: Connection, keys: Sequence[int], max_key_works: int,
                max_postings: int, table: str = "audio_peak_postings") -> list[int]:  # fmt: skip
    """The rarest of ``keys`` (fewest works first) whose postings add up to about
    ``max_postings``; all of them when they fit. The counts come from the process's
    copy when there is one (:mod:`.key_counts`), else from the database."""
    copy = key_counts.counts_for(conn, table)
    if copy is not None and copy.size:
        key = np.asarray(keys, dtype=np.int64)
        works = copy[np.clip(key, 0, copy.size - 1)].astype(np.int64)
        kept = works <= max_key_works
        key, works = key[kept], works[kept]
    else:
        counted = _key_rows(conn, "key, works", keys, max_key_works, table)
        pairs = np.fromiter(chain.from_iterable(counted), dtype=np.int64,
                            count=2 * len(counted))  # fmt: skip
        key, works = pairs[0::2], pairs[1::2]
    if int(works.sum()) <= max_postings:
        return key.tolist()
    order = np.lexsort((key, works))  # fewest works first, then by key
    took = int(np.searchsorted(np.cumsum(works[order]), max_postings, "right"))
    return key[order[:took]].tolist()


def fetch_postings(conn: Connection, keys: Sequence[int], max_key_works: int,
                   max_postings: int | None = None, *, table: str = "audio_peak_postings",
                   dtype: np.dtype = POSTING) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(key per posting, postings) of ``keys``, skipping keys in too many works; with
    ``max_postings``, of the rarest keys only (:func:`rarest_keys`)."""
    if max_postings is not None:
        keys = rarest_keys(conn, keys, max_key_works, max_postings, table)
    rows = _key_rows(conn, "key, postings", keys, max_key_works, table)
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, dtype=dtype)
    row_keys, blobs = zip(*rows, strict=True)
    # join takes the drivers' bytes (or memoryviews) as they are: no copy per blob
    postings = np.frombuffer(b"".join(blobs), dtype=dtype)
    counts = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    return np.repeat(np.array(row_keys, dtype=np.int64), counts // dtype.itemsize), postings


@dataclass
class _Hits:
    """Every (query quad, posting) pair sharing a hash, as transform estimates."""

    work: np.ndarray
    log_scale: np.ndarray
    pitch: np.ndarray
    offset: np.ndarray  # work frame at the query's centre frame
    tq: np.ndarray
    tr: np.ndarray

    def of_works(self, work_ids: Sequence[int]) -> _Hits:
        """The hits of these works only (what refining a candidate looks at)."""
        keep = np.isin(self.work, np.asarray(work_ids, dtype=np.int64))
        return _Hits(*(getattr(self, f.name)[keep] for f in fields(self)))


def _join(q: Quads, pk: np.ndarray, postings: np.ndarray, centre: float,
          params: PeakSearchParams) -> _Hits:  # fmt: skip
    """Pair every posting with the query quads of its key, keeping the pairs whose
    scale and pitch are in the searched range (tested first, on the two fields they
    need: most pairs of a miss fall outside it)."""
    order = np.argsort(q.key, kind="stable")
    qk, qt, qf, qs = q.key[order], q.t[order], q.f[order], q.span[order]
    rep, qi = arrays.key_join(qk, pk)
    scale = postings["span"][rep].astype(np.float64) / qs[qi].astype(np.float64)
    ok = np.flatnonzero((scale >= params.min_scale) & (scale <= params.max_scale))
    rep, qi, scale = rep[ok], qi[ok], scale[ok]
    pitch = qf[qi].astype(np.float64) - postings["f"][rep].astype(np.float64)
    ok = np.flatnonzero(np.abs(pitch) <= params.max_pitch_bins)
    rep, qi, scale, pitch = rep[ok], qi[ok], scale[ok], pitch[ok]
    p = postings[rep]
    tq = qt[qi].astype(np.float64)
    tr = p["t"].astype(np.float64)
    return _Hits(p["work"].astype(np.int64), np.log(scale), pitch,
                 tr - scale * (tq - centre), tq, tr)  # fmt: skip


def _cells(h: _Hits, params: PeakSearchParams) -> tuple[np.ndarray, ...]:
    s = np.rint(h.log_scale / params.scale_step).astype(np.int64) + 32
    p = np.rint(h.pitch / params.pitch_step).astype(np.int64) + 32
    o = np.rint(h.offset / params.offset_step).astype(np.int64) + (1 << 20)
    return s, p, o


def _code(w: np.ndarray, s: np.ndarray, p: np.ndarray, o: np.ndarray) -> np.ndarray:
    return ((w * 64 + s) * 64 + p) * (1 << 22) + o


#: A vote cell's neighbours: one scale, pitch and offset cell either way.
_NEIGHBOURS = [(ds * 64 + dp) * (1 << 22) + do
               for ds in (-1, 0, 1) for dp in (-1, 0, 1) for do in (-1, 0, 1)]  # fmt: skip


def _vote(h: _Hits, params: PeakSearchParams) -> list[tuple[int, int, int, int, int]]:
    """Best cells (votes, work, s, p, o), one per work, most votes first. A cell's
    votes include its 26 neighbours' (estimates straddle cell edges).

    Smoothing every cell was most of a miss's vote (chance hits scatter over
    ~45,000 cells of ~9,000 works at 10,000 recordings). A cell's smoothed votes
    are at most its work's hits within one offset cell, at any scale and pitch; only
    cells whose bound reaches :func:`arrays.contention_bar` are smoothed. Same
    answer (``tests/core/test_vote_pruning.py``)."""
    if not h.work.size:
        return []
    s, p, o = _cells(h, params)
    uniq, counts = arrays.value_counts(_code(h.work, s, p, o))
    work = uniq // (1 << 34)
    bar = arrays.contention_bar(work, counts, params.max_candidates, params.min_votes)
    per_offset, n_offset = arrays.value_counts(h.work * (1 << 22) + o)
    near = arrays.with_adjacent(per_offset, n_offset)
    bound = near[np.searchsorted(per_offset, work * (1 << 22) + uniq % (1 << 22))]
    at = np.flatnonzero(bound >= bar)
    smoothed = arrays.neighbour_sums(uniq, counts, at, _NEIGHBOURS)
    good = np.nonzero(smoothed >= params.min_votes)[0]
    order = good[np.argsort(-smoothed[good], kind="stable")]
    out, seen = [], set()
    for j in order.tolist():
        code = int(uniq[at[j]])
        o_ = code % (1 << 22)
        rest = code // (1 << 22)
        p_, rest = rest % 64, rest // 64
        s_, w = rest % 64, rest // 64
        if w in seen:
            continue
        seen.add(w)
        out.append((int(smoothed[j]), w, s_, p_, o_))
        if len(out) >= params.max_candidates:
            break
    return out


def _refine(h: _Hits, cell: tuple[int, int, int, int, int], centre: float,
            params: PeakSearchParams) -> Transform:  # fmt: skip
    """The transform explained by the hits in and around ``cell``: the median
    scale and pitch, then the median offset under that scale."""
    _, w, s0, p0, o0 = cell
    s, p, o = _cells(h, params)
    near = (h.work == w) & (np.abs(s - s0) <= 1) & (np.abs(p - p0) <= 1) & (np.abs(o - o0) <= 1)
    scale = float(np.exp(np.median(h.log_scale[near])))
    pitch = float(np.median(h.pitch[near]))
    offset_c = float(np.median(h.tr[near] - scale * (h.tq[near] - centre)))
    return Transform(scale, pitch, offset_c - scale * centre)


def accepted(matched: int, considered: int, seconds: float, coverage: float,
             params: PeakSearchParams, *, distinct_bins: int | None = None,
             speed: float = 1.0, pitch_semitones: float = 0.0) -> bool:  # fmt: skip
    """The acceptance rule: enough of the recording's peaks re-found, on enough
    different frequencies, all along a long enough stretch; more of them for a
    changed copy (also applied by the benchmark to recalibrate). ``distinct_bins``
    None skips the frequency rule (callers that did not measure it)."""
    ratio = matched / max(1, considered)
    need = params.ratio_base + params.ratio_slope / math.sqrt(max(1, considered))
    changed = abs(speed - 1.0) > 0.03 or abs(pitch_semitones) > 0.6
    least = params.min_matched + (params.changed_extra_matched if changed else 0)
    varied = (distinct_bins is None or distinct_bins >= params.min_distinct_bins
              or ratio >= params.strong_ratio)  # fmt: skip
    return (
        matched >= least
        and ratio >= need
        and varied
        and seconds >= params.min_seconds
        and coverage >= params.min_coverage
    )


def passes(m: PeakMatch, params: PeakSearchParams) -> bool:
    """:func:`accepted` for a match found under a more lenient rule (see :data:`LENIENT`)."""
    return accepted(m.matched, m.considered, m.query_end - m.query_start, m.coverage, params,
                    distinct_bins=m.distinct_bins, speed=m.speed,
                    pitch_semitones=m.pitch_semitones)  # fmt: skip


def accept(v: Verified, params: PeakSearchParams) -> bool:
    return accepted(v.matched, v.considered, v.query_end - v.query_start, v.coverage, params,
                    distinct_bins=v.distinct_bins, speed=v.transform.scale,
                    pitch_semitones=v.transform.pitch_semitones)  # fmt: skip


def load_many(conn: Connection, work_ids: Sequence[int]) -> dict[int, PeakPrint]:
    out: dict[int, PeakPrint] = {}
    pg = conn.dialect.name == "postgresql"
    for chunk in chunks(sorted(set(work_ids)), SQLITE_MAX_PARAMS):
        if pg:
            cond, values = "= ANY(%s)", [IntArray(chunk)]
        else:
            cond, values = f"IN ({','.join('?' * len(chunk))})", list(chunk)
        sql = f"SELECT work_id, peaks FROM audio_peak_recordings WHERE work_id {cond}"
        for w, blob in driver_rows(conn, sql, values):
            out[int(w)] = PeakPrint.from_bytes(bytes(blob))
    return out


def search(conn: Connection, query: PeakPrint, *, params: PeakSearchParams | None = None,
           settings: QuadSettings = QUERY) -> list[PeakMatch]:  # fmt: skip
    """Registered recordings containing the query under some speed and pitch
    change, best first (one match per work). ``query`` is the query's peaks
    taken with :data:`registry.core.audio_peaks.QUERY` density; ``settings`` say
    which of its quads are looked up."""
    params = params or PeakSearchParams()
    q = quads(query, settings)
    if not len(q):
        return []
    keys = arrays.distinct(q.key).tolist()
    pk, postings = fetch_postings(conn, keys, params.max_key_works, params.max_postings)
    return match_postings(query, q, pk, postings, lambda ws: load_many(conn, ws), params)


def match_postings(
    query: PeakPrint, q: Quads, pk: np.ndarray, postings: np.ndarray,
    load: Callable[[Sequence[int]], dict[int, PeakPrint]], params: PeakSearchParams,
) -> list[PeakMatch]:  # fmt: skip
    """Vote, refine and verify (the part of :func:`search` after the SQL)."""
    centre = query.duration_s * FPS / 2
    hits = _join(q, pk, postings, centre, params)
    cells = _vote(hits, params)
    if not cells:
        return []
    works = load([c[1] for c in cells])
    hits = hits.of_works([c[1] for c in cells])
    grid = _occupancy(query, int(math.ceil(query.duration_s * FPS)))
    out = []
    for cell in cells:
        wfp = works.get(cell[1])
        if wfp is None:
            continue
        v = verify(query, wfp, _refine(hits, cell, centre, params), grid)
        if v is None or not accept(v, params):
            continue
        tr = v.transform
        out.append(PeakMatch(
            work_id=cell[1], score=round(v.ratio, 4), matched=v.matched,
            considered=v.considered, coverage=round(v.coverage, 3), votes=cell[0],
            query_start=round(v.query_start, 2), query_end=round(v.query_end, 2),
            work_start=round(v.work_start, 2), work_end=round(v.work_end, 2),
            speed=round(tr.scale, 4), pitch_semitones=round(tr.pitch_semitones, 2),
            distinct_bins=v.distinct_bins,
        ))  # fmt: skip
    return sorted(out, key=lambda m: (-m.score * min(1.0, m.matched / 40), m.work_id))


def compare(query: PeakPrint, work: PeakPrint, *, query_density: bool = True,
            params: PeakSearchParams | None = None) -> PeakMatch | None:  # fmt: skip
    """Match ``query`` against one recording in memory (the evidence comparison):
    the same voting and verification as :func:`search`, without the index.
    ``query_density`` says whether ``query`` was taken at query density (a
    file's peaks) or at reference density (a registered work's)."""
    params = params or PeakSearchParams()
    q = quads(query, QUERY)
    wq = quads(work, REFERENCE)
    keep = np.isin(wq.key, q.key)
    packed = np.empty(int(keep.sum()), dtype=POSTING)
    packed["work"] = 0
    packed["t"] = np.rint(wq.t[keep]).astype(np.int64)
    packed["f"] = np.clip(np.rint(wq.f[keep]), 0, 255).astype(np.uint8)
    packed["span"] = np.clip(np.rint(wq.span[keep]), 0, 255).astype(np.uint8)
    if not query_density:  # sparser query peaks: fewer of the work's peaks re-found
        params = PeakSearchParams(**{**params.__dict__, "ratio_base": params.ratio_base / 2})
    found = match_postings(query, q, wq.key[keep], packed, lambda _ids: {0: work}, params)
    return found[0] if found else None
