"""security (issue 12, item 8): a transfer is offered to an address, not to a known account

The offering owner learns nothing about whether the address has an account: the offer is
kept with the address (``to_email``) and, once a confirmed account holds it, with that
account (``to_user_id``, now nullable until then).

Revision ID: security_01
Revises: reliability_01
Create Date: 2026-11-30 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'security_01'
down_revision = 'reliability_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_transfers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_email', sa.String(length=254), nullable=True))
        batch_op.alter_column('to_user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_work_transfers_to_email'), ['to_email'],
                              unique=False)
    op.execute("UPDATE work_transfers SET to_email = (SELECT email FROM users "
               "WHERE users.id = work_transfers.to_user_id)")


def downgrade():
    op.execute("DELETE FROM work_transfers WHERE to_user_id IS NULL")
    with op.batch_alter_table('work_transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_transfers_to_email'))
        batch_op.alter_column('to_user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('to_email')
