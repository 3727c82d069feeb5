"""audio: the pair index, a noise-robust candidate stage for voice-overs (issue 16)

Adds ``audio_pair_postings`` (one row of packed (work, anchor frame) postings per
hash of two spectral peaks), built from the peaks already stored in
``audio_peak_recordings``. The migration creates the table empty: an existing
database fills it with ``flask index rebuild --only audio_pairs`` (or a full
``flask index rebuild``).

Revision ID: audio_02
Revises: image_02
Create Date: 2026-11-30 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'audio_02'
down_revision = 'image_02'
branch_labels = None
depends_on = None

FILLFACTOR = 70  # frozen copy of the value in registry.core.matching.pair_index


def upgrade():
    op.create_table(
        'audio_pair_postings',
        sa.Column('key', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('works', sa.Integer(), nullable=False),
        sa.Column('postings', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE audio_pair_postings SET (fillfactor = {FILLFACTOR})')


def downgrade():
    op.drop_table('audio_pair_postings')
