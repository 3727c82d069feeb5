"""checkpoint attestations: RFC 3161 time-stamps, witness cosignatures, attesters (issue 19)

Revision ID: attest_01
Revises: creator_01
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'attest_01'
down_revision = 'creator_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ledger_timestamps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tree_size', sa.BigInteger(), nullable=False),
        sa.Column('authority', sa.String(length=500), nullable=False),
        sa.Column('response', sa.LargeBinary(), nullable=False),
        sa.Column('gen_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_timestamps')),
        sa.UniqueConstraint('tree_size', 'authority', name='uq_ledger_timestamps_size_authority'),
    )
    op.create_index(op.f('ix_ledger_timestamps_tree_size'), 'ledger_timestamps', ['tree_size'])
    op.create_table(
        'ledger_cosignatures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tree_size', sa.BigInteger(), nullable=False),
        sa.Column('witness', sa.String(length=200), nullable=False),
        sa.Column('vkey', sa.String(length=300), nullable=False),
        sa.Column('line', sa.Text(), nullable=False),
        sa.Column('cosigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_cosignatures')),
        sa.UniqueConstraint('tree_size', 'vkey', name='uq_ledger_cosignatures_size_vkey'),
    )
    op.create_index(op.f('ix_ledger_cosignatures_tree_size'), 'ledger_cosignatures',
                    ['tree_size'])
    op.create_table(
        'attesters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('target', sa.String(length=500), nullable=False),
        sa.Column('attested_size', sa.BigInteger(), nullable=False),
        sa.Column('known_size', sa.BigInteger(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attesters')),
        sa.UniqueConstraint('kind', 'target', name='uq_attesters_kind_target'),
    )


def downgrade():
    op.drop_table('attesters')
    op.drop_index(op.f('ix_ledger_cosignatures_tree_size'), table_name='ledger_cosignatures')
    op.drop_table('ledger_cosignatures')
    op.drop_index(op.f('ix_ledger_timestamps_tree_size'), table_name='ledger_timestamps')
    op.drop_table('ledger_timestamps')
