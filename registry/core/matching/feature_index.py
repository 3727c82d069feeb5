"""Candidate search for local features: locality-sensitive hashing of ORB descriptors in SQL.

A registered picture keeps its strongest keypoints (``image_features``: the
compact form of :class:`~registry.core.image_features.LocalFeatures`, the
source of everything else here). Each descriptor (256 bits) gives one key per
*table*: :data:`KEY_BITS` of its bits, a different set per table (bit
sampling, an LSH family for the Hamming distance). Two descriptors of the same
corner seen in two copies differ in a few dozen bits, so they share a table's
key often; unrelated descriptors rarely. ``image_feature_postings`` has one row
per key packing an entry for every registered keypoint with that key (the work
id and the keypoint's geometry, 6 bytes: :data:`ENTRY`), read by primary key
like the hash index's chunk rows.

Each entry also carries the registered keypoint's geometry (orientation, size
and a coarse position, :func:`geometry_codes`). A query reads the rows of its
strongest keypoints' keys (upright and mirrored) and counts votes per work the
way Lowe's Hough pre-filter does (:func:`votes`): every collision of a query
keypoint with a registered one implies a turn, a scale and where the registered
picture's reference point lands in the query; a copy's collisions agree on one
such cell, chance collisions spread over many. A work's votes are those of its
best cell. The best few works are verified geometrically
(:func:`registry.core.image_features.verify`): the index only proposes; nothing
is accepted without RANSAC agreeing.

Why: counting every collision (one vote per query keypoint per work) let the
lettering and interface corners of a screenshot, and the generic corners of any
picture, vote for the works richest in generic descriptors; the right work of a
screenshot ranked 13th-50th of 60 and was never verified (benchmarks/README_image.md).

Everything runs on a SQLAlchemy ``Connection`` the caller owns, so the index is
written in the same transaction as the work.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import (
    DDL,
    Column,
    Connection,
    Integer,
    LargeBinary,
    Table,
    delete,
    event,
    func,
    insert,
    literal,
    select,
)

from registry.core.image_features import (
    FeatureMatch,
    LocalFeatures,
    agreeing_pair_count,
    best_match,
)
from registry.core.matching import arrays
from registry.core.matching.postings import drop_work
from registry.core.sql import IntArray, driver_rows, metadata, postgres_copy_upsert, reindex_all

TABLES = 3
KEY_BITS = 18
#: Keypoints of a query (each orientation) whose keys are probed: the strongest.
PROBED_KEYPOINTS = 600
#: Works verified per query: the ones with the most votes (at least MIN_VOTES; votes
#: of one Hough cell, so 2 already agree on a turn, scale and position: a collage
#: tile of a smooth picture may have no more among 60 registered pictures).
CANDIDATES = 12
MIN_VOTES = 2
#: When none of those verifies (nor a work the hashes proposed), the next
#: RESERVE_CANDIDATES by votes are verified too. Why: at 300 registered real photos
#: a crop, a quadrant or a screenshot whose picture has few distinctive corners
#: gets 2-6 votes, tied with many unrelated works (ties go by work id), and its
#: work ranked 13th-53rd though it verified with 15-121 inliers. A copy that the
#: first candidates already find pays nothing for this (benchmarks/README_image.md,
#: "Session 10").
RESERVE_CANDIDATES = 24
#: The reserve is screened before it is verified (:func:`_screened`): a reserve
#: candidate is verified in an orientation of the query only when a sample of
#: SCREEN_KEYPOINTS keypoints of that orientation gives it SCREEN_PAIRS ratio-test
#: pairs that agree on one turn and scale
#: (:func:`registry.core.image_features.agreeing_pair_count`).
RESERVE_SCREEN = True
SCREEN_KEYPOINTS = 300
SCREEN_PAIRS = 3
#: The first CANDIDATES voted works but the best-voted one are screened too, with
#: a lower threshold (the best-voted work and the works the hashes proposed are
#: verified in full). Why: a query that finds nothing verified all of them in
#: full, 12 works in one or two orientations, the largest part of a local-feature
#: lookup at 100,000 pictures. On the whole 300 / 150 real-photo table (5,955
#: queries, 123,062 voted verifications) this rule loses no verified match; the
#: reserve's threshold (3) would have lost 13 copies found today (turned ones
#: matched through guided pairs, collage tiles), and screening the best-voted work
#: at 2 one collage: benchmarks/README_image.md, "Session 14".
CANDIDATE_SCREEN = True
CANDIDATE_SCREEN_PAIRS = 2
UNSCREENED_CANDIDATES = 1
#: A key shared by more than this many registered keypoints (and this share of
#: all works) says little: it is skipped when counting votes.
STOP_POSTING = 2000
MAX_PARAMS = 20000
INSERT_BATCH = 2000
#: A posting entry: the work, and its keypoint's geometry packed in 16 bits (see
#: :func:`geometry_codes`): orientation in 1/32 turns (5 bits), size in half
#: octaves above ORB's patch (3 bits; 7: unknown), position in 64-pixel cells of
#: the feature frame (4 + 4 bits).
ENTRY = np.dtype([("work", ">i4"), ("geo", ">u2")])
ANGLE_STEPS = 32
SIZE_STEPS = 7
#: Geometry of a keypoint stored without it (features of format 1, before
#: migration image_02): such entries all vote in one cell, i.e. as plain votes,
#: until ``flask index rebuild`` extracts the picture's keypoints again.
UNKNOWN_GEOMETRY = 0xFFFF
BASE_SIZE = 31.0  # ORB's patch diameter at the finest level
POSITION_CELL = 64
#: Hough cells of the vote count: turn (degrees), log2 scale, and the position
#: of the registered frame's reference point in the query, in this share of the
#: registered frame's nominal side (FRAME_SIDE) at the cell's scale. Each vote
#: counts in the grid and in grids shifted by half a cell in turn and scale, so
#: that a copy's votes near a cell border are not split. Measured on 60 and 258
#: registered real photos (benchmarks/README_image.md): 30 deg, half an octave
#: and 0.15 ranked the right work best; finer or softer position cells did not help.
ANGLE_BIN = 30.0
SCALE_BIN = 0.5
POSITION_BIN = 0.15
FRAME_SIDE = 1024.0
#: A cell counts at most this many query keypoints per distinct registered
#: keypoint geometry in it (:func:`_best_cell_votes`). 2 found 2 more collages
#: among 258 registered pictures and 3 fewer screenshots (whose lettering meets
#: registered lettering): 1 kept.
QUERY_PER_REGISTERED = 1
#: Works scored in the first round of :func:`_score` (each round doubles).
SCORED_ROUND = 256
#: Works scored by Hough cells per query orientation, at most (the highest
#: :func:`_turn_bound` first). In a large index the CANDIDATES-th best score is the
#: chance level (MIN_VOTES at 100,000 pictures, where 81,000-99,000 of the works a
#: query collides with have as many plain votes), so scoring stops here instead of
#: at that score; a work whose votes exceed the bound of the MAX_SCORED-th work is
#: always scored (benchmarks/README_image.md, "Session 8").
MAX_SCORED = 1024

image_feature_postings = Table(
    "image_feature_postings",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=False),
    Column("postings", LargeBinary, nullable=False),
)
event.listen(
    image_feature_postings, "after_create",
    DDL("ALTER TABLE image_feature_postings SET (fillfactor = 70)")
    .execute_if(dialect="postgresql"),
)  # fmt: skip
image_features = Table(
    "image_features",
    metadata,
    Column("work_id", Integer, primary_key=True, autoincrement=False),
    Column("features", LargeBinary, nullable=False),
)
INDEX_TABLES = [image_feature_postings, image_features]

# Bit i of table t is descriptor bit i * TABLES + t (ORB's bits come ordered by
# how informative they were in training: interleaving gives every table a fair share).
_BIT_INDEX = np.array([[i * TABLES + t for i in range(KEY_BITS)] for t in range(TABLES)])


def descriptor_keys(descriptors: np.ndarray) -> np.ndarray:
    """(n, TABLES) int64 keys: ``table << KEY_BITS | sampled bits``."""
    if not len(descriptors):
        return np.zeros((0, TABLES), dtype=np.int64)
    bits = np.unpackbits(np.asarray(descriptors, dtype=np.uint8), axis=1)  # (n, 256)
    sampled = bits[:, _BIT_INDEX]  # (n, TABLES, KEY_BITS)
    weights = (1 << np.arange(KEY_BITS - 1, -1, -1)).astype(np.int64)
    values = (sampled.astype(np.int64) * weights).sum(axis=2)
    return values | (np.arange(TABLES, dtype=np.int64) << KEY_BITS)[None, :]


# --------------------------------------------------------------------------- writes


def geometry_codes(feats: LocalFeatures) -> np.ndarray:
    """(n,) uint16: each keypoint's orientation, size and 64-pixel cell, packed
    ``angle << 11 | size << 8 | x << 4 | y``; :data:`UNKNOWN_GEOMETRY` for all when
    the features carry no orientation and size (format 1)."""
    n = len(feats)
    if feats.angles is None or feats.sizes is None:
        return np.full(n, UNKNOWN_GEOMETRY, dtype=np.uint16)
    angle = np.round(feats.angles.astype(np.float64) * ANGLE_STEPS / 360).astype(np.int64)
    octaves = np.log2(np.maximum(feats.sizes.astype(np.float64), 1.0) / BASE_SIZE)
    size = np.clip(np.round(2 * octaves), 0, SIZE_STEPS - 1).astype(np.int64)
    cells = np.clip(feats.points.astype(np.int64) // POSITION_CELL, 0, 15)
    codes = (angle % ANGLE_STEPS) << 11 | size << 8 | cells[:, 0] << 4 | cells[:, 1]
    return codes.astype(np.uint16)


def _entries(work_id: int, feats: LocalFeatures) -> tuple[np.ndarray, np.ndarray]:
    """(keys, entries) of a picture: one entry per keypoint and table, a keypoint's
    key repeated in a table only once per geometry."""
    keys = descriptor_keys(feats.descriptors)  # (n, TABLES)
    geo = np.repeat(geometry_codes(feats).astype(np.int64), TABLES)
    pairs = arrays.distinct(keys.ravel() << 16 | geo)
    entries = np.zeros(pairs.size, dtype=ENTRY)
    entries["work"] = work_id
    entries["geo"] = pairs & 0xFFFF
    return pairs >> 16, entries


def _append(conn: Connection, items: Sequence[tuple[int, LocalFeatures]]) -> None:
    keys_list, entries_list = [], []
    for work_id, feats in items:
        keys, entries = _entries(work_id, feats)
        keys_list.append(keys)
        entries_list.append(entries)
    if not keys_list:
        return
    keys = np.concatenate(keys_list)
    entries = np.concatenate(entries_list).astype(ENTRY)
    if not keys.size:
        return
    order = np.argsort(keys, kind="stable")
    uniq, _, packed = arrays.packed_runs(keys[order], entries[order])
    rows = list(zip(uniq, packed, strict=True))
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(
            "INSERT INTO image_feature_postings (key, postings) VALUES (?, ?) ON CONFLICT (key) "
            "DO UPDATE SET postings = CAST(image_feature_postings.postings || excluded.postings "
            "AS BLOB)",
            rows,
        )
        return
    postgres_copy_upsert(
        conn, [("key", "int4"), ("postings", "bytea")], rows,
        "INSERT INTO image_feature_postings (key, postings) "
        "SELECT key, postings FROM image_feature_postings_delta ORDER BY key ON CONFLICT (key) "
        "DO UPDATE SET postings = image_feature_postings.postings || excluded.postings",
        delta="image_feature_postings_delta",
    )  # fmt: skip


def add_features(conn: Connection, work_id: int, features: LocalFeatures) -> None:
    """Index a registered picture's keypoints (replacing any earlier entry for the work)."""
    add_many(conn, [(work_id, features)])


