"""Positional inverted index of Chromaprint items, stored in SQL.

Design (the part AcoustID does not do: find a short clip at any offset):

* ``audio_index`` maps a key (the top 28 bits of an item) to every (work,
  position) where it occurs. Runs of identical keys are stored once (their first
  position) and silence items are skipped. SQLite stores it ``WITHOUT ROWID`` on
  the composite primary key, PostgreSQL's primary-key btree covers the query, so
  both answer from the index alone.
* ``audio_key_stats`` counts the works each key occurs in, so keys shared by too
  many works (steady tones, common chords) are ignored at query time.
* ``audio_recordings`` keeps each work's full fingerprint, used to verify
  candidates and to rebuild the index.

A search looks up every key of every query variant (see
:func:`registry.core.audio.fingerprint_query`) in one round trip, votes on
(variant, work, offset), then verifies the best candidates by the bit error
rate of the aligned items, keeping the longest well-matching stretch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry.core.audio import EDGE_ITEMS, ITEM_SECONDS, SILENCE_ITEMS, AudioFingerprint
from registry.core.sql import metadata

# The key is 22 of the item's 32 bits: Chromaprint's 16 classifiers each emit a
# 2-bit Gray code, whose high bit (the odd bits) flips far less often under noise,
# band limiting and re-encoding than the low bit. Those 16 bits plus the six
# steadiest low bits (measured under phone band, noise and tempo changes) make a
# key that survives distortions where the top 28 bits rarely survive intact.
KEY_BITS: tuple[int, ...] = tuple(range(1, 32, 2)) + (18, 26, 6, 20, 0, 2)
# Key positions flipped one at a time when probing the unmodified query (the low
# bits, the likeliest to be wrong): finds items with one error among them.
PROBE_POSITIONS: tuple[int, ...] = tuple(range(16, len(KEY_BITS)))
# Query variants nearer than this to speed 1 are verified but not looked up.
LOOKUP_MIN_SHIFT = 0.02
SQLITE_MAX_PARAMS = 900

audio_recordings = sa.Table(
    "audio_recordings",
    metadata,
    sa.Column("work_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.LargeBinary, nullable=False),
)

audio_index = sa.Table(
    "audio_index",
    metadata,
    sa.Column("key", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("work_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

audio_key_stats = sa.Table(
    "audio_key_stats",
    metadata,
    sa.Column("key", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("works", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

AUDIO_TABLES = [audio_recordings, audio_index, audio_key_stats]


@dataclass(frozen=True)
class AudioMatch:
    """One registered recording containing (part of) the query.

    Times are in seconds: ``query_*`` on the query as submitted, ``work_*`` on
    the registered recording. ``speed`` is how much faster the query plays.
    """

    work_id: int
    score: float
    query_start: float
    query_end: float
    work_start: float
    work_end: float
    aligned_items: int
    bit_error_rate: float
    speed: float


@dataclass(frozen=True)
class SearchParams:
    """Tuning knobs of :func:`search` (defaults tuned on the benchmark corpus)."""

    # A stretch of n aligned items matches when its bit error rate is at most
    # min(max_ber, ber_base - ber_slope / sqrt(n)): short stretches must agree
    # much better than long ones, because the best short stretch between
    # unrelated pieces (chosen among many offsets, variants and candidates)
    # reaches a BER of ~0.2 at 16-30 items, ~0.31 at 50-80, ~0.33 beyond 80
    # (measured on the benchmark corpus: same instruments, similar harmony).
    # A stretch must also cover half of the shorter recording or be long: the
    # best short stretch inside a long unrelated query is a multiple-testing win.
    max_ber: float = 0.32
    ber_base: float = 0.36
    ber_slope: float = 0.9
    min_cover: float = 0.5
    long_items: int = 80  # ~10 s: long enough to stand without covering half
    window: int = 16  # items (~2 s) averaged when looking for the matching stretch
    window_bers: tuple[float, ...] = (0.40, 0.33)  # stretch delimiters, tried in turn
    min_items: int = 16  # shortest accepted stretch (a 5 s clip yields ~19 items)
    edge_errors: int = 10  # stretch ends are trimmed while an item differs in more bits
    min_votes: int = 2  # key hits at one offset to become a candidate
    max_candidates: int = 12
    max_key_works: int = 1000  # keys in more works than this are ignored


# --------------------------------------------------------------------------- keys


def item_keys(items: np.ndarray) -> np.ndarray:
    """The index key of each item: the :data:`KEY_BITS` gathered into an integer."""
    items = np.asarray(items, dtype=np.uint32)
    keys = np.zeros(items.size, dtype=np.int64)
    for j, bit in enumerate(KEY_BITS):
        keys |= ((items >> np.uint32(bit)) & np.uint32(1)).astype(np.int64) << j
    return keys


def index_keys(items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, positions) to index: silence dropped, runs of one key stored once."""
    items = np.asarray(items, dtype=np.uint32)
    keys = item_keys(items)
    keep = ~np.isin(items, np.fromiter(SILENCE_ITEMS, dtype=np.uint32))
    if keys.size:
        keep[1:] &= keys[1:] != keys[:-1]
    positions = np.nonzero(keep)[0]
    return keys[positions], positions.astype(np.int64)


