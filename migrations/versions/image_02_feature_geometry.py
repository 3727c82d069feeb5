"""local-feature postings carry each keypoint's geometry (issue 17, candidate stage)

An entry of ``image_feature_postings`` was a 4-byte work id, one per (key, work).
It is now the work id and the keypoint's geometry packed in 16 bits (orientation,
size, 64-pixel cell: 6 bytes), one per (key, keypoint geometry, work), so that a
query counts only the votes that agree on one turn, scale and position (a Hough
pre-filter). The rows are rebuilt here from the stored keypoints
(``image_features``), so no ``flask index rebuild`` is needed for the layout.

Keypoints stored before this revision (format 1) have no orientation or size:
their entries get the "unknown" geometry (0xFFFF) and vote as before, in one
cell, until ``flask index rebuild --only image_features`` (or a plain ``flask
index rebuild``) extracts them again from the stored files. The downgrade
rewrites the old layout and turns format-2 keypoints back into format 1 (the
older code refuses format 2).

Revision ID: image_02
Revises: video_02
Create Date: 2026-11-30 11:00:00

"""
import struct

import numpy as np
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'image_02'
down_revision = 'video_02'
branch_labels = None
depends_on = None

# Frozen copies of registry.core.matching.feature_index and of the keypoint blob of
# registry.core.image_features (LocalFeatures.to_bytes) at the time of this migration.
HEAD = struct.Struct('>BHHIIH')
DESCRIPTOR_BYTES = 32
TABLES = 3
KEY_BITS = 18
OLD_ENTRY = np.dtype('>i4')
ENTRY = np.dtype([('work', '>i4'), ('geo', '>u2')])
UNKNOWN_GEOMETRY = 0xFFFF
ANGLE_STEPS = 32
SIZE_STEPS = 7
BASE_SIZE = 31.0
POSITION_CELL = 64
BATCH = 200
_BIT_INDEX = np.array([[i * TABLES + t for i in range(KEY_BITS)] for t in range(TABLES)])


def _parse(blob: bytes):
    """(version, xy (n, 2) float, descriptors (n, 32), angle bytes or None, size bytes or None)."""
    version, _, _, _, _, n = HEAD.unpack_from(blob)
    off = HEAD.size
    xy = np.frombuffer(blob, '>u2', 2 * n, off).reshape(n, 2).astype(np.float64) / 16
    desc = np.frombuffer(blob, np.uint8, DESCRIPTOR_BYTES * n, off + 4 * n).reshape(n, -1)
    if version == 1:
        return version, xy, desc, None, None
    if version != 2:
        raise ValueError(f'unknown local-feature format {version}')
    off += (4 + DESCRIPTOR_BYTES) * n
    return (version, xy, desc, np.frombuffer(blob, np.uint8, n, off),
            np.frombuffer(blob, np.uint8, n, off + n))


def _keys(desc: np.ndarray) -> np.ndarray:
    bits = np.unpackbits(desc, axis=1)[:, _BIT_INDEX]
    weights = (1 << np.arange(KEY_BITS - 1, -1, -1)).astype(np.int64)
    values = (bits.astype(np.int64) * weights).sum(axis=2)
    return values | (np.arange(TABLES, dtype=np.int64) << KEY_BITS)[None, :]


def _geometry(xy, turn, size) -> np.ndarray:
    if turn is None:
        return np.full(len(xy), UNKNOWN_GEOMETRY, dtype=np.int64)
    angle = np.round(turn.astype(np.float64) * 360 / 256 * ANGLE_STEPS / 360).astype(np.int64)
    pixels = np.exp2(size.astype(np.float64) / 16)
    octaves = np.log2(np.maximum(pixels, 1.0) / BASE_SIZE)
    steps = np.clip(np.round(2 * octaves), 0, SIZE_STEPS - 1).astype(np.int64)
    xy32 = xy.astype(np.float32)  # the live code reads positions as float32
    cells = np.clip(xy32.astype(np.int64) // POSITION_CELL, 0, 15)
    return (angle % ANGLE_STEPS) << 11 | steps << 8 | cells[:, 0] << 4 | cells[:, 1]


def _entries(work_id: int, blob: bytes, geometry: bool):
    _, xy, desc, turn, size = _parse(blob)
    keys = _keys(desc)
    if not geometry:
        k = np.unique(keys.ravel())
        return k, np.full(k.size, work_id, dtype=OLD_ENTRY)
    geo = np.repeat(_geometry(xy, turn, size), TABLES)
    pairs = np.unique(keys.ravel() << 16 | geo)
    entries = np.zeros(pairs.size, dtype=ENTRY)
    entries['work'] = work_id
    entries['geo'] = pairs & 0xFFFF
    return pairs >> 16, entries


def _write(conn, table, keys, entries) -> None:
    order = np.argsort(keys, kind='stable')
    keys, entries = keys[order], entries[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    bounds = np.append(starts, keys.size) * entries.dtype.itemsize
    blob = entries.tobytes()
    new = {int(keys[s]): blob[bounds[i]:bounds[i + 1]] for i, s in enumerate(starts)}
    existing = {}
    ordered = sorted(new)
    for start in range(0, len(ordered), 500):
        part = ordered[start:start + 500]
        existing.update(conn.execute(sa.select(table.c.key, table.c.postings)
                                     .where(table.c.key.in_(part))).all())
    inserts = [{'key': key, 'postings': v} for key, v in new.items() if key not in existing]
    updates = [{'k': key, 'p': bytes(existing[key]) + v}
               for key, v in new.items() if key in existing]
    if inserts:
        conn.execute(table.insert(), inserts)
    if updates:
        conn.execute(table.update().where(table.c.key == sa.bindparam('k'))
                     .values(postings=sa.bindparam('p')), updates)


def _to_format_1(blob: bytes) -> bytes | None:
    version, _, _, _, _, n = HEAD.unpack_from(blob)
    if version == 1:
        return None
    return b'\x01' + blob[1:HEAD.size + (4 + DESCRIPTOR_BYTES) * n]


def _rebuild(geometry: bool) -> None:
    conn = op.get_bind()
    conn.execute(sa.text('DELETE FROM image_feature_postings'))
    table = sa.table('image_feature_postings', sa.column('key'), sa.column('postings'))
    features = sa.table('image_features', sa.column('work_id'), sa.column('features'))
    last = None
    while True:
        query = 'SELECT work_id, features FROM image_features'
        if last is not None:
            query += f' WHERE work_id > {int(last)}'
        rows = conn.execute(sa.text(query + f' ORDER BY work_id LIMIT {BATCH}')).all()
        if not rows:
            break
        last = rows[-1][0]
        keys, entries, older = [], [], []
        for work_id, blob in rows:
            k, e = _entries(work_id, bytes(blob), geometry)
            keys.append(k)
            entries.append(e)
            if not geometry and (old := _to_format_1(bytes(blob))) is not None:
                older.append({'w': work_id, 'f': old})
        if older:
            conn.execute(features.update().where(features.c.work_id == sa.bindparam('w'))
                         .values(features=sa.bindparam('f')), older)
        if keys:  # (concatenate may return the native byte order: back to the entry's)
            dtype = ENTRY if geometry else OLD_ENTRY
            _write(conn, table, np.concatenate(keys), np.concatenate(entries).astype(dtype))


def upgrade():
    _rebuild(geometry=True)


def downgrade():
    _rebuild(geometry=False)