def add_many(conn: Connection, items: Iterable[tuple[int, LocalFeatures]]) -> int:
    count, batch = 0, []
    for item in items:
        batch.append(item)
        count += 1
        if len(batch) >= INSERT_BATCH:
            _flush(conn, batch)
            batch = []
    _flush(conn, batch)
    return count


def _flush(conn: Connection, batch: list[tuple[int, LocalFeatures]]) -> None:
    if not batch:
        return
    ids = [work_id for work_id, _ in batch]
    present = conn.execute(select(image_features.c.work_id).where(
        image_features.c.work_id.in_(ids))).scalars().all()  # fmt: skip
    for work_id in present:
        remove_features(conn, work_id)
    conn.execute(insert(image_features), [
        {"work_id": work_id, "features": feats.to_bytes()} for work_id, feats in batch
    ])  # fmt: skip
    _append(conn, batch)


def stored_features(conn: Connection, work_id: int) -> LocalFeatures | None:
    blob = conn.execute(select(image_features.c.features).where(
        image_features.c.work_id == work_id)).scalar_one_or_none()  # fmt: skip
    return None if blob is None else LocalFeatures.from_bytes(bytes(blob))


def remove_features(conn: Connection, work_id: int) -> bool:
    """Drop a work's keypoints from the index; True if they were there."""
    feats = stored_features(conn, work_id)
    if feats is None:
        return False
    keys = sorted(set(descriptor_keys(feats.descriptors).ravel().tolist()))
    drop_work(conn, image_feature_postings, keys, work_id, ENTRY, batch=MAX_PARAMS)
    conn.execute(delete(image_features).where(image_features.c.work_id == work_id))
    return True


