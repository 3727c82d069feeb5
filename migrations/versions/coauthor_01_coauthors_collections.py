"""co-authors confirm, named collections (issue 20)

``coauthor_invitations``: a named author asked (by e-mail) to confirm their role and
share; the answer is a ledger entry (``work.coauthor_confirmed`` / ``_declined``).
``collections`` and ``collection_items``: an owner's albums, series and photo sets.
The new dispute kind ``authorship`` needs no change: dispute kinds are a plain
VARCHAR(32).

Revision ID: coauthor_01
Revises: security_01
Create Date: 2026-11-30 01:43:56.483158

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'coauthor_01'
down_revision = 'security_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('collections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('album', 'series', 'photo_set', 'other', name='collectionkind', native_enum=False, length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_collections_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collections'))
    )
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collections_owner_id'), ['owner_id'], unique=False)

    op.create_table('coauthor_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('share', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'declined', 'withdrawn', name='invitationstatus', native_enum=False, length=16), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('ledger_index', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_coauthor_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_coauthor_invitations_user_id_users')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_coauthor_invitations_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coauthor_invitations'))
    )
    with op.batch_alter_table('coauthor_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coauthor_invitations_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_coauthor_invitations_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_coauthor_invitations_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coauthor_invitations_work_id'), ['work_id'], unique=False)

    op.create_table('collection_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_collection_items_collection_id_collections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_collection_items_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_items')),
    sa.UniqueConstraint('collection_id', 'work_id', name=op.f('uq_collection_items_collection_id'))
    )
    with op.batch_alter_table('collection_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_items_collection_id'), ['collection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_items_work_id'), ['work_id'], unique=False)



def downgrade():
    with op.batch_alter_table('collection_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_items_work_id'))
        batch_op.drop_index(batch_op.f('ix_collection_items_collection_id'))

    op.drop_table('collection_items')
    with op.batch_alter_table('coauthor_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coauthor_invitations_work_id'))
        batch_op.drop_index(batch_op.f('ix_coauthor_invitations_user_id'))
        batch_op.drop_index(batch_op.f('ix_coauthor_invitations_status'))
        batch_op.drop_index(batch_op.f('ix_coauthor_invitations_email'))

    op.drop_table('coauthor_invitations')
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collections_owner_id'))

    op.drop_table('collections')
