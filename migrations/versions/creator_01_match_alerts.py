"""hear about every copy: match e-mail preference and digest flag (issue 20)

``users.match_emails`` says whether an owner gets an e-mail at once for every
later registration that matches one of their works, or a daily digest;
``notifications.mail_pending`` marks notifications held back for that digest.

Revision ID: creator_01
Revises: image_01
Create Date: 2026-11-29 23:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'creator_01'
down_revision = 'image_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'match_emails', sa.Enum('immediate', 'daily', name='matchemails',
                                    native_enum=False, length=16),
            nullable=False, server_default='immediate'))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_pending', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_notifications_mail_pending'), ['mail_pending'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_mail_pending'))
        batch_op.drop_column('mail_pending')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('match_emails')
