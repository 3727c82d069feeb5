"""receipts: the signed promise given at submission to merge within a deadline (issue 13)

Revision ID: reliability_01
Revises: prov_01
Create Date: 2026-11-30 02:10:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'reliability_01'
down_revision = 'prov_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('receipts',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_receipts_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', name=op.f('pk_receipts'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_deadline'), ['deadline'], unique=False)


def downgrade():
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_deadline'))

    op.drop_table('receipts')