def works_without_geometry(conn: Connection) -> list[int]:
    """Works whose stored keypoints have no orientation and size (format 1, stored
    before migration image_02): their entries vote as plain votes until the
    picture's keypoints are extracted again (``flask index rebuild``)."""
    first = func.substr(image_features.c.features, 1, 1)
    query = select(image_features.c.work_id).where(first == literal(b"\x01", LargeBinary))
    return list(conn.execute(query.order_by(image_features.c.work_id)).scalars())


def count_features(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(image_features)).scalar_one())


def rebuild(conn: Connection, progress: Callable[[int, int], None] | None = None, *,
            batch: int = 2000) -> int:
    """Rewrite every posting row from the stored keypoints. Returns the works indexed."""
    total = count_features(conn)
    conn.execute(delete(image_feature_postings))
    f = image_features
    return reindex_all(
        conn, f.c.work_id, f.c.features,
        lambda rows: _append(conn, [(w, LocalFeatures.from_bytes(bytes(b))) for w, b in rows]),
        total, progress, batch)  # fmt: skip


# --------------------------------------------------------------------------- search


def _probe(conn: Connection, keys: list[int]) -> dict[int, bytes]:
    """key -> its posting row (packed :data:`ENTRY` values, as stored); rows of more
    than STOP_POSTING entries are not read (they are skipped when counting: their
    length is known without reading the blob)."""
    if not keys:
        return {}
    longest = STOP_POSTING * ENTRY.itemsize
    if conn.dialect.name == "postgresql":
        sql = ("SELECT key, postings FROM image_feature_postings WHERE key = ANY(%s) "
               "AND octet_length(postings) <= %s")  # fmt: skip
        rows = driver_rows(conn, sql, [IntArray(keys), longest])
    else:
        rows = []
        for start in range(0, len(keys), MAX_PARAMS):
            part = keys[start : start + MAX_PARAMS]
            sql = ("SELECT key, postings FROM image_feature_postings WHERE key IN "
                   f"({','.join('?' * len(part))}) AND length(postings) <= {longest:d}")
            rows += driver_rows(conn, sql, part)
    return {int(key): bytes(blob) for key, blob in rows}


