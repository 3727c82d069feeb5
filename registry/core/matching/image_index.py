"""Near-duplicate search for pictures: multi-index hashing (MIH) in SQL.

Every indexed window of a registered picture (see ``registry.core.image``) is
one row of ``image_hash_rows`` per hash kind (pHash and wHash): the 64-bit
value stored signed (SQLite and PostgreSQL BIGINT are signed) and split into
four 16-bit chunks ``c0..c3`` (most significant first), each with its own index.

Pigeonhole: if two hashes differ in at most ``r`` bits, the four chunk
distances sum to at most ``r``. Writing ``r = 4*s + a`` (``0 <= a < 4``), at
least one of the first ``a + 1`` chunks is within ``s`` bits, or one of the
others is within ``s - 1`` bits (otherwise the sum would be at least
``(a+1)(s+1) + (3-a)*s = r + 1``). So probing chunk ``i`` at its radius
``s_i`` and rechecking the exact distance returns exactly the brute-force set.

``image_works`` keeps the full registration hashes of each work (JSON), used to
verify candidates with dHash and wHash and to recompute a comparison later.
Everything runs on a SQLAlchemy ``Connection``; the caller owns the
transaction, so the index is written in the same transaction as the work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)

from registry.core.image import (
    INDEXED_KINDS,
    INDEXED_WINDOWS,
    PHASH_RADIUS,
    ImageHashes,
    QueryHashes,
    compare_windows,
)
from registry.core.matching import arrays
from registry.core.sql import driver_rows, metadata

CHUNKS = 4
CHUNK_BITS = 16
CHUNK_MASK = (1 << CHUNK_BITS) - 1
#: Window names <-> the small integer stored in ``image_hash_rows.window``.
WINDOW_CODES: dict[str, int] = {name: i for i, name in enumerate(INDEXED_WINDOWS)}
WINDOW_NAMES: dict[int, str] = {i: name for name, i in WINDOW_CODES.items()}
#: Hash kinds <-> the small integer stored in ``image_hash_rows.kind``.
KIND_CODES: dict[str, int] = {name: i for i, name in enumerate(INDEXED_KINDS)}
KIND_NAMES: dict[int, str] = {i: name for name, i in KIND_CODES.items()}
INSERT_BATCH = 5000
MAX_PARAMS = 20000

image_hash_rows = Table(
    "image_hash_rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("work_id", Integer, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("window", SmallInteger, nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("c0", Integer, nullable=False),
    Column("c1", Integer, nullable=False),
    Column("c2", Integer, nullable=False),
    Column("c3", Integer, nullable=False),
    Index("ix_image_hash_rows_work_id", "work_id"),
    # (chunk, value): a probe reads the index alone, never the table rows.
    Index("ix_image_hash_rows_c0", "c0", "value"),
    Index("ix_image_hash_rows_c1", "c1", "value"),
    Index("ix_image_hash_rows_c2", "c2", "value"),
    Index("ix_image_hash_rows_c3", "c3", "value"),
)

image_works = Table(
    "image_works",
    metadata,
    Column("work_id", Integer, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("hashes", Text, nullable=False),
)

TABLES = [image_hash_rows, image_works]


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


def _rows(work_id: int, hashes: ImageHashes) -> list[dict[str, int]]:
    rows = []
    for kind, window, value in hashes.indexed():
        c = chunks(value)
        rows.append(
            {
                "work_id": work_id,
                "kind": KIND_CODES[kind],
                "window": WINDOW_CODES[window],
                "value": to_signed(value),
                "c0": c[0],
                "c1": c[1],
                "c2": c[2],
                "c3": c[3],
            }
        )
    return rows


def add_image(conn: Connection, work_id: int, hashes: ImageHashes) -> None:
    """Index a registered picture (replacing any earlier entry for the work)."""
    add_images(conn, [(work_id, hashes)])


def add_images(conn: Connection, items: Iterable[tuple[int, ImageHashes]]) -> int:
    """Bulk form of ``add_image``: batched executemany inserts. Returns the count."""
    count = 0
    works: list[dict[str, object]] = []
    rows: list[dict[str, int]] = []
    for work_id, hashes in items:
        works.append(
            {"work_id": work_id, "digest": hashes.digest(), "hashes": hashes.canonical_json()}
        )
        rows.extend(_rows(work_id, hashes))
        count += 1
        if len(works) >= INSERT_BATCH:
            _flush(conn, works, rows)
            works, rows = [], []
    _flush(conn, works, rows)
    return count


def _flush(conn: Connection, works: list[dict[str, object]], rows: list[dict[str, int]]) -> None:
    if not works:
        return
    ids = [w["work_id"] for w in works]
    conn.execute(delete(image_hash_rows).where(image_hash_rows.c.work_id.in_(ids)))
    conn.execute(delete(image_works).where(image_works.c.work_id.in_(ids)))
    conn.execute(insert(image_works), works)
    if rows:
        conn.execute(insert(image_hash_rows), rows)


def add_raw_hashes(conn: Connection, rows: Sequence[tuple[int, int, int]]) -> None:
    """Insert bare (work_id, window code, unsigned pHash) rows -- for benchmarks and tests.

    These rows have no ``image_works`` entry, so ``search`` cannot verify them;
    ``hamming_within`` sees them like any other row.
    """
    for start in range(0, len(rows), INSERT_BATCH * 4):
        batch = []
        for work_id, window, value in rows[start : start + INSERT_BATCH * 4]:
            c = chunks(value)
            batch.append(
                {"work_id": work_id, "kind": 0, "window": window, "value": to_signed(value),
                 "c0": c[0], "c1": c[1], "c2": c[2], "c3": c[3]}
            )
        conn.execute(insert(image_hash_rows), batch)


def remove_image(conn: Connection, work_id: int) -> bool:
    """Drop a work from the index; True if it was there."""
    conn.execute(delete(image_hash_rows).where(image_hash_rows.c.work_id == work_id))
    result = conn.execute(delete(image_works).where(image_works.c.work_id == work_id))
    return result.rowcount > 0


def count_images(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(image_works)).scalar_one())


def registered_hashes(conn: Connection, work_id: int) -> ImageHashes | None:
    raw = conn.execute(
        select(image_works.c.hashes).where(image_works.c.work_id == work_id)
    ).scalar_one_or_none()
    return None if raw is None else ImageHashes.from_dict(json.loads(raw))


def rebuild(
    conn: Connection, progress: Callable[[int, int], None] | None = None, *, batch: int = 2000
) -> int:
    """Rewrite every index row from the stored registration hashes.

    Use after a change of windows or chunking. ``progress(done, total)`` is
    called after each batch. Returns the number of works re-indexed.
    """
    total = count_images(conn)
    conn.execute(delete(image_hash_rows))
    done, last = 0, None
    if progress:
        progress(0, total)
    while True:
        query = select(image_works.c.work_id, image_works.c.hashes).order_by(image_works.c.work_id)
        if last is not None:
            query = query.where(image_works.c.work_id > last)
        items = conn.execute(query.limit(batch)).all()
        if not items:
            break
        rows = []
        for work_id, raw in items:
            rows.extend(_rows(work_id, ImageHashes.from_dict(json.loads(raw))))
        if rows:
            conn.execute(insert(image_hash_rows), rows)
        done += len(items)
        last = items[-1][0]
        if progress:
            progress(done, total)
    return done


# --------------------------------------------------------------------------- MIH


@dataclass(frozen=True)
class HashHit:
    """An index row within the radius of a query value."""

    row_id: int
    work_id: int
    kind: str
    window: str
    value: int
    distance: int
    query: int


def mih_candidates(queries: Sequence[int], radius: int) -> list[list[int]]:
    """Per chunk, the sorted 16-bit values to probe for all ``queries``."""
    radii = chunk_radii(radius)
    probes: list[set[int]] = [set() for _ in range(CHUNKS)]
    for q in queries:
        for i, c in enumerate(chunks(q)):
            probes[i].update(neighbourhood(c, radii[i]))
    return [sorted(p) for p in probes]


def _probe_sql(dialect: str, sizes: Sequence[tuple[int, int]]) -> str:
    """The probe of chunks ``i`` with ``n`` values each (``sizes`` = [(i, n)]).

    Each chunk is one SELECT answered from its (chunk, value) index alone; the
    database joins the values into one field, so thousands of candidates cross
    to Python at once: on PostgreSQL as eight big-endian bytes each (formatting
    BIGINTs as text cost more than the index scans), on SQLite as text, the
    only aggregate it has, parsed by numpy.
    """
    if dialect == "postgresql":
        parts = [f"SELECT value FROM image_hash_rows WHERE c{i} = ANY(%s)" for i, _ in sizes]
        return f"SELECT string_agg(int8send(value), ''::bytea) FROM ({' UNION ALL '.join(parts)}) p"
    parts = [f"SELECT value FROM image_hash_rows WHERE c{i} IN ({','.join('?' * n)})"
             for i, n in sizes]  # fmt: skip
    return f"SELECT group_concat(value) FROM ({' UNION ALL '.join(parts)})"


def _probe(conn: Connection, probes: list[list[int]]) -> np.ndarray:
    """Distinct unsigned values of rows whose chunk ``i`` is in ``probes[i]`` for some ``i``.

    On SQLite, statements are split so none carries more than ``MAX_PARAMS``
    bound values (SQLite allows 32766); PostgreSQL takes one array per chunk.
    """
    dialect = conn.dialect.name
    active = [i for i, values in enumerate(probes) if values]
    if dialect == "postgresql" or sum(len(probes[i]) for i in active) <= MAX_PARAMS:
        batches = [[(i, probes[i]) for i in active]] if active else []
    else:
        batches = [
            [(i, probes[i][start : start + MAX_PARAMS])]
            for i in active
            for start in range(0, len(probes[i]), MAX_PARAMS)
        ]
    found = [np.empty(0, np.uint64)]
    for batch in batches:
        sql = _probe_sql(dialect, [(i, len(values)) for i, values in batch])
        if dialect == "postgresql":
            packed = driver_rows(conn, sql, [values for _, values in batch])[0][0]
            found.append(np.frombuffer(packed or b"", dtype=">u8").astype(np.uint64))
        else:
            joined = driver_rows(conn, sql, [v for _, values in batch for v in values])[0][0]
            if joined:
                found.append(np.fromstring(joined, dtype=np.int64, sep=",").view(np.uint64))
    return arrays.distinct(np.concatenate(found))


def _rows_with_values(conn: Connection, values: Iterable[int]) -> list[tuple]:
    """(id, work_id, kind, window, signed value) of the rows holding ``values``."""
    signed = sorted(to_signed(v) for v in values)
    firsts = sorted({chunks(v)[0] for v in values})
    if conn.dialect.name == "postgresql":
        sql = ('SELECT id, work_id, kind, "window", value FROM image_hash_rows '
               "WHERE c0 = ANY(%s) AND value = ANY(%s)")  # fmt: skip
        return driver_rows(conn, sql, [firsts, signed])
    t = image_hash_rows
    stmt = select(t.c.id, t.c.work_id, t.c.kind, t.c.window, t.c.value).where(
        t.c.c0.in_(firsts), t.c.value.in_(signed)
    )
    return [tuple(r) for r in conn.execute(stmt)]


def hamming_within_many(conn: Connection, queries: Sequence[int], radius: int) -> list[HashHit]:
    """Index rows within ``radius`` bits of any of ``queries`` (one hit per row and query)."""
    queries = sorted({int(q) for q in queries})
    if not queries:
        return []
    values = _probe(conn, mih_candidates(queries, radius))
    near: dict[int, list[tuple[int, int]]] = {}  # value -> [(query, distance)]
    for q in queries:
        dist = np.bitwise_count(values ^ np.uint64(q))
        for i in np.flatnonzero(dist <= radius):
            near.setdefault(int(values[i]), []).append((q, int(dist[i])))
    if not near:
        return []
    hits = []
    for row_id, work_id, kind, window, value in _rows_with_values(conn, near):
        value = to_unsigned(value)
        for q, distance in near[value]:
            hits.append(
                HashHit(row_id, work_id, KIND_NAMES.get(kind, str(kind)),
                        WINDOW_NAMES.get(window, str(window)), value, distance, q)
            )
    return hits


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
        comparison = compare_windows(query.variants, ImageHashes.from_dict(json.loads(raw)))
        if comparison.matched:
            matches.append(
                ImageMatch(work_id, comparison.score, comparison.distances,
                           comparison.transformation, comparison.query_variant,
                           comparison.reference_window)
            )
    matches.sort(key=lambda m: (-m.score, m.work_id))
    return matches[:limit]
