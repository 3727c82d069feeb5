"""The migrations are the only way the schema is built: they must match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import registry.models  # noqa: F401  (registers every table)
from registry.core.sql import metadata
from registry.models import migration_include_object


def test_fresh_database_from_migrations_matches_the_models(migrated_database):
    engine = create_engine(migrated_database)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_object": migration_include_object},
        )
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == []


def test_every_model_table_exists_after_upgrade(migrated_database):
    from sqlalchemy import inspect

    engine = create_engine(migrated_database)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"users", "user_sessions", "alembic_version"} <= tables
    assert set(metadata.tables) <= tables
