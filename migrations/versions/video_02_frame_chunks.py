"""video frame index: every 16-bit chunk of a frame hash is a key

``video_frame_postings`` indexed 8 of the 16 chunks of each 256-bit frame hash
(every other one) and short queries also probed every chunk one bit away; it now
indexes all 16 chunks and a clip probes them exactly (a quarter of the rows and
a ninth of the entries read per query, for more hits per frame). The rows are
rebuilt here from the stored frame hashes (``video_works.frames``), so no
``flask index rebuild`` is needed after upgrading; the downgrade rebuilds the
old layout the same way.

Revision ID: video_02
Revises: creator4_01
Create Date: 2026-11-30 05:00:00

"""
import struct

import numpy as np
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'video_02'
down_revision = 'creator4_01'
branch_labels = None
depends_on = None

# Frozen copies of the layout in registry.core.matching.video_index and of the
# frame blob format of registry.core.video at the time of this migration.
ENTRY = np.dtype([('work', '>i4'), ('second', '>u2'), ('window', 'u1')])
HEADER = struct.Struct('<4sIf')
MAGIC = b'TVF1'
BATCH = 200


def _frames(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    magic, n, _ = HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise ValueError('not a frame-hash blob')
    at = HEADER.size
    times = np.frombuffer(blob, '<f4', n, at)
    codes = np.frombuffer(blob, np.uint8, n, at + 4 * n)
    bits = np.frombuffer(blob, np.uint8, 32 * n, at + 5 * n).reshape(n, 32)
    return times, codes, bits


def _keys(bits: np.ndarray, chunks: tuple[int, ...]) -> np.ndarray:
    words = bits.reshape(-1, 16, 2).astype(np.int64)
    values = ((words[:, :, 0] << 8) | words[:, :, 1])[:, list(chunks)]
    return values | (np.array(chunks, dtype=np.int64) << 16)[None, :]


def _rebuild(chunks: tuple[int, ...]) -> None:
    conn = op.get_bind()
    conn.execute(sa.text('DELETE FROM video_frame_postings'))
    table = sa.table('video_frame_postings', sa.column('key'), sa.column('postings'))
    last = None
    while True:
        query = 'SELECT work_id, frames FROM video_works'
        if last is not None:
            query += f' WHERE work_id > {int(last)}'
        rows = conn.execute(sa.text(query + f' ORDER BY work_id LIMIT {BATCH}')).all()
        if not rows:
            break
        last = rows[-1][0]
        keys, entries = [], []
        for work_id, blob in rows:
            times, codes, bits = _frames(bytes(blob))
            if not len(times):
                continue
            e = np.zeros(len(times), dtype=ENTRY)
            e['work'] = work_id
            e['second'] = np.clip(np.round(times), 0, 65535)
            e['window'] = codes
            keys.append(_keys(bits, chunks).ravel())
            entries.append(np.repeat(e, len(chunks)))
        if not keys:
            continue
        k = np.concatenate(keys)
        packed = np.concatenate(entries).astype(ENTRY)
        order = np.argsort(k, kind='stable')
        k, packed = k[order], packed[order]
        starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
        bounds = np.append(starts, k.size) * ENTRY.itemsize
        blob = packed.tobytes()
        new = {int(k[s]): blob[bounds[i]:bounds[i + 1]] for i, s in enumerate(starts)}
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


def upgrade():
    _rebuild(tuple(range(16)))


def downgrade():
    _rebuild(tuple(range(0, 16, 2)))
