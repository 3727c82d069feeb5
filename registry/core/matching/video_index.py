"""Frame-hash index for videos: an inverted index over 16-bit chunks of PDQ hashes.

Every kept frame hash of a registered video (see ``registry.core.video``: one
per second and window) is cut into its sixteen 16-bit chunks, each a key of
``video_frame_postings`` (:data:`INDEXED_CHUNKS`), whose ``postings`` field packs
every entry with that chunk value (:data:`ENTRY`: the work, the second, the
window; 7 bytes each), like the image index's packed rows. A clip reads one row
per distinct chunk of its frames (a 10 s clip, plain and mirrored: at most 640
rows by primary key), never scans; a still picture, with no time line to be
found by, also reads the chunks one bit away (:data:`NEIGHBOUR_ROWS`).

A candidate video is one whose entries agree with the query's frames on a
common time line ``work_time = slope * query_time + offset`` (slopes from 0.87 to
1.15 cover speed changes of ±15 %). Every step after the read is numpy over all
hits at once, no Python loop per hit or per video: hits are binned by
``work second - query time`` and each video ranked by the distinct query times in
its best window of bins (:func:`_rank`, an upper bound of any line's support);
the best line of each of the top :data:`MAX_CANDIDATES` is fitted in one pass
(:func:`_lines`); only a video whose line has the support is read back and
verified against its stored hashes (``video_works.frames``): each query second
counts as matched if some registered frame within a second of where the line
puts it is within :data:`MATCH_BITS` bits. Frames are only ever compared at the
aligned time, so a copy of a static shot elsewhere in a long film does not count.

Everything runs on a SQLAlchemy ``Connection``; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import (
    DDL,
    Column,
    Connection,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    event,
    func,
    insert,
    select,
)

from registry.core.matching import arrays
from registry.core.matching.postings import drop_work
from registry.core.sql import IntArray, driver_rows, metadata, postgres_copy_upsert, reindex_all
from registry.core.video import REGISTER_STEP_S, FrameHashes, hamming_rows

CHUNK_BITS = 16
#: Which 16-bit chunks of the 256 bits are index keys (all of them: a clip probes each
#: exactly rather than 8 of them and every value one bit away, 17 times the rows).
INDEXED_CHUNKS = tuple(range(16))
ENTRY = np.dtype([("work", ">i4"), ("second", ">u2"), ("window", "u1")])
MAX_PARAMS = 20000
#: A registered frame "matches" a query frame within this many of the 256 bits
#: (unrelated frames differ in ~128 ± 8).
MATCH_BITS = 80
#: A still picture needs a closer frame: it has no time line to confirm it.
STILL_MATCH_BITS = 60
SLOPES = (0.87, 0.91, 0.95, 1.0, 1.05, 1.1, 1.15)
MIN_MATCHED = 3  # matched query seconds for a clip
MIN_FRACTION = 0.3  # of the query's informative seconds
MAX_CANDIDATES = 20
#: Queries of at most this many hashes (a still picture) also probe the chunks one bit
#: away; a clip has a time line of frames to find it by instead.
NEIGHBOUR_ROWS = 8
#: Candidates are first ranked by hits binned on ``work second - query time``.
RANK_BIN_S = 2.0
_BIN_BIAS = 1 << 10

video_frame_postings = Table(
    "video_frame_postings",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=False),
    Column("postings", LargeBinary, nullable=False),
)
#: PostgreSQL: room on each page for a growing row's new version (HOT updates).
POSTGRES_FILLFACTOR = 70
event.listen(
    video_frame_postings, "after_create",
    DDL(f"ALTER TABLE video_frame_postings SET (fillfactor = {POSTGRES_FILLFACTOR})")
    .execute_if(dialect="postgresql"),
)  # fmt: skip
video_works = Table(
    "video_works",
    metadata,
    Column("work_id", Integer, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("frames", LargeBinary, nullable=False),
)
TABLES = [video_frame_postings, video_works]


@dataclass(frozen=True)
class VideoMatch:
    work_id: int
    score: float  # matched query seconds / informative query seconds, by closeness
    query_start: float
    query_end: float
    work_start: float
    work_end: float
    matched_seconds: int
    mean_distance: float
    speed: float  # work seconds per query second
    mirrored: bool
    frame_pairs: list[tuple[float, float, int]]  # (query t, work t, bits) of matched frames
    work_duration: float = 0.0


# --------------------------------------------------------------------------- keys


def chunk_keys(bits: np.ndarray) -> np.ndarray:
    """(N, len(INDEXED_CHUNKS)) posting keys ``chunk_number << 16 | chunk_value``."""
    if bits.size == 0:
        return np.zeros((0, len(INDEXED_CHUNKS)), dtype=np.int64)
    words = bits.reshape(-1, 16, 2).astype(np.int64)
    values = (words[:, :, 0] << 8) | words[:, :, 1]
    chosen = values[:, list(INDEXED_CHUNKS)]
    numbers = np.array(INDEXED_CHUNKS, dtype=np.int64) << CHUNK_BITS
    return chosen | numbers[None, :]


def _entries(work_id: int, frames: FrameHashes) -> tuple[np.ndarray, np.ndarray]:
    keys = chunk_keys(frames.bits)
    entries = np.zeros(len(frames), dtype=ENTRY)
    entries["work"] = work_id
    entries["second"] = np.clip(np.round(frames.times / REGISTER_STEP_S), 0, 65535)
    entries["window"] = frames.codes
    return keys.ravel(), np.repeat(entries, keys.shape[1])


def _append(conn: Connection, keys: np.ndarray, entries: np.ndarray) -> None:
    if not entries.size:
        return
    # np.concatenate gives structured arrays native (little-endian) fields: back to the
    # stored big-endian layout, or every work id read back is byte-swapped
    entries = entries.astype(ENTRY, copy=False)
    order = np.argsort(keys, kind="stable")
    uniq, _, packed = arrays.packed_runs(keys[order], entries[order])
    rows = list(zip(uniq, packed, strict=True))
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(
            "INSERT INTO video_frame_postings (key, postings) VALUES (?, ?) ON CONFLICT (key) "
            "DO UPDATE SET postings = CAST(video_frame_postings.postings || excluded.postings "
            "AS BLOB)",
            rows,
        )
        return
    postgres_copy_upsert(
        conn, [("key", "int4"), ("postings", "bytea")], rows,
        "INSERT INTO video_frame_postings (key, postings) "
        "SELECT key, postings FROM video_postings_delta ORDER BY key ON CONFLICT (key) "
        "DO UPDATE SET postings = video_frame_postings.postings || excluded.postings",
        delta="video_postings_delta",
    )  # fmt: skip


def add_video(conn: Connection, work_id: int, frames: FrameHashes) -> None:
    """Index a registered video's frame hashes (replacing any earlier entry)."""
    remove_video(conn, work_id)
    conn.execute(insert(video_works), [{
        "work_id": work_id, "digest": frames.digest(), "duration_s": float(frames.duration_s),
        "frames": frames.to_bytes()}])
    _append(conn, *_entries(work_id, frames))


