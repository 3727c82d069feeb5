"""image index: packed posting rows per chunk (issue 4, query speed)

Replaces ``image_hash_rows`` (one row per indexed value, four chunk indexes)
with ``image_chunk_postings``: one row per (chunk number, chunk value), keyed
``number << 16 | value``, packing every entry with that chunk as 14 bytes (the
value big-endian, work id big-endian, kind, window). Existing rows are carried
over, so no `flask index rebuild` is needed after upgrading.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:00:00

"""
import struct
from collections import defaultdict

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Frozen copy of the layout in registry.core.matching.image_index at the time of
# this migration.
ENTRY = struct.Struct('>QiBB')
FILLFACTOR = 70
BATCH = 200_000


def _keys(unsigned: int) -> list[int]:
    return [(i << 16) | ((unsigned >> (16 * (3 - i))) & 0xFFFF) for i in range(4)]


def _write(conn, postings: dict[int, bytearray]) -> None:
    """Append grouped entries to their rows (rows may already hold earlier batches)."""
    table = sa.table('image_chunk_postings', sa.column('key'), sa.column('postings'))
    existing = {}
    keys = sorted(postings)
    for start in range(0, len(keys), 500):
        part = keys[start:start + 500]
        existing.update(conn.execute(
            sa.select(table.c.key, table.c.postings).where(table.c.key.in_(part))).all())
    new = [{'key': k, 'postings': bytes(v)} for k, v in postings.items() if k not in existing]
    changed = [{'k': k, 'p': bytes(existing[k]) + bytes(v)}
               for k, v in postings.items() if k in existing]
    if new:
        conn.execute(table.insert(), new)
    if changed:
        conn.execute(table.update().where(table.c.key == sa.bindparam('k'))
                     .values(postings=sa.bindparam('p')), changed)


def upgrade():
    op.create_table('image_chunk_postings',
    sa.Column('key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('postings', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_image_chunk_postings'))
    )
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE image_chunk_postings SET (fillfactor = {FILLFACTOR})')
    rows = conn.execute(sa.text(
        'SELECT value, work_id, kind, "window" FROM image_hash_rows ORDER BY id'))
    postings: dict[int, bytearray] = defaultdict(bytearray)
    count = 0
    for value, work_id, kind, window in rows:
        unsigned = value + (1 << 64) if value < 0 else value
        packed = ENTRY.pack(unsigned, work_id, kind, window)
        for key in _keys(unsigned):
            postings[key] += packed
        count += 1
        if count % BATCH == 0:
            _write(conn, postings)
            postings.clear()
    _write(conn, postings)
    with op.batch_alter_table('image_hash_rows', schema=None) as batch_op:
        for name in ('work_id', 'c3', 'c2', 'c1', 'c0'):
            batch_op.drop_index(f'ix_image_hash_rows_{name}')
    op.drop_table('image_hash_rows')


def downgrade():
    op.create_table('image_hash_rows',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.SmallInteger(), nullable=False),
    sa.Column('window', sa.SmallInteger(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('c0', sa.Integer(), nullable=False),
    sa.Column('c1', sa.Integer(), nullable=False),
    sa.Column('c2', sa.Integer(), nullable=False),
    sa.Column('c3', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_hash_rows'))
    )
    with op.batch_alter_table('image_hash_rows', schema=None) as batch_op:
        for name in ('c0', 'c1', 'c2', 'c3'):
            batch_op.create_index(f'ix_image_hash_rows_{name}', [name, 'value'], unique=False)
        batch_op.create_index('ix_image_hash_rows_work_id', ['work_id'], unique=False)
    conn = op.get_bind()
    table = sa.table('image_hash_rows', *(sa.column(c) for c in
                     ('work_id', 'kind', 'window', 'value', 'c0', 'c1', 'c2', 'c3')))
    # Every entry sits in the rows of all four chunks: read those of chunk 0 only.
    rows = conn.execute(sa.text(
        'SELECT postings FROM image_chunk_postings WHERE key < 65536 ORDER BY key'))
    out = []
    for (blob,) in rows:
        for unsigned, work_id, kind, window in ENTRY.iter_unpack(bytes(blob)):
            c = [(unsigned >> (16 * (3 - i))) & 0xFFFF for i in range(4)]
            signed = unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned
            out.append({'work_id': work_id, 'kind': kind, 'window': window, 'value': signed,
                        'c0': c[0], 'c1': c[1], 'c2': c[2], 'c3': c[3]})
    if out:
        conn.execute(table.insert(), out)
    op.drop_table('image_chunk_postings')
