"""provenance: what files declare (C2PA, IPTC), AI-training reservations (issue 18)

Revision ID: prov_01
Revises: audio_01
Create Date: 2026-11-29 22:49:37.883281

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'prov_01'
down_revision = 'audio_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('training_reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ledger_index', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_training_reservations_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_reservations'))
    )
    with op.batch_alter_table('training_reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_reservations_work_id'), ['work_id'], unique=False)

    op.create_table('work_provenance',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('c2pa_state', sa.String(length=16), nullable=False),
    sa.Column('c2pa_claim_generator', sa.String(length=500), nullable=True),
    sa.Column('c2pa_signer', sa.String(length=500), nullable=True),
    sa.Column('c2pa_digital_source_type', sa.String(length=200), nullable=True),
    sa.Column('iptc_digital_source_type', sa.String(length=200), nullable=True),
    sa.Column('ai_system', sa.String(length=500), nullable=True),
    sa.Column('ai_system_version', sa.String(length=500), nullable=True),
    sa.Column('ai_prompt', sa.Text(), nullable=True),
    sa.Column('data_mining', sa.String(length=200), nullable=True),
    sa.Column('file_ai_claim', sa.String(length=16), nullable=True),
    sa.Column('declared_ai_use', sa.String(length=16), nullable=False),
    sa.Column('ai_declaration_mismatch', sa.Boolean(), nullable=False),
    sa.Column('mismatch_reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mismatch_reviewed_by', sa.Integer(), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mismatch_reviewed_by'], ['users.id'], name=op.f('fk_work_provenance_mismatch_reviewed_by_users')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_provenance_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', name=op.f('pk_work_provenance'))
    )
    with op.batch_alter_table('work_provenance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_provenance_ai_declaration_mismatch'), ['ai_declaration_mismatch'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ai_training_opt_out_default', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('ai_training_opt_out_default')

    with op.batch_alter_table('work_provenance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_provenance_ai_declaration_mismatch'))

    op.drop_table('work_provenance')
    with op.batch_alter_table('training_reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_reservations_work_id'))

    op.drop_table('training_reservations')
