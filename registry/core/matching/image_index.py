"""Near-duplicate search for pictures: multi-index hashing (MIH) in SQL.

Every indexed window of a registered picture (see ``registry.core.image``)
gives one 64-bit value per hash kind (pHash and wHash), split into four 16-bit
chunks (most significant first). Each chunk has its own inverted index:
``image_chunk_postings`` holds one row per (chunk number, chunk value), keyed
``chunk_number << 16 | chunk_value``, whose ``postings`` field packs every
entry with that chunk (:data:`ENTRY`: the full value, work, hash kind and
window; 14 bytes each). A query reads ~430 rows by primary key and gets the
candidates' full values in the same read: no second lookup, and one row per
probe instead of one per candidate (at a million rows, ~6,500 candidate rows
per radius-10 query had cost PostgreSQL 3.6 ms to walk, the packed rows 1.3 ms).

Pigeonhole: if two hashes differ in at most ``r`` bits, the four chunk
distances sum to at most ``r``. Writing ``r = 4*s + a`` (``0 <= a < 4``), at
least one of the first ``a + 1`` chunks is within ``s`` bits, or one of the
others is within ``s - 1`` bits (otherwise the sum would be at least
``(a+1)(s+1) + (3-a)*s = r + 1``). So probing chunk ``i`` at its radius
``s_i`` and rechecking the exact distance returns exactly the brute-force set.

``image_works`` keeps the full registration hashes of each work (JSON): the
source the postings are rebuilt and removed from, and what candidates are
verified against (dHash and wHash). Everything runs on a SQLAlchemy
``Connection``; the caller owns the transaction, so the index is written in the
same transaction as the work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np
from sqlalchemy import (
    DDL,
    Column,
    Connection,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    delete,
    event,
    func,
    insert,
    select,
)

from registry.core.image import (
    INDEXED_KINDS,
    INDEXED_WINDOWS,
    PHASH_RADIUS,
    QUADRANT_WINDOWS,
    ImageHashes,
    QueryHashes,
    WindowHash,
    compare,
)
from registry.core.matching import arrays
from registry.core.matching.postings import drop_work
from registry.core.sql import IntArray, driver_rows, metadata, postgres_copy_upsert, reindex_all

CHUNKS = 4
CHUNK_BITS = 16
CHUNK_MASK = (1 << CHUNK_BITS) - 1
#: Window names <-> the small integer stored in each posting entry (:data:`ENTRY`).
#: The corner quarters (search windows) come after the fingerprint's windows, so
#: the codes of entries written before them keep their meaning.
WINDOW_CODES: dict[str, int] = {
    name: i for i, name in enumerate((*INDEXED_WINDOWS, *QUADRANT_WINDOWS))
}
WINDOW_NAMES: dict[int, str] = {i: name for name, i in WINDOW_CODES.items()}
#: Hash kinds <-> the small integer stored in each posting entry (:data:`ENTRY`).
KIND_CODES: dict[str, int] = {name: i for i, name in enumerate(INDEXED_KINDS)}
KIND_NAMES: dict[int, str] = {i: name for name, i in KIND_CODES.items()}
INSERT_BATCH = 5000
MAX_PARAMS = 20000

image_chunk_postings = Table(
    "image_chunk_postings",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=False),
    Column("postings", LargeBinary, nullable=False),
)
#: PostgreSQL: room on each page for a growing row's new version (HOT updates).
POSTGRES_FILLFACTOR = 70
event.listen(
    image_chunk_postings, "after_create",
    DDL(f"ALTER TABLE image_chunk_postings SET (fillfactor = {POSTGRES_FILLFACTOR})")
    .execute_if(dialect="postgresql"),
)  # fmt: skip
#: One entry of a posting list: the full value, work, kind and window codes.
ENTRY = np.dtype([("value", ">u8"), ("work", ">i4"), ("kind", "u1"), ("window", "u1")])

image_works = Table(
    "image_works",
    metadata,
    Column("work_id", Integer, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("hashes", Text, nullable=False),
)

TABLES = [image_chunk_postings, image_works]


# --------------------------------------------------------------------------- bits


def to_signed(value: int) -> int:
    """Unsigned 64-bit -> the signed value a BIGINT column can hold."""
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def chunks(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit chunks of an unsigned 64-bit value, most significant first."""
    return tuple(  # type: ignore[return-value]
        (value >> (CHUNK_BITS * (CHUNKS - 1 - i))) & CHUNK_MASK for i in range(CHUNKS)
    )


