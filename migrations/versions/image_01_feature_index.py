"""image local features: stored keypoints and their LSH posting rows (issue 17)

``image_features`` keeps each indexed picture's strongest ORB keypoints (compact
binary form); ``image_feature_postings`` one row per LSH key packing the work
ids of the keypoints with that key. Pictures registered before this revision
get their keypoints from their stored files with ``flask index rebuild --only
image_features`` (or a plain ``flask index rebuild``).

Revision ID: image_01
Revises: rel_01
Create Date: 2026-11-29 23:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'image_01'
down_revision = 'rel_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('image_feature_postings',
    sa.Column('key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('postings', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_image_feature_postings'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE image_feature_postings SET (fillfactor = 70)')
    op.create_table('image_features',
    sa.Column('work_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('features', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('work_id', name=op.f('pk_image_features'))
    )


def downgrade():
    op.drop_table('image_features')
    op.drop_table('image_feature_postings')