# --------------------------------------------------------------------------- writes


def _index_arrays(
    batch: Sequence[tuple[int, AudioFingerprint]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(keys, work_ids, positions) of a batch sorted by key, and per-key work counts."""
    ks, ws, ps, distinct = [], [], [], []
    for work_id, fp in batch:
        k, p = index_keys(fp.items)
        ks.append(k)
        ps.append(p)
        ws.append(np.full(k.size, work_id, dtype=np.int64))
        distinct.append(np.unique(k))
    if not ks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, empty
    keys, works, pos = np.concatenate(ks), np.concatenate(ws), np.concatenate(ps)
    order = np.lexsort((pos, works, keys))  # key order: sequential b-tree inserts
    stat_keys, stat_counts = np.unique(np.concatenate(distinct), return_counts=True)
    return keys[order], works[order], pos[order], stat_keys, stat_counts


def _write_index(conn: Connection, batch: Sequence[tuple[int, AudioFingerprint]]) -> None:
    """Insert a batch's postings and add its works to the key statistics.

    Goes through the driver in bulk (SQLite ``executemany`` of tuples, PostgreSQL
    ``COPY``), still inside the caller's transaction.
    """
    keys, works, pos, stat_keys, stat_counts = _index_arrays(batch)
    if not keys.size:
        return
    rows = list(zip(keys.tolist(), works.tolist(), pos.tolist(), strict=True))
    counts = list(zip(stat_keys.tolist(), stat_counts.tolist(), strict=True))
    if conn.dialect.name == "postgresql":
        _pg_write(conn, rows, counts)
        return
    conn.exec_driver_sql(
        "INSERT INTO audio_index (key, work_id, position) VALUES (?, ?, ?)", rows
    )
    conn.exec_driver_sql(
        "INSERT INTO audio_key_stats (key, works) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET works = audio_key_stats.works + excluded.works",
        counts,
    )


def _pg_write(conn: Connection, rows: list[tuple], counts: list[tuple]) -> None:
    """COPY postings; COPY key counts into a temp table and upsert them in one statement."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        with cur.copy("COPY audio_index (key, work_id, position) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS audio_key_delta (key integer, works integer) "
            "ON COMMIT DELETE ROWS"
        )
        with cur.copy("COPY audio_key_delta (key, works) FROM STDIN") as copy:
            for row in counts:
                copy.write_row(row)
        cur.execute(
            "INSERT INTO audio_key_stats (key, works) SELECT key, works FROM audio_key_delta "
            "ORDER BY key "
            "ON CONFLICT (key) DO UPDATE SET works = audio_key_stats.works + excluded.works"
        )
        cur.execute("TRUNCATE audio_key_delta")


def add_recordings(conn: Connection, batch: Sequence[tuple[int, AudioFingerprint]]) -> None:
    """Register several recordings at once (bulk path used by imports and rebuild)."""
    if not batch:
        return
    conn.execute(
        audio_recordings.insert(),
        [
            {
                "work_id": work_id,
                "duration_s": fp.duration_s,
                "item_count": len(fp),
                "digest": fp.digest(),
                "fingerprint": fp.to_bytes(),
            }
            for work_id, fp in batch
        ],
    )
    _write_index(conn, batch)


def add_recording(conn: Connection, work_id: int, fp: AudioFingerprint) -> None:
    """Store ``fp`` for ``work_id`` and index it, in the caller's transaction."""
    add_recordings(conn, [(work_id, fp)])


def remove_recording(conn: Connection, work_id: int) -> bool:
    """Remove a work's fingerprint and index rows. False if it was not registered."""
    fp = load_fingerprint(conn, work_id)
    if fp is None:
        return False
    keys = sorted(set(index_keys(fp.items)[0].tolist()))
    for chunk in _chunks(keys, SQLITE_MAX_PARAMS):
        conn.execute(
            audio_index.delete().where(
                audio_index.c.key.in_(chunk), audio_index.c.work_id == work_id
            )
        )
        conn.execute(
            audio_key_stats.update()
            .where(audio_key_stats.c.key.in_(chunk))
            .values(works=audio_key_stats.c.works - 1)
        )
    conn.execute(audio_key_stats.delete().where(audio_key_stats.c.works <= 0))
    conn.execute(audio_recordings.delete().where(audio_recordings.c.work_id == work_id))
    return True


def load_fingerprint(conn: Connection, work_id: int) -> AudioFingerprint | None:
    blob = conn.execute(
        sa.select(audio_recordings.c.fingerprint).where(audio_recordings.c.work_id == work_id)
    ).scalar_one_or_none()
    return None if blob is None else AudioFingerprint.from_bytes(bytes(blob))


def count_recordings(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(audio_recordings)).scalar())


