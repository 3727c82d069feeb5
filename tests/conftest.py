"""Shared fixtures.

``DATABASE_URL`` picks the database the suite runs against (CI runs it once on
SQLite and once on PostgreSQL); unset means a temporary SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

FIXTURES = Path(__file__).parent / "fixtures"


def database_url(tmp_path: Path) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def core_engine(tmp_path: Path) -> Iterator[Engine]:
    """A bare SQLAlchemy engine for core store tests (no Flask, no app).

    Core tests create only the tables they exercise and drop them afterwards,
    so they leave an external PostgreSQL database as they found it.
    """
    engine = create_engine(database_url(tmp_path))
    yield engine
    engine.dispose()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
