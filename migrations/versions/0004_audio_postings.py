"""audio index: one row of packed postings per key (issue 3, query speed)

Replaces ``audio_index`` (one row per posting) and ``audio_key_stats`` with
``audio_postings``: per key, the number of works and every (work, position)
as eight big-endian bytes. The key's bits are reordered (the six probed low
bits of the item become the key's lowest bits: new = (old & 0xFFFF) << 6 |
old >> 16). Existing postings are carried over, so no `flask index rebuild` is
needed after upgrading.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 22:30:00

"""
import struct

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Frozen copies of the values in registry.core.matching.audio_index at the time
# of this migration (a migration must not change when the code does).
SATURATED_WORKS = 5000
FILLFACTOR = 70
BATCH = 20000
NEW_KEY = '(((key & 65535) * 64) | (key / 65536))'
OLD_KEY = '(((key & 63) * 65536) | (key / 64))'


def _carry_postings_over(conn) -> None:
    postings = sa.table('audio_postings', sa.column('key'), sa.column('works'),
                        sa.column('postings'))
    rows = conn.execute(sa.text(
        f'SELECT {NEW_KEY} AS k, work_id, position FROM audio_index ORDER BY k, work_id, position'
    ))
    batch: list[dict] = []
    key, works, packed, last_work = None, 0, bytearray(), None

    def close() -> None:
        if key is not None:
            blob = bytes(packed) if works <= SATURATED_WORKS else b''
            batch.append({'key': key, 'works': works, 'postings': blob})

    for k, w, p in rows:
        if k != key:
            close()
            key, works, packed, last_work = k, 0, bytearray(), None
            if len(batch) >= BATCH:
                conn.execute(postings.insert(), batch)
                batch = []
        if w != last_work:
            works, last_work = works + 1, w
        packed += struct.pack('>ii', w, p)
    close()
    if batch:
        conn.execute(postings.insert(), batch)


def upgrade():
    op.create_table('audio_postings',
    sa.Column('key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('works', sa.Integer(), nullable=False),
    sa.Column('postings', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_audio_postings'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE audio_postings SET (fillfactor = {FILLFACTOR})')
    _carry_postings_over(op.get_bind())
    op.drop_table('audio_key_stats')
    op.drop_table('audio_index')


def downgrade():
    op.create_table('audio_index',
    sa.Column('key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('work_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('key', 'work_id', 'position', name=op.f('pk_audio_index')),
    sqlite_with_rowid=False
    )
    op.create_table('audio_key_stats',
    sa.Column('key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('works', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_audio_key_stats')),
    sqlite_with_rowid=False
    )
    conn = op.get_bind()
    rows = conn.execute(sa.text(f'SELECT {OLD_KEY}, works, postings FROM audio_postings'))
    index = sa.table('audio_index', sa.column('key'), sa.column('work_id'), sa.column('position'))
    stats = sa.table('audio_key_stats', sa.column('key'), sa.column('works'))
    for key, works, blob in rows:
        conn.execute(stats.insert(), [{'key': key, 'works': works}])
        pairs = struct.iter_unpack('>ii', bytes(blob))
        entries = [{'key': key, 'work_id': w, 'position': p} for w, p in pairs]
        if entries:
            conn.execute(index.insert(), entries)
    op.drop_table('audio_postings')
