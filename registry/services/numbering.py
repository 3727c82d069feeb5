"""Registration numbers: ``KZ-2026-000123``, sequential per year, never reused.

The counter row is bumped with one ``UPDATE … RETURNING`` in the caller's
transaction, so concurrent registrations queue on the row lock (PostgreSQL) or
the write lock (SQLite) and a rolled-back registration gives its number back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from registry.models.work import RegistrationCounter


def next_registration_number(session: Session, prefix: str, when: datetime) -> str:
    table = RegistrationCounter.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(table).values(prefix=prefix, year=when.year, last_number=0)
        .on_conflict_do_nothing(index_elements=["prefix", "year"])
    )
    number = session.execute(
        update(table)
        .where(table.c.prefix == prefix, table.c.year == when.year)
        .values(last_number=table.c.last_number + 1)
        .returning(table.c.last_number)
    ).scalar_one()
    return f"{prefix}-{when.year}-{number:06d}"
