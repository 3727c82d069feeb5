"""Candidate search for local features: locality-sensitive hashing of ORB descriptors in SQL.

A registered picture keeps its strongest keypoints (``image_features``: the
compact form of :class:`~registry.core.image_features.LocalFeatures`, the
source of everything else here). Each descriptor (256 bits) gives one key per
*table*: :data:`KEY_BITS` of its bits, a different set per table (bit
sampling, an LSH family for the Hamming distance). Two descriptors of the same
corner seen in two copies differ in a few dozen bits, so they share a table's
key often; unrelated descriptors rarely. ``image_feature_postings`` has one row
per key packing the work ids of every registered keypoint with that key
(4 bytes each), read by primary key like the hash index's chunk rows.

A query reads the rows of its strongest keypoints' keys (upright and mirrored),
counts per work how many of its keypoints voted for it, and verifies the best
few works geometrically (:func:`registry.core.image_features.verify`): the
index only proposes; nothing is accepted without RANSAC agreeing.

Everything runs on a SQLAlchemy ``Connection`` the caller owns, so the index is
written in the same transaction as the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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
    select,
)

from registry.core.image_features import FeatureMatch, LocalFeatures, best_match
from registry.core.matching import arrays
from registry.core.matching.postings import drop_work
from registry.core.sql import driver_rows, metadata, postgres_copy_upsert

TABLES = 3
KEY_BITS = 18
#: Keypoints of a query (each orientation) whose keys are probed: the strongest.
PROBED_KEYPOINTS = 600
#: Works verified per query: the ones with the most votes (at least MIN_VOTES).
CANDIDATES = 12
MIN_VOTES = 3
#: A key shared by more than this many registered keypoints (and this share of
#: all works) says little: it is skipped when counting votes.
STOP_POSTING = 2000
MAX_PARAMS = 20000
INSERT_BATCH = 2000
ENTRY = np.dtype(">i4")

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


def _append(conn: Connection, items: Sequence[tuple[int, LocalFeatures]]) -> None:
    keys_list, works_list = [], []
    for work_id, feats in items:
        keys = np.unique(descriptor_keys(feats.descriptors).ravel())
        keys_list.append(keys)
        works_list.append(np.full(keys.size, work_id, dtype=ENTRY))
    if not keys_list:
        return
    keys = np.concatenate(keys_list)
    works = np.concatenate(works_list).astype(ENTRY)
    if not keys.size:
        return
    order = np.argsort(keys, kind="stable")
    uniq, _, packed = arrays.packed_runs(keys[order], works[order])
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


def count_features(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(image_features)).scalar_one())


def rebuild(conn: Connection, progress: Callable[[int, int], None] | None = None, *,
            batch: int = 2000) -> int:
    """Rewrite every posting row from the stored keypoints. Returns the works indexed."""
    total = count_features(conn)
    conn.execute(delete(image_feature_postings))
    done, last = 0, None
    if progress:
        progress(0, total)
    while True:
        query = select(image_features.c.work_id, image_features.c.features).order_by(
            image_features.c.work_id)
        if last is not None:
            query = query.where(image_features.c.work_id > last)
        rows = conn.execute(query.limit(batch)).all()
        if not rows:
            break
        _append(conn, [(wid, LocalFeatures.from_bytes(bytes(blob))) for wid, blob in rows])
        done += len(rows)
        last = rows[-1][0]
        if progress:
            progress(done, total)
    return done


# --------------------------------------------------------------------------- search


def _probe(conn: Connection, keys: list[int]) -> dict[int, np.ndarray]:
    """key -> the work ids of its posting row."""
    if not keys:
        return {}
    out: dict[int, np.ndarray] = {}
    if conn.dialect.name == "postgresql":
        sql = "SELECT key, postings FROM image_feature_postings WHERE key = ANY(%s)"
        rows = driver_rows(conn, sql, [keys])
    else:
        rows = []
        for start in range(0, len(keys), MAX_PARAMS):
            part = keys[start : start + MAX_PARAMS]
            sql = ("SELECT key, postings FROM image_feature_postings WHERE key IN "
                   f"({','.join('?' * len(part))})")  # fmt: skip
            rows += driver_rows(conn, sql, part)
    for key, blob in rows:
        out[int(key)] = np.frombuffer(bytes(blob), dtype=ENTRY)
    return out


def votes(conn: Connection, queries: Sequence[LocalFeatures]) -> dict[int, int]:
    """work id -> how many probed query keypoints have a key in common with it."""
    per_query = []
    for q in queries:
        keys = descriptor_keys(q.descriptors[:PROBED_KEYPOINTS])
        per_query.append(keys)
    if not per_query:
        return {}
    all_keys = sorted(set(np.concatenate([k.ravel() for k in per_query]).tolist()))
    rows = _probe(conn, all_keys)
    counts: dict[int, int] = {}
    for keys in per_query:
        pairs = []
        for i, row in enumerate(keys.tolist()):
            for k in row:
                hit = rows.get(k)
                if hit is not None and hit.size <= STOP_POSTING:
                    pairs.append(hit.astype(np.int64) | (i << 32))
        if not pairs:
            continue
        distinct = arrays.distinct(np.concatenate(pairs))  # one vote per keypoint and work
        uniq, n = arrays.value_counts(distinct & 0xFFFFFFFF)
        for wid, c in zip(uniq.tolist(), n.tolist(), strict=True):
            counts[wid] = max(counts.get(wid, 0), c)
    return counts


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

    ``extra_candidates`` (e.g. works the hash index found) are verified too.
    """
    counted = votes(conn, queries)
    ranked = sorted((wid for wid, v in counted.items() if v >= MIN_VOTES),
                    key=lambda wid: (-counted[wid], wid))[:CANDIDATES]
    candidates = list(dict.fromkeys([*extra_candidates, *ranked]))
    stored = load_features(conn, candidates)
    found = []
    for wid in candidates:
        ref = stored.get(wid)
        if ref is None:
            continue
        m = best_match(list(queries), ref)
        if m is not None:
            found.append(LocalMatch(wid, counted.get(wid, 0), m))
    found.sort(key=lambda x: (-x.match.inliers, x.work_id))
    return found[:limit]


def original_sizes(conn: Connection, work_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """work id -> the registered picture's original (width, height), from its stored header."""
    return {wid: (f.original_width, f.original_height)
            for wid, f in load_features(conn, work_ids).items()}