def _collisions(keys: np.ndarray,
                rows: dict[int, bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(query keypoint index, posting entry) of every entry sharing a key with a
    probed keypoint (rows of more than STOP_POSTING entries skipped).

    The rows are joined as bytes and read as entries once: an array per row and
    ``np.concatenate`` of structured arrays (which promotes their dtype once per
    array) took ~12 ms of a query's ~2,600 rows at 100,000 pictures."""
    index, hits = [], []
    longest = STOP_POSTING * ENTRY.itemsize
    for i, row in enumerate(keys.tolist()):
        for k in row:
            hit = rows.get(k)
            if hit is not None and len(hit) <= longest:
                hits.append(hit)
                index.append(i)
    if not hits:
        return np.zeros(0, np.int64), np.zeros(0, ENTRY)
    sizes = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits)) // ENTRY.itemsize
    joined = np.frombuffer(b"".join(hits), dtype=ENTRY)
    return np.repeat(np.array(index, dtype=np.int64), sizes), joined


_CELL_BITS = 24  # 4 turn + 5 scale + 7 + 7 position, and one for "no geometry"
_NO_GEOMETRY_CELL = 1 << (_CELL_BITS - 1)
_ANGLE_BINS = round(360 / ANGLE_BIN)
_STEP = 360.0 / ANGLE_STEPS