def chunk_radii(radius: int) -> tuple[int, ...]:
    """Probe radius per chunk for a search radius (-1 means: do not probe)."""
    if radius < 0:
        raise ValueError("radius must be >= 0")
    s, a = divmod(radius, CHUNKS)
    return tuple(s if i <= a else s - 1 for i in range(CHUNKS))


@lru_cache(maxsize=8)
def _flip_masks(radius: int) -> tuple[int, ...]:
    """Every 16-bit mask with at most ``radius`` bits set."""
    masks = []
    for k in range(min(radius, CHUNK_BITS) + 1):
        for bits in combinations(range(CHUNK_BITS), k):
            masks.append(sum(1 << b for b in bits))
    return tuple(masks)


def neighbourhood(chunk: int, radius: int) -> list[int]:
    """All 16-bit values within ``radius`` bits of ``chunk``."""
    if radius < 0:
        return []
    return [chunk ^ m for m in _flip_masks(radius)]


# --------------------------------------------------------------------------- writes


def _entries(items: Iterable[tuple[int, ImageHashes]]) -> np.ndarray:
    """The index entries (:data:`ENTRY`) of registered pictures."""
    rows = [
        (value, work_id, KIND_CODES[kind], WINDOW_CODES[window])
        for work_id, hashes in items
        for kind, window, value in hashes.indexed()
    ]
    return np.array(rows, dtype=ENTRY)


def _chunk_keys(values: np.ndarray) -> np.ndarray:
    """(entries, 4) posting keys: ``chunk_number << 16 | chunk_value``."""
    values = values.astype(np.uint64)
    shifts = np.array([CHUNK_BITS * (CHUNKS - 1 - i) for i in range(CHUNKS)], dtype=np.uint64)
    parts = (values[:, None] >> shifts[None, :]) & np.uint64(CHUNK_MASK)
    return parts.astype(np.int64) | (np.arange(CHUNKS, dtype=np.int64) << CHUNK_BITS)[None, :]


def _append(conn: Connection, entries: np.ndarray) -> None:
    """Append ``entries`` to the posting rows of their four chunks (upsert)."""
    if not entries.size:
        return
    keys = _chunk_keys(entries["value"]).ravel()
    repeated = np.repeat(entries, CHUNKS)
    order = np.argsort(keys, kind="stable")
    keys, repeated = keys[order], repeated[order]
    uniq, _, packed = arrays.packed_runs(keys, repeated)
    rows = list(zip(uniq, packed, strict=True))
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(
            "INSERT INTO image_chunk_postings (key, postings) VALUES (?, ?) ON CONFLICT (key) "
            "DO UPDATE SET postings = CAST(image_chunk_postings.postings || excluded.postings "
            "AS BLOB)",
            rows,
        )
        return
    postgres_copy_upsert(
        conn, [("key", "int4"), ("postings", "bytea")], rows,
        "INSERT INTO image_chunk_postings (key, postings) "
        "SELECT key, postings FROM image_postings_delta ORDER BY key ON CONFLICT (key) "
        "DO UPDATE SET postings = image_chunk_postings.postings || excluded.postings",
        delta="image_postings_delta",
    )  # fmt: skip


def _drop_entries(conn: Connection, work_id: int, values: Iterable[int]) -> None:
    """Remove ``work_id``'s entries from the posting rows of ``values``' chunks."""
    keys = sorted(set(_chunk_keys(np.fromiter(values, dtype=np.uint64)).ravel().tolist()))
    drop_work(conn, image_chunk_postings, keys, work_id, ENTRY, batch=MAX_PARAMS)


def add_image(conn: Connection, work_id: int, hashes: ImageHashes) -> None:
    """Index a registered picture (replacing any earlier entry for the work)."""
    add_images(conn, [(work_id, hashes)])


