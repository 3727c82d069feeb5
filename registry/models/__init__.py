"""ORM models, one module per aggregate.

Importing this package registers every table on the shared metadata, including
the core's index and ledger tables, so Alembic sees the whole schema.
"""

from registry.models.user import Role, User, UserSession

__all__ = ["Role", "User", "UserSession"]
