"""full-text search: FTS5 on SQLite, a weighted tsvector with a GIN index on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 20:10:00

The search tables are named ``search_fts*`` and stay out of the ORM metadata
(their text is folded in Python, see ``registry.services.search``); the
migration-vs-models check ignores them. Frozen: the DDL below is a copy of what
``registry.services.search`` created when this revision was written, and a
migration never imports live code. A database that already held works when it
reached this revision fills the index with ``flask index rebuild --only search``
(the folding rules live in Python, not in SQL).
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


_SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "title, people, work_type UNINDEXED, country UNINDEXED, year UNINDEXED, status UNINDEXED,"
    " tokenize = 'unicode61', prefix = '2 3')",
]
_PG_DDL = [
    "CREATE TABLE IF NOT EXISTS search_fts_docs ("
    " work_id integer PRIMARY KEY,"
    " title text NOT NULL DEFAULT '',"
    " people text NOT NULL DEFAULT '',"
    " work_type varchar(32), country varchar(8), year integer, status varchar(16),"
    " tsv tsvector GENERATED ALWAYS AS ("
    "  setweight(to_tsvector('simple'::regconfig, title), 'A') ||"
    "  setweight(to_tsvector('simple'::regconfig, people), 'B')) STORED)",
    "CREATE INDEX IF NOT EXISTS search_fts_docs_tsv ON search_fts_docs USING gin (tsv)",
]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    for ddl in _PG_DDL if _postgres() else _SQLITE_DDL:
        op.get_bind().exec_driver_sql(ddl)


def downgrade():
    op.get_bind().exec_driver_sql(
        f"DROP TABLE IF EXISTS {'search_fts_docs' if _postgres() else 'search_fts'}")
