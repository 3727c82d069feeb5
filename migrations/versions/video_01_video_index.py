"""video works: the frame-hash index and key frames

``video_works`` keeps each registered video's per-second PDQ frame hashes (the
source postings are rebuilt and verified from); ``video_frame_postings`` is the
inverted index over their 16-bit chunks (one row per chunk number and value,
entries packed). ``works.key_frames`` lists a video's key frames.

Revision ID: video_01
Revises: attest_01
Create Date: 2026-11-29 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'video_01'
down_revision = 'attest_01'
branch_labels = None
depends_on = None

FILLFACTOR = 70


def upgrade():
    op.create_table('video_frame_postings',
    sa.Column('key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('postings', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_video_frame_postings'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE video_frame_postings SET (fillfactor = {FILLFACTOR})')
    op.create_table('video_works',
    sa.Column('work_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('frames', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('work_id', name=op.f('pk_video_works'))
    )
    with op.batch_alter_table('works', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_frames', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('works', schema=None) as batch_op:
        batch_op.drop_column('key_frames')
    op.drop_table('video_works')
    op.drop_table('video_frame_postings')
