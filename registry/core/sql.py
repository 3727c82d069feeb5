"""The one SQLAlchemy metadata every table of Tamga belongs to.

The ORM models (``registry.models``) and the core's index tables (plain
SQLAlchemy Core ``Table`` objects in ``registry.core.matching``) share it, so
Alembic sees one schema. Nothing here imports Flask.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    metadata = metadata
