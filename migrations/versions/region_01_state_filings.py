"""state register applications: the particulars a creator adds for filing

Revision ID: region_01
Revises: 0005
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'region_01'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'state_filings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('work_id', sa.Integer(), nullable=False),
        sa.Column('applicant', sa.JSON(), nullable=False),
        sa.Column('authors', sa.JSON(), nullable=False),
        sa.Column('derivative', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('prepared_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('prepared_digest', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['work_id'], ['works.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('work_id'),
    )


def downgrade():
    op.drop_table('state_filings')
