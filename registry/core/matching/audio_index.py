"""Positional inverted index of Chromaprint items, stored in SQL.

Design (the part AcoustID does not do: find a short clip at any offset):

* ``audio_postings`` holds one row per key (22 stable bits of an item, see
  :data:`KEY_BITS`): the number of works the key occurs in and, packed in one
  binary field, every (work, position) where it occurs (:data:`POSTING`, eight
  bytes each). Runs of identical keys are stored once (their first position)
  and silence items are skipped. A search reads ~1,000 rows by primary key
  (SQLite's rowid, PostgreSQL's primary-key btree) instead of ~20,000 posting
  rows at 100,000 recordings: fetching rows, not finding them, was the cost.
* Keys shared by too many works (steady tones, common chords) are ignored at
  query time by their ``works`` count; past :data:`SATURATED_WORKS` their
  postings are no longer kept at all (the count still grows), so a common key
  never makes every registration rewrite a huge row.
* ``audio_recordings`` keeps each work's full fingerprint, used to verify
  candidates and to rebuild the index.

A search looks up every key of every query variant (see
:func:`registry.core.audio.fingerprint_query`) in one round trip, votes on
(variant, work, offset), then verifies the best candidates by the bit error
rate of the aligned items, keeping the longest well-matching stretch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry.core.audio import EDGE_ITEMS, ITEM_SECONDS, SILENCE_ITEMS, AudioFingerprint
from registry.core.matching import arrays
from registry.core.matching.postings import drop_work
from registry.core.sql import (
    IntArray,
    chunks,
    driver_rows,
    metadata,
    postgres_copy_upsert,
    reindex_all,
)

# The key is 22 of the item's 32 bits: Chromaprint's 16 classifiers each emit a
# 2-bit Gray code, whose high bit (the odd bits) flips far less often under noise,
# band limiting and re-encoding than the low bit. Those 16 bits plus the six
# steadiest low bits (measured under phone band, noise and tempo changes) make a
# key that survives distortions where the top 28 bits rarely survive intact.
# The six low bits come first, as the key's lowest bits: a key and its probes
# (below) then lie within 64 consecutive keys, on neighbouring pages of the
# key-ordered table.
KEY_BITS: tuple[int, ...] = (18, 26, 6, 20, 0, 2) + tuple(range(1, 32, 2))
# Key positions flipped one at a time when probing the unmodified query (the low
# bits, the likeliest to be wrong): finds items with one error among them.
PROBE_POSITIONS: tuple[int, ...] = tuple(range(6))
# Query variants nearer than this to speed 1 are verified but not looked up.
LOOKUP_MIN_SHIFT = 0.02
SQLITE_MAX_PARAMS = 900
#: One posting in ``audio_postings.postings``: work id and item position, big-endian
#: (PostgreSQL's own ``int4send`` order, so SQL can build the same bytes).
POSTING = np.dtype([("work", ">i4"), ("position", ">i4")])
#: A key in more works than this keeps only its count (see the module docstring).
SATURATED_WORKS = 5000
#: Bound on (candidate, variant, offset, item) elements verified at once.
VERIFY_ELEMENTS = 2_000_000

audio_recordings = sa.Table(
    "audio_recordings",
    metadata,
    sa.Column("work_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.LargeBinary, nullable=False),
)

audio_postings = sa.Table(
    "audio_postings",
    metadata,
    sa.Column("key", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("works", sa.Integer, nullable=False),
    sa.Column("postings", sa.LargeBinary, nullable=False),
)
#: PostgreSQL: room on each page for the new version of a growing row, so that an
#: append stays on its page (a HOT update): no new index entry, the primary-key
#: index stays small enough to stay cached, and rows stay in key order.
POSTGRES_FILLFACTOR = 70
sa.event.listen(
    audio_postings, "after_create",
    sa.DDL(f"ALTER TABLE audio_postings SET (fillfactor = {POSTGRES_FILLFACTOR})")
    .execute_if(dialect="postgresql"),
)  # fmt: skip

AUDIO_TABLES = [audio_recordings, audio_postings]


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
    # Share of the query stretch's bits that flip from one item to the next
    # (:func:`item_change`): low for held chords and drones.
    item_change: float = 1.0
    # Whether the stretch also passes the strict rule (:data:`STRICT`): a weaker one
    # stands only where the peak fingerprint vouches for the same work
    # (:func:`registry.core.audio_query.vote`).
    strong: bool = True


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
    max_key_works: int = 1000  # keys in more works are ignored (<= SATURATED_WORKS)
    # Held chords: where the query's items barely change from one to the next (a
    # drone, a sustained chord), n aligned items are not n pieces of evidence. A
    # stretch whose items flip a share ``change`` of their bits per step counts as
    # n * min(1, change / change_ref) items (0 turns this off). Clips of music flip
    # 0.09-0.13 of their bits per item; held chords 0.03-0.05.
    change_ref: float = 0.0


#: The rule a Chromaprint stretch must pass to stand on its own. Between it and the
#: default rule, unrelated recordings that drone or hum alike (ambient tracks, wind
#: and rain) matched 3-4 % of 10-15 s clips of unregistered game music; the
#: stricter rule cut that to under 1 % and lost no transformed copy, because the
#: peak fingerprint vouches for the copies Chromaprint sees only weakly
#: (``benchmarks/README_audio.md``, "Results, session 6"). The held-chord rule
#: (``change_ref``) took out the rest: two tracks holding chords alike agreed at a
#: bit error rate of 0.05-0.15 ("Session 8").
STRICT = SearchParams(ber_base=0.28, max_ber=0.24, change_ref=0.10)


# --------------------------------------------------------------------------- keys


def _key_tables() -> np.ndarray:
    """Per byte of an item, what each of its 256 values adds to the key."""
    tables = np.zeros((4, 256), dtype=np.int64)
    values = np.arange(256, dtype=np.int64)
    for j, bit in enumerate(KEY_BITS):
        tables[bit // 8] |= ((values >> (bit % 8)) & 1) << j
    return tables


_KEY_TABLES = _key_tables()


def item_keys(items: np.ndarray) -> np.ndarray:
    """The index key of each item: the :data:`KEY_BITS` gathered into an integer
    (four byte-table lookups instead of 22 bit extractions)."""
    items = np.asarray(items, dtype=np.uint32)
    keys = _KEY_TABLES[0][items & np.uint32(0xFF)]
    for b in range(1, 4):
        keys |= _KEY_TABLES[b][(items >> np.uint32(8 * b)) & np.uint32(0xFF)]
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


@dataclass(frozen=True)
class _KeyRows:
    """A batch's postings grouped by key: what each key's row gains."""

    keys: list[int]
    works: list[int]  # distinct works per key
    postings: list[bytes]  # packed POSTING entries, in (work, position) order


def _group_by_key(batch: Sequence[tuple[int, AudioFingerprint]]) -> _KeyRows:
    ks, ws, ps = [], [], []
    for work_id, fp in batch:
        k, p = index_keys(fp.items)
        ks.append(k)
        ps.append(p)
        ws.append(np.full(k.size, work_id, dtype=np.int64))
    if not ks or not sum(k.size for k in ks):
        return _KeyRows([], [], [])
    keys, works, pos = np.concatenate(ks), np.concatenate(ws), np.concatenate(ps)
    order = np.lexsort((pos, works, keys))
    keys, works, pos = keys[order], works[order], pos[order]
    packed = np.empty(keys.size, dtype=POSTING)
    packed["work"], packed["position"] = works, pos
    uniq, starts, postings = arrays.packed_runs(keys, packed)
    first_of_work = np.ones(keys.size, dtype=bool)
    first_of_work[1:] = (keys[1:] != keys[:-1]) | (works[1:] != works[:-1])
    n_works = np.add.reduceat(first_of_work.astype(np.int64), starts).tolist()
    postings = [p if n <= SATURATED_WORKS else b"" for p, n in zip(postings, n_works, strict=True)]
    return _KeyRows(uniq, n_works, postings)


def _upsert_clause(empty: str, concat: str) -> str:
    """ON CONFLICT action shared by both databases: add the counts, append the
    postings unless the key is now saturated."""
    return (
        "ON CONFLICT (key) DO UPDATE SET works = audio_postings.works + excluded.works, "
        f"postings = CASE WHEN audio_postings.works + excluded.works > {SATURATED_WORKS} "
        f"THEN {empty} ELSE {concat} END"
    )


def _upsert_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return (
            "INSERT INTO audio_postings (key, works, postings) "
            "SELECT key, works, postings FROM audio_postings_delta ORDER BY key "
            + _upsert_clause("''::bytea", "audio_postings.postings || excluded.postings")
        )
    return (
        "INSERT INTO audio_postings (key, works, postings) VALUES (?, ?, ?) "
        + _upsert_clause("X''", "CAST(audio_postings.postings || excluded.postings AS BLOB)")
    )


def _write_index(conn: Connection, batch: Sequence[tuple[int, AudioFingerprint]]) -> None:
    """Append a batch's postings to their keys' rows, in the caller's transaction.

    Goes through the driver in bulk (SQLite ``executemany``, PostgreSQL binary
    ``COPY`` into a temporary table and one upsert).
    """
    grouped = _group_by_key(batch)
    if not grouped.keys:
        return
    rows = zip(grouped.keys, grouped.works, grouped.postings, strict=True)
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(_upsert_sql("sqlite"), list(rows))
        return
    postgres_copy_upsert(
        conn, [("key", "int4"), ("works", "int4"), ("postings", "bytea")], rows,
        _upsert_sql("postgresql"), delta="audio_postings_delta",
    )  # fmt: skip


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
    """Remove a work's fingerprint and postings. False if it was not registered.

    A saturated key (no postings kept) keeps its count: it stays ignored until
    :func:`rebuild`, which is what a key that common deserves anyway.
    """
    fp = load_fingerprint(conn, work_id)
    if fp is None:
        return False
    keys = sorted(set(index_keys(fp.items)[0].tolist()))
    drop_work(conn, audio_postings, keys, work_id, POSTING, batch=SQLITE_MAX_PARAMS,
                       saturated=SATURATED_WORKS)
    conn.execute(audio_recordings.delete().where(audio_recordings.c.work_id == work_id))
    return True


def load_fingerprint(conn: Connection, work_id: int) -> AudioFingerprint | None:
    blob = conn.execute(
        sa.select(audio_recordings.c.fingerprint).where(audio_recordings.c.work_id == work_id)
    ).scalar_one_or_none()
    return None if blob is None else AudioFingerprint.from_bytes(bytes(blob))


def count_recordings(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(audio_recordings)).scalar() or 0


def rebuild(
    conn: Connection,
    progress: Callable[[int, int], None] | None = None,
    *,
    batch_size: int = 1000,
) -> int:
    """Recreate the postings from the stored fingerprints.

    Returns the number of recordings indexed; ``progress(done, total)`` is called
    after each batch.
    """
    conn.execute(audio_postings.delete())
    r = audio_recordings
    return reindex_all(
        conn, r.c.work_id, r.c.fingerprint,
        lambda rows: _write_index(conn, [(w, AudioFingerprint.from_bytes(bytes(b)))
                                         for w, b in rows]),
        count_recordings(conn), progress, batch_size)  # fmt: skip


# --------------------------------------------------------------------------- search


def _in_list(conn: Connection, values: Sequence[int]) -> tuple[str, list]:
    """``= ANY(%s)`` with one array on PostgreSQL, ``IN (?, ...)`` on SQLite."""
    if conn.dialect.name == "postgresql":
        return "= ANY(%s)", [IntArray(values)]
    return f"IN ({','.join('?' * len(values))})", list(values)


def fetch_postings(
    conn: Connection, keys: Sequence[int], max_key_works: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keys, work_ids, positions) of every posting of ``keys``, skipping common keys.

    One row per key; numpy unpacks the postings.
    """
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    rows: list[tuple] = []
    for chunk in chunks(keys, SQLITE_MAX_PARAMS * 10):
        cond, values = _in_list(conn, chunk)
        sql = f"SELECT key, postings FROM audio_postings WHERE works <= {mark} AND key {cond}"
        rows += driver_rows(conn, sql, [max_key_works, *values])
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    row_keys, blobs = zip(*rows, strict=True)
    postings = np.frombuffer(b"".join(blobs), dtype=POSTING)
    counts = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    return (
        np.repeat(np.array(row_keys, dtype=np.int64), counts // POSTING.itemsize),
        postings["work"].astype(np.int64),
        postings["position"].astype(np.int64),
    )


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
    if not pk.size:
        return []
    # Postings come grouped by key: look each run of one key up once.
    starts = np.concatenate([[0], np.flatnonzero(pk[1:] != pk[:-1]) + 1])
    run_lengths = np.diff(np.append(starts, pk.size))
    run_lo = np.searchsorted(qk, pk[starts], "left")
    lo = np.repeat(run_lo, run_lengths)
    n = np.repeat(np.searchsorted(qk, pk[starts], "right") - run_lo, run_lengths)
    if not n.sum():
        return []
    rep = np.repeat(np.arange(pk.size), n)
    qidx = np.arange(rep.size) + np.repeat(lo - np.cumsum(n) + n, n)
    # One int64 code per (work, offset): offsets stay far below 2**22 items.
    codes = pw[rep] * (1 << 23) + (pp[rep] - qp[qidx] + (1 << 22))
    uniq, votes = arrays.value_counts(codes)
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
    change: float = 1.0  # item_change of the query stretch


def item_change(items: np.ndarray) -> float:
    """Share of the bits that flip between consecutive items (1.0 when fewer than two)."""
    if items.size < 2:
        return 1.0
    return float(np.bitwise_count(items[1:] ^ items[:-1]).sum()) / (32 * (items.size - 1))


def effective_items(n_items: int, change: float, params: SearchParams) -> int:
    """How many items a stretch counts as under the held-chord rule (``change_ref``)."""
    if params.change_ref <= 0:
        return n_items
    return int(n_items * min(1.0, change / params.change_ref))


def ber_threshold(n_items: int, params: SearchParams) -> float:
    """Highest bit error rate accepted for a stretch of ``n_items`` aligned items."""
    return min(params.max_ber, params.ber_base - params.ber_slope / np.sqrt(max(1, n_items)))


def _verify(q: np.ndarray, w: np.ndarray, offset: int, params: SearchParams) -> _Verified | None:
    """The best well-matching stretch of ``q`` against ``w`` at ``offset``: the
    rule of :func:`_accept` on one trial (:func:`verify_candidates` applies it
    to many at once)."""
    start, errors = bit_errors(q, w, offset)
    stretches = [longest_stretch(errors, params.window, window_ber, params.edge_errors)
                 for window_ber in params.window_bers]  # fmt: skip
    v = _accept(errors, stretches, q[start : start + errors.size], w.size, offset, params, q.size)
    if v is None:
        return None
    return _Verified(v.ber, start + v.start, start + v.end, offset, v.change)


class QueryVariants:
    """The query variants' items in one zero-padded matrix, built once per search,
    so a candidate is compared with every variant at five offsets in one step."""

    def __init__(self, fps: Sequence[AudioFingerprint]) -> None:
        self.fps = list(fps)
        width = max(fp.items.size for fp in self.fps)
        self.items = np.zeros((len(self.fps), width), dtype=np.uint32)
        self.valid = np.zeros((len(self.fps), width), dtype=bool)
        for u, fp in enumerate(self.fps):
            self.items[u, : fp.items.size] = fp.items
            self.valid[u, : fp.items.size] = True
        self.positions = np.arange(width)


@dataclass
class _Trials:
    """The (variant, offset) trials chosen for the stretch analysis of a set of
    candidates: one row of per-item bit errors each, valid over ``[lo, hi)``
    (the query item indices where the variant overlaps the recording)."""

    candidate: np.ndarray
    variant: np.ndarray
    shift: np.ndarray  # the offset tried (work item = query item + shift)
    errors: np.ndarray  # (trial, item)
    lo: np.ndarray
    hi: np.ndarray


def _rank_trials(
    variants: QueryVariants, works: Sequence[np.ndarray], offsets: Sequence[int], best: int = 3
) -> _Trials:
    """Every variant at offsets around each candidate's voted offset, ranked by the
    error rate over the whole overlap; the ``best`` of each candidate are kept.
    All candidates at once: one array of (candidate, variant, shift, item)."""
    lens = np.array([w.size for w in works], dtype=np.int64)
    firsts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    flat = np.concatenate(list(works))
    shifts = np.asarray(offsets, dtype=np.int64)[:, None] + np.arange(-2, 3)[None, :]
    idx = shifts[:, :, None] + variants.positions[None, None, :]  # (cand, shift, item)
    inside = (idx >= 0) & (idx < lens[:, None, None])
    gathered = flat[firsts[:, None, None] + np.clip(idx, 0, lens[:, None, None] - 1)]
    errors = np.bitwise_count(variants.items[None, :, None, :] ^ gathered[:, None, :, :])
    valid = variants.valid[None, :, None, :] & inside[:, None, :, :]  # (cand, var, shift, item)
    counts = valid.sum(axis=3)
    means = np.where(valid, errors, 0).sum(axis=3) / np.maximum(counts, 1)
    means[counts == 0] = np.inf
    n_shifts = shifts.shape[1]
    order = np.argsort(means.reshape(len(works), -1), axis=1, kind="stable")[:, :best]
    cand = np.repeat(np.arange(len(works)), order.shape[1])
    var, k = np.divmod(order.ravel(), n_shifts)
    keep = np.isfinite(means[cand, var, k])
    cand, var, k = cand[keep], var[keep], k[keep]
    rows = valid[cand, var, k]
    width = rows.shape[1]
    return _Trials(
        candidate=cand, variant=var, shift=shifts[cand, k],
        errors=np.where(rows, errors[cand, var, k], 0).astype(np.int64),
        lo=np.argmax(rows, axis=1), hi=width - np.argmax(rows[:, ::-1], axis=1),
    )  # fmt: skip


def _longest_runs(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: (first, last) index of its first longest run of True; last < first if none."""
    pos = np.arange(ok.shape[1])
    last_false = np.maximum.accumulate(np.where(ok, -1, pos), axis=1)
    runs = np.where(ok, pos - last_false, 0)
    last = np.argmax(runs, axis=1)
    return last - runs[np.arange(ok.shape[0]), last] + 1, last


def _stretches(trials: _Trials, params: SearchParams) -> list[list[tuple[int, int] | None]]:
    """:func:`longest_stretch` for every trial and every delimiter of
    ``params.window_bers``, on all trials at once (rows of one width)."""
    win = params.window
    sums = np.concatenate([np.zeros((trials.errors.shape[0], 1), np.int64),
                           np.cumsum(trials.errors, axis=1)], axis=1)  # fmt: skip
    window_sums = sums[:, win:] - sums[:, :-win]
    at = np.arange(window_sums.shape[1])[None, :]
    whole = (at >= trials.lo[:, None]) & (at + win <= trials.hi[:, None])
    out: list[list[tuple[int, int] | None]] = [[] for _ in range(trials.errors.shape[0])]
    for window_ber in params.window_bers:
        first, last = _longest_runs(whole & (window_sums <= window_ber * 32 * win))
        for t, (a, b) in enumerate(zip(first.tolist(), (last + win).tolist(), strict=True)):
            if a > b - win:
                out[t].append(None)
                continue
            row = trials.errors[t]
            while a < b and row[a] > params.edge_errors:
                a += 1
            while b > a and row[b - 1] > params.edge_errors:
                b -= 1
            out[t].append((a, b))
    return out


def _accept(
    errors: np.ndarray, stretches: Sequence[tuple[int, int] | None], q_items: np.ndarray,
    w_size: int, shift: int, params: SearchParams, q_size: int,
) -> _Verified | None:
    """The first delimiter's stretch that is long enough and agrees well enough;
    a stretch too short (or none) at a delimiter ends the search. ``q_items`` are
    the query items that ``errors`` compares, index for index."""
    for stretch in stretches:
        if stretch is None or stretch[1] - stretch[0] < params.min_items:
            return None
        a, b = stretch
        ber = float(errors[a:b].sum()) / (32 * (b - a))
        change = item_change(q_items[a:b])
        n = effective_items(b - a, change, params)
        covers = n >= min(params.long_items, params.min_cover * min(q_size, w_size))
        if covers and ber <= ber_threshold(n, params):
            return _Verified(ber, a, b, shift, change)
    return None


def verify_candidates(
    variants: QueryVariants, works: Sequence[np.ndarray], offsets: Sequence[int],
    params: SearchParams,
) -> list[tuple[int, _Verified] | None]:
    """For each candidate (recording items, voted offset): the best query variant
    and its verified stretch, or None.

    Every variant is tried at offsets around the voted one; the three trials
    with the lowest error rate over the whole overlap get the stretch analysis
    (:func:`_verify`), done here on all candidates' trials at once.
    """
    # Candidates in groups, so that a query of hours (a whole-file registration
    # check) does not build arrays of hundreds of MB.
    group = max(1, VERIFY_ELEMENTS // (5 * len(variants.fps) * variants.positions.size))
    if len(works) > group:
        return [
            hit
            for i in range(0, len(works), group)
            for hit in verify_candidates(
                variants, works[i : i + group], offsets[i : i + group], params
            )
        ]
    results: list[tuple[int, _Verified] | None] = [None] * len(works)
    if not works:
        return results
    trials = _rank_trials(variants, works, offsets)
    short = (trials.hi - trials.lo) < params.window
    stretches = _stretches(trials, params)
    best: dict[int, tuple[float, int, _Verified]] = {}
    for t in range(trials.candidate.size):
        c, u, shift = int(trials.candidate[t]), int(trials.variant[t]), int(trials.shift[t])
        q = variants.fps[u].items
        if short[t]:  # overlap shorter than one window: the plain rule
            v = _verify(q, works[c], shift, params)
        else:
            v = _accept(trials.errors[t], stretches[t], q, works[c].size, shift, params, q.size)
        if v is None:
            continue
        quality = (1 - 2 * v.ber) * min(1.0, (v.end - v.start) / 100) ** 0.5
        if c not in best or quality > best[c][0]:
            best[c] = (quality, u, v)
    for c, (_, u, v) in best.items():
        results[c] = (u, v)
    return results


def _load_items(conn: Connection, work_ids: Sequence[int]) -> dict[int, AudioFingerprint]:
    out: dict[int, AudioFingerprint] = {}
    for chunk in chunks(sorted(set(work_ids)), SQLITE_MAX_PARAMS):
        cond, values = _in_list(conn, chunk)
        sql = f"SELECT work_id, fingerprint FROM audio_recordings WHERE work_id {cond}"
        for w, blob in driver_rows(conn, sql, values):
            out[int(w)] = AudioFingerprint.from_bytes(bytes(blob))
    return out


def _to_match(
    work_id: int, fp: AudioFingerprint, wfp: AudioFingerprint, v: _Verified, strong: bool = True
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
        strong=strong,
        item_change=round(v.change, 4),
    )


def search(
    conn: Connection,
    query_fps: Sequence[AudioFingerprint],
    *,
    min_score: float | None = None,
    params: SearchParams | None = None,
    strict: SearchParams | None = None,
) -> list[AudioMatch]:
    """Registered recordings containing the query, best first (one match per work).

    ``query_fps`` are the variants from :func:`fingerprint_query` (or just one
    fingerprint). ``min_score`` (0-1) caps the accepted bit error rate at
    ``(1 - min_score) / 2`` on top of the length-dependent threshold. With
    ``strict``, the candidates are verified under both rules: a match the strict
    rule finds is reported as it found it; one only ``params`` accepts is
    reported with ``strong=False``.
    """
    params = params or SearchParams()
    if min_score is not None:
        params = SearchParams(**{**params.__dict__, "max_ber": (1 - min_score) / 2})
        if strict is not None:
            strict = replace(strict, max_ber=min(strict.max_ber, params.max_ber))
    # A variant shorter than the shortest accepted stretch cannot match (a 3 s clip
    # has ~3 items): the peak index answers for such clips.
    fps = [fp for fp in query_fps if len(fp) >= params.min_items]
    if not fps:
        return []
    qk, qp = _query_table(fps)
    keys = arrays.runs(qk)[0].tolist()  # _query_table sorts
    pk, pw, pp = fetch_postings(conn, keys, params.max_key_works)
    candidates = _vote(qk, qp, pk, pw, pp, params)
    works = _load_items(conn, [c[1] for c in candidates])
    variants = QueryVariants(fps)
    items = [works[w].items for _, w, _ in candidates]
    offsets = [offset for _, _, offset in candidates]
    found = verify_candidates(variants, items, offsets, params)
    strong = verify_candidates(variants, items, offsets, strict) if strict else found
    matches = []
    for (_, w, _), hit, hard in zip(candidates, found, strong, strict=True):
        best = hard or hit
        if best is not None:
            matches.append(_to_match(w, fps[best[0]], works[w], best[1], strong=hard is not None))
    return sorted(matches, key=lambda m: (-_quality(m), m.work_id))


def _quality(m: AudioMatch) -> float:
    """Ranking: agreement, weighted by how much of a (15 s) query it explains."""
    return m.score * min(1.0, (m.query_end - m.query_start) / 15.0) ** 0.5
