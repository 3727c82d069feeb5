"""full-text search: FTS5 on SQLite, a weighted tsvector with a GIN index on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 20:10:00

The search tables are named ``search_fts*`` and stay out of the ORM metadata
(their text is folded in Python, see ``registry.services.search``); the
migration-vs-models check ignores them.
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    from registry.services.search import create_search_schema, rebuild_index

    bind = op.get_bind()
    create_search_schema(bind)
    rebuild_index(bind)


def downgrade():
    from registry.services.search import drop_search_schema

    drop_search_schema(op.get_bind())
