"""ORM models, one module per aggregate.

Importing this package registers every table on the shared metadata, including
the core's index and ledger tables, so Alembic sees the whole schema.
"""

from registry.models.user import Role, User, UserSession

__all__ = ["Role", "User", "UserSession", "migration_include_object"]

# Tables the migrations create by hand (full-text search shadow tables and the
# like) that have no model; autogenerate must not propose dropping them.
UNMODELLED_TABLE_PREFIXES = ("search_fts",)


def migration_include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and reflected and compare_to is None:
        return not str(name).startswith(UNMODELLED_TABLE_PREFIXES)
    return True