def add_images(conn: Connection, items: Iterable[tuple[int, ImageHashes]]) -> int:
    """Bulk form of ``add_image``, in batches. Returns the count."""
    count = 0
    batch: list[tuple[int, ImageHashes]] = []
    for item in items:
        batch.append(item)
        count += 1
        if len(batch) >= INSERT_BATCH:
            _flush(conn, batch)
            batch = []
    _flush(conn, batch)
    return count


def _flush(conn: Connection, batch: list[tuple[int, ImageHashes]]) -> None:
    if not batch:
        return
    ids = [work_id for work_id, _ in batch]
    present = conn.execute(select(image_works.c.work_id).where(image_works.c.work_id.in_(ids)))
    for work_id in present.scalars().all():
        remove_image(conn, work_id)
    conn.execute(insert(image_works), [
        {"work_id": work_id, "digest": hashes.digest(), "hashes": hashes.stored_json()}
        for work_id, hashes in batch
    ])  # fmt: skip
    _append(conn, _entries(batch))


def add_raw_hashes(conn: Connection, rows: Sequence[tuple[int, int, int]]) -> None:
    """Index bare (work_id, window code, unsigned pHash) entries -- for benchmarks and tests.

    They have no ``image_works`` entry, so ``search`` cannot verify them and
    ``remove_image`` cannot remove them; ``hamming_within`` sees them like any other.
    """
    for start in range(0, len(rows), INSERT_BATCH * 20):
        batch = rows[start : start + INSERT_BATCH * 20]
        entries = np.zeros(len(batch), dtype=ENTRY)
        entries["work"] = [r[0] for r in batch]
        entries["window"] = [r[1] for r in batch]
        entries["value"] = np.array([r[2] for r in batch], dtype=np.uint64)
        _append(conn, entries)


def remove_image(conn: Connection, work_id: int) -> bool:
    """Drop a work from the index; True if it was there."""
    hashes = registered_hashes(conn, work_id)
    if hashes is None:
        return False
    _drop_entries(conn, work_id, (value for _, _, value in hashes.indexed()))
    conn.execute(delete(image_works).where(image_works.c.work_id == work_id))
    return True


def count_images(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(image_works)).scalar_one())


def registered_hashes(conn: Connection, work_id: int) -> ImageHashes | None:
    raw = conn.execute(
        select(image_works.c.hashes).where(image_works.c.work_id == work_id)
    ).scalar_one_or_none()
    return None if raw is None else ImageHashes.from_dict(json.loads(raw))


def works_without_search_windows(conn: Connection) -> list[int]:
    """Works indexed before the corner-quarter search windows existed (their stored
    hashes have none): ``flask index rebuild`` adds them from the stored file."""
    query = select(image_works.c.work_id).where(
        image_works.c.hashes.not_like('%"search_windows"%')).order_by(image_works.c.work_id)
    return list(conn.execute(query).scalars())


def add_search_windows(conn: Connection, work_id: int, windows: dict[str, WindowHash]) -> bool:
    """Give an indexed work its search windows (re-indexing it); its fingerprint,
    and so its digest, stay as registered. False if the work is not indexed."""
    hashes = registered_hashes(conn, work_id)
    if hashes is None:
        return False
    add_image(conn, work_id, hashes.with_search_windows(windows))
    return True


def rebuild(
    conn: Connection, progress: Callable[[int, int], None] | None = None, *, batch: int = 2000
) -> int:
    """Rewrite every posting from the stored registration hashes.

    Use after a change of windows or chunking. ``progress(done, total)`` is
    called after each batch. Returns the number of works re-indexed.
    """
    total = count_images(conn)
    conn.execute(delete(image_chunk_postings))
    return reindex_all(
        conn, image_works.c.work_id, image_works.c.hashes,
        lambda rows: _append(conn, _entries([(w, ImageHashes.from_dict(json.loads(raw)))
                                             for w, raw in rows])),
        total, progress, batch)  # fmt: skip


# --------------------------------------------------------------------------- MIH


@dataclass(frozen=True)
class HashHit:
    """An indexed value within the radius of a query value."""

    work_id: int
    kind: str
    window: str
    value: int
    distance: int
    query: int