def add_raw_frames(conn: Connection, items: Sequence[tuple[int, FrameHashes]]) -> None:
    """Postings only (no ``video_works`` row): filler for benchmarks of the index."""
    parts = [_entries(work_id, frames) for work_id, frames in items]
    if parts:
        _append(conn, np.concatenate([k for k, _ in parts]),
                np.concatenate([e for _, e in parts]))


def load_frames(conn: Connection, work_id: int) -> FrameHashes | None:
    blob = conn.execute(select(video_works.c.frames).where(video_works.c.work_id == work_id)
                        ).scalar_one_or_none()
    return None if blob is None else FrameHashes.from_bytes(bytes(blob))


def remove_video(conn: Connection, work_id: int) -> bool:
    frames = load_frames(conn, work_id)
    if frames is None:
        return False
    keys = sorted(set(chunk_keys(frames.bits).ravel().tolist()))
    drop_work(conn, video_frame_postings, keys, work_id, ENTRY, batch=MAX_PARAMS)
    conn.execute(delete(video_works).where(video_works.c.work_id == work_id))
    return True


def count_videos(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(video_works)).scalar_one())


def rebuild(conn: Connection, progress: Callable[[int, int], None] | None = None, *,
            batch: int = 200) -> int:
    """Rewrite every posting from the stored frame hashes; returns the videos indexed."""
    total = count_videos(conn)
    conn.execute(delete(video_frame_postings))
    v = video_works
    return reindex_all(
        conn, v.c.work_id, v.c.frames,
        lambda rows: add_raw_frames(conn, [(w, FrameHashes.from_bytes(bytes(b)))
                                           for w, b in rows]),
        total, progress, batch)  # fmt: skip


