"""opt-in creator pages and account deletion (issue 20)

``users.public_profile`` turns on the public page /creators/<id> (off by default);
``users.deleted_at`` marks an account whose personal data was removed (the row
stays: its works and ledger entries keep an anonymous registrant).

Revision ID: creator4_01
Revises: coauthor_01
Create Date: 2026-11-30 01:55:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'creator4_01'
down_revision = 'coauthor_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_profile', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('public_profile')
