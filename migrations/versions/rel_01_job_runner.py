"""job runner: leases, back-off, dead letters, outbox payloads, periodic tasks

Revision ID: rel_01
Revises: region_01
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'rel_01'
down_revision = 'region_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('run_after', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_index('ix_jobs_run_after', ['run_after'])
    op.create_table(
        'periodic_tasks',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_periodic_tasks')),
    )


def downgrade():
    op.drop_table('periodic_tasks')
    with op.batch_alter_table('jobs') as batch:
        batch.drop_index('ix_jobs_run_after')
        batch.drop_column('heartbeat_at')
        batch.drop_column('lease_until')
        batch.drop_column('run_after')
        batch.drop_column('payload')
