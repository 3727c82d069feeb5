"""audio: the pitch- and tempo-tolerant peak-quad index (issue 16)

Adds ``audio_peak_recordings`` (each audio work's spectral peaks) and
``audio_peak_postings`` (one row of packed postings per quad hash). Works
registered before this migration have no peaks: they are found by Chromaprint
only until registered again (``flask index rebuild`` rebuilds the postings from
stored peaks).

Revision ID: audio_01
Revises: sec_01
Create Date: 2026-11-29 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'audio_01'
down_revision = 'sec_01'
branch_labels = None
depends_on = None

FILLFACTOR = 70  # frozen copy of the value in registry.core.matching.peak_index


def upgrade():
    op.create_table(
        'audio_peak_recordings',
        sa.Column('work_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('duration_s', sa.Float(), nullable=False),
        sa.Column('peak_count', sa.Integer(), nullable=False),
        sa.Column('peaks', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('work_id'),
    )
    op.create_table(
        'audio_peak_postings',
        sa.Column('key', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('works', sa.Integer(), nullable=False),
        sa.Column('postings', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE audio_peak_postings SET (fillfactor = {FILLFACTOR})')


def downgrade():
    op.drop_table('audio_peak_postings')
    op.drop_table('audio_peak_recordings')