def mih_candidates(queries: Sequence[int], radius: int) -> list[int]:
    """The sorted posting keys to probe for all ``queries``."""
    radii = chunk_radii(radius)
    probes: set[int] = set()
    for q in queries:
        for i, c in enumerate(chunks(q)):
            probes.update((i << CHUNK_BITS) | v for v in neighbourhood(c, radii[i]))
    return sorted(probes)


def _probe(conn: Connection, keys: list[int]) -> np.ndarray:
    """Every entry of the posting rows ``keys`` (an entry found through two
    chunks comes twice). SQLite statements carry at most ``MAX_PARAMS`` keys;
    PostgreSQL takes one array and joins the rows itself."""
    if not keys:
        return np.zeros(0, dtype=ENTRY)
    if conn.dialect.name == "postgresql":
        sql = ("SELECT string_agg(postings, ''::bytea) FROM image_chunk_postings "
               "WHERE key = ANY(%s)")  # fmt: skip
        blobs = [driver_rows(conn, sql, [IntArray(keys)])[0][0] or b""]
    else:
        blobs = []
        for start in range(0, len(keys), MAX_PARAMS):
            chunk = keys[start : start + MAX_PARAMS]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT postings FROM image_chunk_postings WHERE key IN ({marks})"
            blobs += [row[0] for row in driver_rows(conn, sql, chunk)]
    return np.frombuffer(b"".join(blobs), dtype=ENTRY)


def hamming_within_many(conn: Connection, queries: Sequence[int], radius: int) -> list[HashHit]:
    """Indexed values within ``radius`` bits of any of ``queries`` (one hit per
    indexed entry and query)."""
    queries = sorted({int(q) for q in queries})
    if not queries:
        return []
    entries = _probe(conn, mih_candidates(queries, radius))
    values = entries["value"].astype(np.uint64)
    hits: dict[tuple[int, int, int, int, int], HashHit] = {}
    for q in queries:
        dist = np.bitwise_count(values ^ np.uint64(q))
        for i in np.flatnonzero(dist <= radius).tolist():
            value, work, kind, window = (int(x) for x in entries[i])
            hits.setdefault((q, value, work, kind, window), HashHit(
                work, KIND_NAMES.get(kind, str(kind)), WINDOW_NAMES.get(window, str(window)),
                value, int(dist[i]), q,
            ))  # fmt: skip
    return list(hits.values())


def hamming_within(conn: Connection, value: int, radius: int) -> list[HashHit]:
    """Index rows whose value is within ``radius`` bits of ``value`` -- exactly the
    brute-force set, whatever the hash kind of the row."""
    return hamming_within_many(conn, [value], radius)


# --------------------------------------------------------------------------- search


@dataclass(frozen=True)
class ImageMatch:
    work_id: int
    score: float
    distances: dict[str, int]
    transformation: str | None
    query_variant: str
    reference_window: str


def search(
    conn: Connection, query: QueryHashes, *, radius: int = PHASH_RADIUS, limit: int = 10
) -> list[ImageMatch]:
    """Registered pictures matching a query, best first.

    Candidates come from the index (a pHash or wHash of any query variant
    within ``radius`` of an indexed row), then each candidate work is verified
    with all its stored hashes and kept only if accepted.
    """
    hits = hamming_within_many(conn, query.index_values(), radius)
    work_ids = sorted({h.work_id for h in hits})
    if not work_ids:
        return []
    stored = dict(
        conn.execute(
            select(image_works.c.work_id, image_works.c.hashes).where(
                image_works.c.work_id.in_(work_ids)
            )
        ).all()
    )
    matches = []
    for work_id in work_ids:
        raw = stored.get(work_id)
        if raw is None:
            continue
        comparison = compare(query, ImageHashes.from_dict(json.loads(raw)))
        if comparison.matched:
            matches.append(
                ImageMatch(work_id, comparison.score, comparison.distances,
                           comparison.transformation, comparison.query_variant,
                           comparison.reference_window)
            )
    matches.sort(key=lambda m: (-m.score, m.work_id))
    return matches[:limit]