# --------------------------------------------------------------------------- search


def _probe(conn: Connection, keys: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(entries, the key each entry was found under)."""
    if not keys:
        return np.zeros(0, dtype=ENTRY), np.zeros(0, dtype=np.int64)
    if conn.dialect.name == "postgresql":
        rows = driver_rows(conn, "SELECT key, postings FROM video_frame_postings "
                                 "WHERE key = ANY(%s)", [IntArray(keys)])
    else:
        rows = []
        for start in range(0, len(keys), MAX_PARAMS):
            chunk = keys[start : start + MAX_PARAMS]
            marks = ",".join("?" * len(chunk))
            rows += driver_rows(conn, "SELECT key, postings FROM video_frame_postings "
                                      f"WHERE key IN ({marks})", chunk)
    blobs = [bytes(r[1]) for r in rows]
    entries = np.frombuffer(b"".join(blobs), dtype=ENTRY)
    found = np.repeat(np.array([r[0] for r in rows], dtype=np.int64),
                      [len(b) // ENTRY.itemsize for b in blobs])
    return entries, found


def _probes(query: FrameHashes) -> tuple[np.ndarray, np.ndarray]:
    """(probe keys, the query row of each). A short query (a still, a short clip's
    registration) also probes every chunk one bit away: with few frames to vote, a
    frame must not be missed because no chunk survived intact."""
    qkeys = chunk_keys(query.bits)
    flat = qkeys.ravel()
    rows = np.repeat(np.arange(len(query)), qkeys.shape[1])
    if len(query) <= NEIGHBOUR_ROWS:
        flips = np.array([1 << b for b in range(CHUNK_BITS)], dtype=np.int64)
        near = (flat[:, None] ^ flips[None, :]).ravel()
        flat = np.concatenate([flat, near])
        rows = np.concatenate([rows, np.repeat(rows, CHUNK_BITS)])
    return flat, rows


def _votes(query: FrameHashes, entries: np.ndarray, found_keys: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(work, query row, work second) of every (query row, entry) pair sharing a key,
    as arrays (one element per pair)."""
    flat, rows = _probes(query)
    order = np.argsort(flat, kind="stable")
    flat, rows = flat[order], rows[order]
    lo = np.searchsorted(flat, found_keys, "left")
    counts = np.searchsorted(flat, found_keys, "right") - lo
    total = int(counts.sum())
    if not total:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    # the query rows of entry i are rows[lo[i]:lo[i] + counts[i]]
    entry = np.repeat(np.arange(entries.size), counts)
    first = np.cumsum(counts) - counts
    at = np.repeat(lo - first, counts) + np.arange(total)
    return (entries["work"].astype(np.int64)[entry], rows[at],
            entries["second"].astype(np.int64)[entry])


def _time_index(query: FrameHashes) -> tuple[np.ndarray, np.ndarray]:
    """(the query's distinct times, the index of each row's time among them)."""
    times = np.unique(query.times)
    return times, np.searchsorted(times, query.times)


def _rank(query: FrameHashes, works: np.ndarray, rows: np.ndarray, seconds: np.ndarray,
          minimum: int) -> tuple[np.ndarray, np.ndarray]:
    """Which pairs may lie on the time line of a candidate: a mask over the pairs, and
    the candidate (index into the ranking, best first) of each; at most
    :data:`MAX_CANDIDATES` works, each with at least ``minimum`` distinct query times
    whose hits could lie on one line.

    One pass over every pair, in numpy: pairs are binned by ``work second - query
    time`` (:data:`RANK_BIN_S` wide) into windows of bins wide enough for any slope
    of :data:`SLOPES` over the query's span. A window's distinct query times are an
    upper bound of the support of any line in it, so no work that could pass is cut
    by ``minimum``; works are ranked by the hits in their best window (counting hits
    on a time line, not anywhere, keeps the chance hits that every long video of a
    large index collects from tying with the source)."""
    times, index = _time_index(query)
    span = float(times[-1] - times[0]) if times.size else 0.0
    drift = max(abs(s - 1.0) for s in SLOPES) * span + 1.5
    reach = int(np.ceil(drift / RANK_BIN_S))
    qt = query.times[rows].astype(np.float64)
    bins = np.floor((seconds - qt) / RANK_BIN_S).astype(np.int64) + _BIN_BIAS
    cell_of = (works << 16) | bins
    cells, _, hits = arrays.runs(np.sort(cell_of))
    groups = arrays.distinct((cell_of << 16) | index[rows]) >> 16  # per distinct time
    counts = arrays.runs(groups)[2]  # (the same cells, in the same order)
    # sums over the bins [bin - reach, bin + reach] of the same work, by prefix sums
    lo = np.searchsorted(cells, cells - reach, "left")
    hi = np.searchsorted(cells, cells + reach, "right")
    total = np.concatenate(([0], np.cumsum(counts)))
    window = total[hi] - total[lo]
    total = np.concatenate(([0], np.cumsum(hits)))
    strength = total[hi] - total[lo]
    keep = window >= minimum
    cells, window, strength = cells[keep], window[keep], strength[keep]
    none = np.zeros(works.size, dtype=bool), np.zeros(0, dtype=np.int64)
    if not cells.size:
        return none
    # best window per work, works by it: by hits first (a frame of the source usually
    # shares several chunks with the query's, a chance hit one), then distinct times;
    # ties to the larger (newer) work id
    order = np.lexsort((-(cells >> 16), -window, -strength))
    _, first = np.unique((cells >> 16)[order], return_index=True)
    best = cells[order[np.sort(first)]][:MAX_CANDIDATES]
    # the pairs in each chosen window
    by_work = np.argsort(best >> 16)
    sorted_works = (best >> 16)[by_work]
    at = np.minimum(np.searchsorted(sorted_works, works), sorted_works.size - 1)
    mask = sorted_works[at] == works
    mask &= np.abs(cell_of - best[by_work[at]]) <= reach
    return mask, by_work[at[mask]]


def _lines(q: np.ndarray, w: np.ndarray, group: np.ndarray, groups: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(support, slope, offset, seconds) per group of pairs: the line ``w = slope * q +
    offset`` through the most distinct query times, an offset counting the query times
    within one second of it (ties go to the slope nearest 1, then the smaller offset),
    and the distinct work seconds on it. All groups and :data:`SLOPES` in one pass."""
    support = np.zeros(groups, dtype=np.int64)
    slope = np.ones(groups)
    offset = np.zeros(groups)
    hits = np.zeros(groups, dtype=np.int64)
    if not q.size:
        return support, slope, offset, hits
    q = q.astype(np.float64)
    w = w.astype(np.float64)
    tindex = np.searchsorted(arrays.distinct(q), q).astype(np.int64)
    slopes = np.array(SLOPES)
    offs = np.round(w[None, :] - slopes[:, None] * q[None, :]).astype(np.int64)  # (S, n)
    bias = 2 - int(offs.min())
    line = group[None, :] * len(SLOPES) + np.arange(len(SLOPES))[:, None]  # (S, n)
    base = (line << 40) | ((offs + bias) << 20)
    distinct = arrays.distinct((base | tindex[None, :]).ravel())
    # each (line, offset, time) supports the centres offset - 1, offset, offset + 1
    spread = arrays.distinct(np.concatenate([distinct + (d << 20) for d in (-1, 0, 1)]))
    centres, _, counts = arrays.runs(spread >> 20)
    present = arrays.distinct(base.ravel() >> 20)
    at = np.minimum(np.searchsorted(present, centres), present.size - 1)
    real = present[at] == centres
    centres, counts = centres[real], counts[real]
    lines = centres >> 20
    gid, sid = lines // len(SLOPES), lines % len(SLOPES)
    closeness = np.argsort(np.argsort(np.abs(slopes - 1.0), kind="stable"), kind="stable")
    order = np.lexsort((centres, closeness[sid], -counts, gid))
    first = order[np.flatnonzero(np.concatenate(([True], np.diff(gid[order]) != 0)))]
    for i in first.tolist():
        g, j = int(gid[i]), int(sid[i])
        support[g], slope[g] = counts[i], SLOPES[j]
        centre = int(centres[i] & ((1 << 20) - 1)) - bias
        near = (group == g) & (np.abs(offs[j] - centre) <= 1)
        offset[g] = float(np.median(w[near] - SLOPES[j] * q[near]))
        hits[g] = arrays.distinct(w[near]).size
    return support, slope, offset, hits


def _best_line(q: np.ndarray, w: np.ndarray) -> tuple[int, float, float]:
    """(support, slope, offset) of one set of (query time, work second) pairs."""
    q = np.asarray(q, dtype=np.float64).reshape(-1)
    support, slope, offset, _ = _lines(q, np.asarray(w).reshape(-1),
                                       np.zeros(q.size, dtype=np.int64), 1)
    return int(support[0]), float(slope[0]), float(offset[0])


def _verify(query: FrameHashes, work_id: int, frames: FrameHashes, slope: float,
            offset: float) -> VideoMatch | None:
    times = np.unique(query.times)
    matched: list[tuple[float, float, int, bool]] = []
    for t in times.tolist():
        expected = slope * t + offset
        near = np.flatnonzero(np.abs(frames.times - expected) <= 1.01 * REGISTER_STEP_S)
        mine = np.flatnonzero(query.times == t)
        if near.size == 0 or mine.size == 0:
            continue
        dist = hamming_rows(query.bits[mine], frames.bits[near])
        i, j = np.unravel_index(int(np.argmin(dist)), dist.shape)
        if dist[i, j] <= MATCH_BITS:
            matched.append((t, float(frames.times[near[j]]), int(dist[i, j]),
                            bool(query.codes[mine[i]] & 1)))
    informative = max(times.size, 1)
    if len(matched) < min(MIN_MATCHED, informative) or len(matched) < MIN_FRACTION * informative:
        return None
    return _match(work_id, matched, informative, slope, frames.duration_s, query.duration_s)


def _match(work_id: int, matched: list[tuple[float, float, int, bool]], informative: int,
           slope: float, work_duration: float, query_duration: float) -> VideoMatch:
    q = np.array([m[0] for m in matched])
    w = np.array([m[1] for m in matched])
    d = np.array([m[2] for m in matched], dtype=np.float64)
    offset = float(np.median(w - slope * q))
    closeness = float(np.clip(1.0 - (d.mean() - 20.0) / (MATCH_BITS * 2.0), 0.0, 1.0))
    score = round(min(1.0, len(matched) / informative) * closeness, 4)
    q0, q1 = float(q.min()), float(q.max())
    q1 = min(max(q1 + REGISTER_STEP_S * 0.5, q0), query_duration or q1 + 0.5)
    w0 = max(0.0, slope * q0 + offset)
    w1 = min(work_duration or (slope * q1 + offset), max(w0, slope * q1 + offset))
    return VideoMatch(work_id, score, round(q0, 2), round(q1, 2), round(w0, 2), round(w1, 2),
                      len(matched), round(float(d.mean()), 1), slope,
                      sum(m[3] for m in matched) > len(matched) / 2,
                      [(float(a), float(b), int(c)) for a, b, c, _ in matched], work_duration)


def _still(query: FrameHashes, work_id: int, frames: FrameHashes) -> VideoMatch | None:
    if not len(frames):
        return None
    dist = hamming_rows(query.bits, frames.bits)
    i, j = np.unravel_index(int(np.argmin(dist)), dist.shape)
    bits = int(dist[i, j])
    if bits > STILL_MATCH_BITS:
        return None
    t = float(frames.times[j])
    score = round(float(np.clip(1.0 - bits / (STILL_MATCH_BITS * 2.0), 0.0, 1.0)), 4)
    return VideoMatch(work_id, score, 0.0, 0.0, round(t, 2),
                      round(min(t + REGISTER_STEP_S, frames.duration_s), 2), 1, float(bits),
                      1.0, bool(query.codes[i] & 1), [(0.0, t, bits)], frames.duration_s)


def search(conn: Connection, query: FrameHashes, *, limit: int = 10) -> list[VideoMatch]:
    """Registered videos showing the query's frames, best first (one match per video).

    ``query`` comes from ``video.query_frames`` (a clip) or ``video.still_query``
    (a single picture: every row at time 0)."""
    if not len(query):
        return []
    keys = arrays.distinct(_probes(query)[0]).tolist()
    entries, found = _probe(conn, keys)
    works, rows, seconds = _votes(query, entries, found)
    times = np.unique(query.times)
    still = times.size == 1
    minimum = min(MIN_MATCHED, times.size)
    lines: dict[int, tuple[float, float]] = {}
    if still:
        # no time line: works by their number of hits
        uniq, counts = arrays.value_counts(works)
        order = np.lexsort((uniq, -counts))[:MAX_CANDIDATES]
        ranked = [int(w) for w in uniq[order]]
    else:
        mask, candidate = _rank(query, works, rows, seconds, minimum)
        groups = int(candidate.max()) + 1 if candidate.size else 0
        support, slope, offset, hits = _lines(query.times[rows[mask]], seconds[mask],
                                              candidate, groups)
        first = np.zeros(groups, dtype=np.int64)
        first[candidate] = works[mask]  # the work of each candidate
        ranked = []
        # only the candidates whose exact line has the support are read back
        for g in range(groups):
            # distinct registered seconds too: two query frames half a second apart share
            # chunks, so one chance entry hits both; in 1,000 hours such pairs make
            # hundreds of chance lines of three query times, but not of three seconds
            if support[g] >= minimum and hits[g] >= minimum:
                ranked.append(int(first[g]))
                lines[int(first[g])] = float(slope[g]), float(offset[g])
    stored = _load(conn, ranked)
    matches = []
    for work_id in ranked:
        frames = stored.get(work_id)
        if frames is None:
            continue
        match = (_still(query, work_id, frames) if still
                 else _verify(query, work_id, frames, *lines[work_id]))
        if match is not None:
            matches.append(match)
    matches.sort(key=lambda m: (-m.score, m.work_id))
    return matches[:limit]


def _load(conn: Connection, work_ids: list[int]) -> dict[int, FrameHashes]:
    if not work_ids:
        return {}
    rows = conn.execute(select(video_works.c.work_id, video_works.c.frames)
                        .where(video_works.c.work_id.in_(work_ids))).all()
    return {w: FrameHashes.from_bytes(bytes(b)) for w, b in rows}