def rebuild(
    conn: Connection,
    progress: Callable[[int, int], None] | None = None,
    *,
    batch_size: int = 200,
) -> int:
    """Recreate the index and key statistics from the stored fingerprints.

    Returns the number of recordings indexed; ``progress(done, total)`` is called
    after each batch.
    """
    conn.execute(audio_index.delete())
    conn.execute(audio_key_stats.delete())
    total = count_recordings(conn)
    done, last = 0, None
    while True:
        query = sa.select(audio_recordings.c.work_id, audio_recordings.c.fingerprint)
        if last is not None:
            query = query.where(audio_recordings.c.work_id > last)
        rows = conn.execute(query.order_by(audio_recordings.c.work_id).limit(batch_size)).all()
        if not rows:
            break
        _write_index(conn, [(w, AudioFingerprint.from_bytes(bytes(b))) for w, b in rows])
        done += len(rows)
        last = rows[-1][0]
        if progress is not None:
            progress(done, total)
    return done


# --------------------------------------------------------------------------- search


def _chunks(values: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def fetch_postings(
    conn: Connection, keys: Sequence[int], max_key_works: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keys, work_ids, positions) of every posting of ``keys``, skipping common keys.

    Raw driver SQL: a search reads thousands of rows and SQLAlchemy's row objects
    would cost more than the query itself.
    """
    select = (
        "SELECT i.key, i.work_id, i.position FROM audio_key_stats s "
        "JOIN audio_index i ON i.key = s.key WHERE s.works <= {cap} AND s.key {cond}"
    )
    rows: list[tuple] = []
    if conn.dialect.name == "postgresql":
        sql = select.format(cap="%s", cond="= ANY(%s)")
        rows = conn.exec_driver_sql(sql, (max_key_works, list(keys))).fetchall()
    else:
        for chunk in _chunks(keys, SQLITE_MAX_PARAMS):
            marks = ",".join("?" * len(chunk))
            sql = select.format(cap="?", cond=f"IN ({marks})")
            rows += conn.exec_driver_sql(sql, (max_key_works, *chunk)).fetchall()
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    data = np.array([tuple(r) for r in rows], dtype=np.int64)
    return data[:, 0], data[:, 1], data[:, 2]


def _query_table(fps: Sequence[AudioFingerprint]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (key, position) pairs to look up.

    Only the unmodified query and the variants at least ``LOOKUP_MIN_SHIFT`` away
    from speed 1 are looked up: nearer variants find the same offsets and only
    compete at verification. The unmodified query also probes every key with
    one low bit flipped.
    """
    ks, ps = [], []
    for fp in fps:
        if fp.variant != "plain" and abs(fp.speed - 1.0) < LOOKUP_MIN_SHIFT:
            continue
        k, p = index_keys(fp.items)
        probes = [k] + ([k ^ (1 << j) for j in PROBE_POSITIONS] if fp.variant == "plain" else [])
        ks.extend(probes)
        ps.extend([p] * len(probes))
    keys, pos = np.concatenate(ks), np.concatenate(ps)
    order = np.argsort(keys, kind="stable")
    return keys[order], pos[order]


def _vote(
    qk: np.ndarray, qp: np.ndarray, pk: np.ndarray, pw: np.ndarray, pp: np.ndarray,
    params: SearchParams,
) -> list[tuple[int, int, int]]:
    """Best (votes, work, offset) per work by offset voting, most votes first.

    Every variant is expressed in the original's time base, so votes of all
    variants for one (work, offset) add up.
    """
    lo = np.searchsorted(qk, pk, "left")
    n = np.searchsorted(qk, pk, "right") - lo
    if not n.sum():
        return []
    rep = np.repeat(np.arange(pk.size), n)
    qidx = np.arange(rep.size) + np.repeat(lo - np.cumsum(n) + n, n)
    # One int64 code per (work, offset): offsets stay far below 2**22 items.
    codes = pw[rep] * (1 << 23) + (pp[rep] - qp[qidx] + (1 << 22))
    uniq, votes = np.unique(codes, return_counts=True)
    # Tolerate +-1 item of jitter: add the neighbours' votes (same work).
    smoothed = votes.copy()
    adjacent = np.diff(uniq) == 1
    smoothed[1:] += np.where(adjacent, votes[:-1], 0)
    smoothed[:-1] += np.where(adjacent, votes[1:], 0)
    good = np.nonzero(smoothed >= params.min_votes)[0]
    order = good[np.argsort(-smoothed[good], kind="stable")]
    seen: set[int] = set()
    out = []
    for j in order:
        w, o = int(uniq[j] >> 23), int((uniq[j] & ((1 << 23) - 1)) - (1 << 22))
        if w in seen:
            continue
        seen.add(w)
        out.append((int(smoothed[j]), w, o))
        if len(out) >= params.max_candidates:
            break
    return out


def bit_errors(q: np.ndarray, w: np.ndarray, offset: int) -> tuple[int, np.ndarray]:
    """(first query index, per-item bit errors) over the overlap at ``offset``."""
    start = max(0, -offset)
    end = min(q.size, w.size - offset)
    if end <= start:
        return start, np.zeros(0, dtype=np.int64)
    diff = np.bitwise_xor(q[start:end], w[start + offset : end + offset])
    return start, np.bitwise_count(diff).astype(np.int64)


def _best_stretch(
    errors: np.ndarray, params: SearchParams, window_ber: float
) -> tuple[int, int] | None:
    return longest_stretch(errors, params.window, window_ber, params.edge_errors)


def longest_stretch(
    errors: np.ndarray, window: int, window_ber: float, edge_errors: int
) -> tuple[int, int] | None:
    """Longest run of windows whose bit error rate stays under ``window_ber``.

    Shared with the evidence comparison, so that a dispute delimits a matching
    stretch exactly as the index does.
    """
    win = min(window, errors.size)
    if win == 0:
        return None
    sums = np.convolve(errors, np.ones(win, dtype=np.int64), "valid")
    ok = sums <= window_ber * 32 * win
    if not ok.any():
        return None
    edges = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    k = int(np.argmax(ends - starts))
    a, b = int(starts[k]), int(ends[k]) - 1 + win
    # A window straddling the edge of the match can pass on its good part: trim.
    while a < b and errors[a] > edge_errors:
        a += 1
    while b > a and errors[b - 1] > edge_errors:
        b -= 1
    return a, b


@dataclass
class _Verified:
    ber: float
    start: int  # query item index (variant timebase)
    end: int
    offset: int


def ber_threshold(n_items: int, params: SearchParams) -> float:
    """Highest bit error rate accepted for a stretch of ``n_items`` aligned items."""
    return min(params.max_ber, params.ber_base - params.ber_slope / np.sqrt(max(1, n_items)))


def _verify(q: np.ndarray, w: np.ndarray, offset: int, params: SearchParams) -> _Verified | None:
    """The best well-matching stretch of ``q`` against ``w`` at ``offset``."""
    start, errors = bit_errors(q, w, offset)
    for window_ber in params.window_bers:
        stretch = _best_stretch(errors, params, window_ber)
        if stretch is None or stretch[1] - stretch[0] < params.min_items:
            return None
        a, b = stretch
        ber = float(errors[a:b].sum()) / (32 * (b - a))
        covers = b - a >= min(params.long_items, params.min_cover * min(q.size, w.size))
        if covers and ber <= ber_threshold(b - a, params):
            return _Verified(ber, start + a, start + b, offset)
    return None


def _verify_all(
    fps: Sequence[AudioFingerprint], w: np.ndarray, offset: int, params: SearchParams
) -> tuple[int, _Verified] | None:
    """Try every query variant at offsets around ``offset``; keep the best stretch.

    A cheap pass ranks (variant, offset) pairs by the error rate over the whole
    overlap; the three best get the stretch analysis.
    """
    trials = []
    shifts = np.arange(offset - 2, offset + 3)
    for u, fp in enumerate(fps):
        idx = np.arange(fp.items.size)[None, :] + shifts[:, None]
        valid = (idx >= 0) & (idx < w.size)
        if not valid.any():
            continue
        errors = np.bitwise_count(fp.items[None, :] ^ w[np.clip(idx, 0, w.size - 1)])
        counts = valid.sum(axis=1)
        means = np.where(valid, errors, 0).sum(axis=1) / np.maximum(counts, 1)
        for o, m, c in zip(shifts.tolist(), means.tolist(), counts.tolist(), strict=True):
            if c:
                trials.append((m, u, o))
    best: tuple[float, int, _Verified] | None = None
    for _, u, o in sorted(trials)[:3]:
        v = _verify(fps[u].items, w, o, params)
        if v is None:
            continue
        quality = (1 - 2 * v.ber) * min(1.0, (v.end - v.start) / 100) ** 0.5
        if best is None or quality > best[0]:
            best = (quality, u, v)
    return None if best is None else (best[1], best[2])


def _load_items(conn: Connection, work_ids: Sequence[int]) -> dict[int, AudioFingerprint]:
    out: dict[int, AudioFingerprint] = {}
    for chunk in _chunks(sorted(set(work_ids)), SQLITE_MAX_PARAMS):
        rows = conn.execute(
            sa.select(audio_recordings.c.work_id, audio_recordings.c.fingerprint).where(
                audio_recordings.c.work_id.in_(chunk)
            )
        )
        for w, blob in rows:
            out[int(w)] = AudioFingerprint.from_bytes(bytes(blob))
    return out


def _to_match(
    work_id: int, fp: AudioFingerprint, wfp: AudioFingerprint, v: _Verified
) -> AudioMatch:
    """Seconds on both sides. Each item sees ~2.6 s of audio (``span``): a stretch
    that starts (ends) inside both recordings has its boundary inside the first
    (last) item's window, estimated at its middle; at a recording's edge the
    item's own edge is exact."""
    span = EDGE_ITEMS * ITEM_SECONDS
    inner_start = v.start > 0 and v.start + v.offset > 0
    inner_end = v.end < len(fp) and v.end + v.offset < len(wfp)
    lead = span / 2 if inner_start else 0.0
    tail = span / 2 if inner_end else span
    q_start = (v.start * ITEM_SECONDS + lead) / fp.speed
    q_end = min(fp.duration_s, ((v.end - 1) * ITEM_SECONDS + tail) / fp.speed)
    w_start = (v.start + v.offset) * ITEM_SECONDS + lead
    w_end = min(wfp.duration_s, (v.end - 1 + v.offset) * ITEM_SECONDS + tail)
    return AudioMatch(
        work_id=work_id,
        score=round(max(0.0, 1.0 - 2.0 * v.ber), 4),
        query_start=round(q_start, 2),
        query_end=round(max(q_end, q_start), 2),
        work_start=round(w_start, 2),
        work_end=round(max(w_end, w_start), 2),
        aligned_items=v.end - v.start,
        bit_error_rate=round(v.ber, 4),
        speed=fp.speed,
    )


def search(
    conn: Connection,
    query_fps: Sequence[AudioFingerprint],
    *,
    min_score: float | None = None,
    params: SearchParams | None = None,
) -> list[AudioMatch]:
    """Registered recordings containing the query, best first (one match per work).

    ``query_fps`` are the variants from :func:`fingerprint_query` (or just one
    fingerprint). ``min_score`` (0-1) caps the accepted bit error rate at
    ``(1 - min_score) / 2`` on top of the length-dependent threshold.
    """
    params = params or SearchParams()
    if min_score is not None:
        params = SearchParams(**{**params.__dict__, "max_ber": (1 - min_score) / 2})
    fps = [fp for fp in query_fps if len(fp)]
    if not fps:
        return []
    qk, qp = _query_table(fps)
    keys = np.unique(qk).tolist()
    pk, pw, pp = fetch_postings(conn, keys, params.max_key_works)
    candidates = _vote(qk, qp, pk, pw, pp, params)
    works = _load_items(conn, [c[1] for c in candidates])
    matches = []
    for _votes, w, offset in candidates:
        found = _verify_all(fps, works[w].items, offset, params)
        if found is not None:
            u, verified = found
            matches.append(_to_match(w, fps[u], works[w], verified))
    return sorted(matches, key=lambda m: (-_quality(m), m.work_id))


def _quality(m: AudioMatch) -> float:
    """Ranking: agreement, weighted by how much of a (15 s) query it explains."""
    return m.score * min(1.0, (m.query_end - m.query_start) / 15.0) ** 0.5