def _predictions(query: LocalFeatures, qi: np.ndarray,
                 geo: np.ndarray) -> tuple[np.ndarray, ...]:
    """(turn in degrees, log2 scale, x, y) of each collision: the turn and the scale
    from the registered keypoint to the query one, and where the registered frame's
    reference point (FRAME_SIDE / 2, FRAME_SIDE / 2) lands in the query."""
    assert query.angles is not None and query.sizes is not None
    turn = (query.angles[qi].astype(np.float64) - (geo >> 11) * _STEP) % 360.0
    ref_size = BASE_SIZE * np.exp2(((geo >> 8) & 7) / 2.0)
    log_scale = np.log2(query.sizes[qi].astype(np.float64) / ref_size)
    lever_x = FRAME_SIDE / 2 - (((geo >> 4) & 15) + 0.5) * POSITION_CELL
    lever_y = FRAME_SIDE / 2 - ((geo & 15) + 0.5) * POSITION_CELL
    scale, theta = np.exp2(log_scale), np.radians(turn)
    cos, sin = np.cos(theta), np.sin(theta)
    px = query.points[qi, 0] + scale * (cos * lever_x - sin * lever_y)
    py = query.points[qi, 1] + scale * (sin * lever_x + cos * lever_y)
    return turn, log_scale, px, py


def _cells(predicted: tuple[np.ndarray, ...], shift_turn: float,
           shift_scale: float) -> np.ndarray:
    """The Hough cell (int64 < 2**_CELL_BITS) of each collision's prediction: turn,
    scale, and position in cells of POSITION_BIN x the registered frame's apparent
    side at the cell's scale; the grid shifted by ``shift_turn`` / ``shift_scale``
    of a cell."""
    turn, log_scale, px, py = predicted
    a = _turn_bins(turn, shift_turn)
    s = np.floor(log_scale / SCALE_BIN + shift_scale).astype(np.int64)
    cell_side = POSITION_BIN * FRAME_SIDE * np.exp2((s + 0.5 - shift_scale) * SCALE_BIN)
    cx = np.clip(np.floor(px / cell_side) + 32, 0, 127).astype(np.int64)
    cy = np.clip(np.floor(py / cell_side) + 32, 0, 127).astype(np.int64)
    return ((a * 32 + np.clip(s + 16, 0, 31)) * 128 + cx) * 128 + cy


def _turn_bins(turn: np.ndarray, shift_turn: float) -> np.ndarray:
    """The turn cell of each turn (degrees), in the grid shifted by ``shift_turn``."""
    return np.floor(turn / ANGLE_BIN + shift_turn).astype(np.int64) % _ANGLE_BINS


def _best_cell_votes(query: LocalFeatures, qi: np.ndarray, geo: np.ndarray,
                     dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dense work indexes, votes): per work (``dense``: each collision's work as a
    small index), the votes of its best Hough cell (the grid and its
    three copies shifted by half a cell in turn and scale). A cell's votes are its
    distinct query keypoints or its distinct registered keypoints, whichever are
    fewer: a copy pairs keypoints one to one, while repeated patterns (lettering in
    a common font, tilings) pair many query keypoints with a few registered ones.
    Entries without geometry (``geo`` :data:`UNKNOWN_GEOMETRY`) share one cell and
    count their query keypoints (plain votes)."""
    unknown = geo == UNKNOWN_GEOMETRY
    known = ~unknown
    ref_side = np.where(unknown, qi, geo)  # no geometry: one to one by definition
    found, best = np.zeros(0, np.int64), np.zeros(0, np.int64)
    predicted = _predictions(query, qi[known], geo[known]) if known.any() else ()
    for shift_turn, shift_scale in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)):
        cells = np.full(qi.size, _NO_GEOMETRY_CELL, dtype=np.int64)
        if known.any():
            cells[known] = _cells(predicted, shift_turn, shift_scale)
        base = dense << 40 | cells << 16  # keypoints (and geometries) < 2**16
        per_cell, _, by_query = arrays.runs(arrays.distinct(base | qi) >> 16)
        _, _, by_ref = arrays.runs(arrays.distinct(base | ref_side) >> 16)
        counts = np.minimum(by_query, QUERY_PER_REGISTERED * by_ref)  # same pairs, same order
        index, starts, _ = arrays.runs(per_cell >> _CELL_BITS)
        grid_best = np.maximum.reduceat(counts, starts)
        if not found.size:
            found, best = index, grid_best
        else:  # the same works in every grid
            best = np.maximum(best, grid_best)
        if not known.any():
            break
    return found, best


def votes(conn: Connection, queries: Sequence[LocalFeatures], *,
          geometric: bool = True) -> dict[int, int]:
    """work id -> the votes of its best Hough cell (one turn, scale and position;
    :func:`_best_cell_votes`), for the best orientation of the query; only works
    that could be among the CANDIDATES + RESERVE_CANDIDATES best are scored
    (:func:`_score`).
    ``geometric=False``: plain votes, the probed query keypoints colliding with the
    work in any cell (the count of before; kept to measure against)."""
    return votes_by_orientation(conn, queries, geometric=geometric)[0]


def votes_by_orientation(conn: Connection, queries: Sequence[LocalFeatures], *,
                         geometric: bool = True) -> tuple[dict[int, int], list[dict[int, int]]]:
    """(:func:`votes`, and the votes of each orientation of the query: only the works
    scored in it)."""
    per_query = [descriptor_keys(q.descriptors[:PROBED_KEYPOINTS]) for q in queries]
    if not per_query:
        return {}, []
    all_keys = arrays.distinct(np.concatenate([k.ravel() for k in per_query])).tolist()
    rows = _probe(conn, all_keys)
    counts: dict[int, int] = {}
    each: list[dict[int, int]] = []
    for q, keys in zip(queries, per_query, strict=True):
        mine: dict[int, int] = {}
        qi, entries = _collisions(keys, rows)
        if qi.size:
            _score(q, qi, entries, counts, mine, geometric=geometric)
        each.append(mine)
    return counts, each


def _merge(counts: dict[int, int], works: np.ndarray, n: np.ndarray) -> None:
    for wid, c in zip(works.tolist(), n.tolist(), strict=True):
        if c > counts.get(wid, 0):
            counts[wid] = c


@dataclass(frozen=True)
class _ByWork:
    """One orientation's collisions sorted by work: ``works`` the distinct work ids,
    ``starts``/``lengths`` each work's slice, ``dense`` each collision's work index."""
    qi: np.ndarray
    geo: np.ndarray
    works: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    dense: np.ndarray

    def part(self, chosen: np.ndarray) -> np.ndarray:
        """Indexes of the collisions of the works ``chosen`` (dense indexes)."""
        lengths = self.lengths[chosen]
        ends = np.cumsum(lengths)
        offsets = np.repeat(self.starts[chosen] - (ends - lengths), lengths)
        return offsets + np.arange(int(ends[-1]) if ends.size else 0, dtype=np.int64)


def _by_work(qi: np.ndarray, entries: np.ndarray) -> _ByWork:
    """Sort the collisions by work: one sort of packed values (work id, query
    keypoint, registered geometry: 31 + 16 + 16 bits) instead of a stable argsort,
    several times slower, and no gathers."""
    packed = np.sort(entries["work"].astype(np.int64) << 32 | qi << 16
                     | entries["geo"].astype(np.int64))
    works, starts, lengths = arrays.runs(packed >> 32)
    dense = np.repeat(np.arange(works.size, dtype=np.int64), lengths)
    return _ByWork(packed >> 16 & 0xFFFF, packed & 0xFFFF, works, starts, lengths, dense)


def _turn_bound(query: LocalFeatures, c: _ByWork) -> np.ndarray:
    """Per work, the most collisions in one turn cell of either turn grid (entries
    without geometry in a cell of their own): an upper bound of the votes of its
    best Hough cell (each Hough cell lies in one turn cell of its grid and counts
    at most its collisions), cheap to count for every work (no sort, no position).

    The turns are computed as in :func:`_predictions` and binned by
    :func:`_turn_bins`, from a table per query keypoint and stored orientation, so
    they fall in the same cells. Each collision is counted once, in a half cell
    (the cell of the unshifted grid and which half of it): a cell of either grid is
    two neighbouring half cells."""
    assert query.angles is not None
    n = c.works.size
    turns = (query.angles[:PROBED_KEYPOINTS].astype(np.float64)[:, None]
             - np.arange(ANGLE_STEPS, dtype=np.int64)[None, :] * _STEP) % 360.0
    first, second = _turn_bins(turns, 0.0), _turn_bins(turns, 0.5)
    halves = 2 * _ANGLE_BINS
    half = (2 * first + (second != first)).ravel()[c.qi * ANGLE_STEPS + (c.geo >> 11)]
    half[c.geo == UNKNOWN_GEOMETRY] = halves
    per_half = np.bincount(half * n + c.dense, minlength=(halves + 1) * n).reshape(halves + 1, n)
    # unshifted cell k: halves 2k, 2k + 1; shifted cell k: halves 2k - 1, 2k
    bound = np.maximum(per_half[halves - 1] + per_half[0], per_half[halves])
    return np.maximum(bound, (per_half[: halves - 1] + per_half[1:halves]).max(axis=0))


def _score(query: LocalFeatures, qi: np.ndarray, entries: np.ndarray, counts: dict[int, int],
           mine: dict[int, int], *, geometric: bool) -> None:
    """Merge one orientation's votes into ``counts`` (and put them in ``mine``). A
    work's cell votes never exceed its :func:`_turn_bound`, so works are scored in
    rounds, highest bound first, until no work left has a bound as high as the
    (CANDIDATES + RESERVE_CANDIDATES)-th best score so far (the candidates of
    scoring every work), or MAX_SCORED works were scored."""
    c = _by_work(qi, entries)
    if not geometric or not query.has_geometry:
        plain = arrays.runs(arrays.distinct(c.dense << 16 | c.qi) >> 16)[2]
        _merge(counts, c.works, plain)
        _merge(mine, c.works, plain)
        return
    bound = _turn_bound(query, c)
    # highest bound first, ties by work id: one sort of packed values
    n = c.works.size
    order = np.sort((int(bound.max()) - bound) << 32 | np.arange(n, dtype=np.int64)) & 0xFFFFFFFF
    done, last = 0, min(n, MAX_SCORED)
    verifiable = CANDIDATES + RESERVE_CANDIDATES
    while done < last:
        scores = heapq.nlargest(verifiable, counts.values())
        least = max(MIN_VOTES, scores[-1] if len(scores) >= verifiable else 0)
        if bound[order[done]] < least:
            break
        upto = min(last, max(SCORED_ROUND, 2 * done))
        part = c.part(order[done:upto])
        index, best = _best_cell_votes(query, c.qi[part], c.geo[part], c.dense[part])
        _merge(counts, c.works[index], best)
        _merge(mine, c.works[index], best)
        done = upto


@dataclass(frozen=True)
class LocalMatch:
    work_id: int
    votes: int
    match: FeatureMatch


def load_features(conn: Connection, work_ids: Sequence[int]) -> dict[int, LocalFeatures]:
    if not work_ids:
        return {}
    rows = conn.execute(select(image_features.c.work_id, image_features.c.features).where(
        image_features.c.work_id.in_(list(work_ids)))).all()  # fmt: skip
    return {wid: LocalFeatures.from_bytes(bytes(blob)) for wid, blob in rows}


def search(conn: Connection, queries: Sequence[LocalFeatures], *,
           extra_candidates: Sequence[int] = (), limit: int = 10) -> list[LocalMatch]:
    """Registered pictures whose keypoints agree geometrically with the query, best first.

    ``extra_candidates`` (e.g. works the hash index found) are verified too. The
    CANDIDATES best-voted works are verified first (all but the best-voted one in
    the orientations that pass :func:`_screened`, when CANDIDATE_SCREEN); only
    when none of them nor of the extra candidates verifies are the next
    RESERVE_CANDIDATES verified (those that pass :func:`_screened`, when
    RESERVE_SCREEN).
    """
    counted, each = votes_by_orientation(conn, queries)
    ranked = sorted((wid for wid, v in counted.items() if v >= MIN_VOTES),
                    key=lambda wid: (-counted[wid], wid))[:CANDIDATES + RESERVE_CANDIDATES]
    extra = set(extra_candidates)
    first = list(dict.fromkeys([*extra_candidates, *ranked[:CANDIDATES]]))
    best_voted = [wid for wid in ranked if wid not in extra][:UNSCREENED_CANDIDATES]
    found = _verified(conn, queries, first, counted, each, extra,
                      least=CANDIDATE_SCREEN_PAIRS if CANDIDATE_SCREEN else 0,
                      unscreened=best_voted)
    if not found:
        reserve = [wid for wid in ranked[CANDIDATES:] if wid not in extra]
        found = _verified(conn, queries, reserve, counted, each, extra,
                          least=SCREEN_PAIRS if RESERVE_SCREEN else 0)
    found.sort(key=lambda x: (-x.match.inliers, x.work_id))
    return found[:limit]


def _verified(conn: Connection, queries: Sequence[LocalFeatures], candidates: list[int],
              counted: dict[int, int], each: list[dict[int, int]],
              extra: set[int], *, least: int = 0,
              unscreened: Container[int] = ()) -> list[LocalMatch]:
    """The ``candidates`` that verify geometrically (a work of ``extra`` in every
    orientation of the query, a voted one in those it got votes in); with
    ``least`` agreeing pairs, a voted one not in ``unscreened`` only in the
    orientations that pass :func:`_screened`."""
    stored = load_features(conn, candidates)
    samples = [q.sample(SCREEN_KEYPOINTS) for q in queries] if least else []
    found = []
    for wid in candidates:
        ref = stored.get(wid)
        if ref is None:
            continue
        chosen = list(queries) if wid in extra else _voted(queries, each, wid)
        if least and wid not in extra and wid not in unscreened:
            chosen = _screened(chosen, queries, samples, ref, least)
        m = best_match(chosen, ref) if chosen else None
        if m is not None:
            found.append(LocalMatch(wid, counted.get(wid, 0), m))
    return found


def _screened(chosen: list[LocalFeatures], queries: Sequence[LocalFeatures],
              samples: list[LocalFeatures], ref: LocalFeatures,
              least: int) -> list[LocalFeatures]:
    """The orientations of ``chosen`` whose sample of SCREEN_KEYPOINTS keypoints
    (:meth:`LocalFeatures.sample`) gives ``ref`` at least ``least`` ratio-test
    pairs agreeing on one turn and scale (:func:`agreeing_pair_count`): the only
    ones worth a full verification.

    Why: a query that finds nothing (most public lookups) verifies the first
    candidates and the whole reserve, 36 works of a few chance votes, in one or two
    orientations each; a full verification costs ~5-18 ms,
    nearly all of it the 2,000 x 600 descriptor distances of the ratio test. The
    sample costs a fraction of that, chance pairs scatter over turns and scales,
    and the real matches kept agreeing pairs in the sample
    (benchmarks/README_image.md, "Session 11" for the reserve, "Session 14" for
    the first candidates)."""
    return [q for q, sample in zip(queries, samples, strict=True)
            if any(q is c for c in chosen) and agreeing_pair_count(sample, ref) >= least]


def _voted(queries: Sequence[LocalFeatures], each: list[dict[int, int]],
           work_id: int) -> list[LocalFeatures]:
    """The orientations of the query (upright, mirrored) in which a candidate of the
    votes got at least MIN_VOTES: the only ones verified.

    Why: verifying an orientation costs ~6 ms (2,000 x 600 descriptor distances),
    and at 100,000 pictures 28 of 694 candidates had votes in both orientations; a
    copy's keypoints vote in the orientation it is seen in (a mirrored copy in the
    mirrored one)."""
    return [q for q, mine in zip(queries, each, strict=True) if mine.get(work_id, 0) >= MIN_VOTES]


def original_sizes(conn: Connection, work_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """work id -> the registered picture's original (width, height), from its stored header."""
    return {wid: (f.original_width, f.original_height)
            for wid, f in load_features(conn, work_ids).items()}
