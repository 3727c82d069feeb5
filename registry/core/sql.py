"""The one SQLAlchemy metadata every table of Tamga belongs to.

The ORM models (``registry.models``) and the core's index tables (plain
SQLAlchemy Core ``Table`` objects in ``registry.core.matching``) share it, so
Alembic sees one schema. Nothing here imports Flask.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection, Engine, MetaData, event
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


#: Every SQLite connection of the registry (and of its benchmarks): WAL, so
#: readers never wait for a writer; a generous busy timeout; foreign keys; and
#: the file memory-mapped (up to SQLite's 2 GB cap), so an index lookup reads
#: pages in place instead of copying them through a 2 MB page cache.
SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON",
                  "mmap_size=2147418112")  # fmt: skip


def use_sqlite_pragmas(engine: Engine) -> None:
    """Apply :data:`SQLITE_PRAGMAS` to each new connection of ``engine`` (SQLite only)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


class IntArray:
    """Integers passed to PostgreSQL as one binary ``integer[]`` parameter, e.g. the
    keys of ``WHERE key = ANY(%s)`` (every index key column is an ``integer``).

    Why: psycopg dumps a Python list element by element, in text (with a regular
    expression per element to decide on quoting): ~5 ms for the ~7,000 keys of an
    audio query's quads, and a lookup that finds nothing makes three such reads.
    This one is packed by numpy in one go."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[int] | np.ndarray) -> None:
        v = np.asarray(values if isinstance(values, np.ndarray) else list(values), np.int64)
        if v.size and (int(v.min()) < -(2**31) or int(v.max()) >= 2**31):
            raise ValueError("IntArray holds 32-bit integers only")
        self.values = v

    def binary(self) -> bytes:
        """PostgreSQL's binary array format: dimensions, no nulls, element type int4,
        then a 4-byte length and the value of each element."""
        if not self.values.size:
            return struct.pack(">iii", 0, 0, _INT4_OID)
        body = np.empty(self.values.size, dtype=[("len", ">i4"), ("value", ">i4")])
        body["len"], body["value"] = 4, self.values
        return struct.pack(">iiiii", 1, 0, _INT4_OID, self.values.size, 1) + body.tobytes()


_INT4_OID, _INT4_ARRAY_OID = 23, 1007


def _register_int_array() -> None:
    """Teach psycopg (when installed) to dump :class:`IntArray` in binary."""
    try:
        from psycopg import adapters
        from psycopg.adapt import Dumper
        from psycopg.pq import Format
    except ImportError:  # SQLite only: never dumped
        return

    class IntArrayDumper(Dumper):
        format = Format.BINARY
        oid = _INT4_ARRAY_OID

        def dump(self, obj: IntArray) -> bytes:
            return obj.binary()

    adapters.register_dumper(IntArray, IntArrayDumper)


_register_int_array()


def driver_rows(conn: Connection, sql: str, params: Sequence) -> list[tuple]:
    """Rows straight from a DB-API cursor of ``conn`` (same transaction).

    For the index searches, which read hundreds of rows or a packed field per
    call: SQLAlchemy's statement and result layers cost as much as the
    database's own work there (measured: ~1.4 ms of a 5 ms PostgreSQL probe).
    ``sql`` uses the driver's placeholders (``?`` SQLite, ``%s`` psycopg). On
    PostgreSQL the rows come in the binary protocol: packed posting fields arrive as
    they are stored instead of as hexadecimal text (a 10 s video clip reads ~470 KB of
    postings: 9-11 ms in text, 6-7 ms in binary).
    """
    dbapi = conn.connection.dbapi_connection
    binary = {"binary": True} if conn.dialect.name == "postgresql" else {}
    cursor = dbapi.cursor(**binary)  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def postgres_copy_upsert(
    conn: Connection, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence],
    upsert_sql: str, *, delta: str,
) -> None:
    """Bulk upsert on PostgreSQL: binary ``COPY`` of ``rows`` into the temporary
    table ``delta`` (``columns`` = [(name, type)]), then ``upsert_sql`` (an
    ``INSERT ... SELECT ... FROM delta ... ON CONFLICT``), in ``conn``'s transaction.
    """
    names = ", ".join(name for name, _ in columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {delta} "
            f"({', '.join(f'{n} {t}' for n, t in columns)}) ON COMMIT DELETE ROWS"
        )
        with cur.copy(f"COPY {delta} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([t for _, t in columns])
            for row in rows:
                copy.write_row(row)
        cur.execute(upsert_sql)
        cur.execute(f"TRUNCATE {delta}")


def chunks(values: Sequence, size: int) -> Iterator[Sequence]:
    """``values`` in slices of at most ``size`` (a query's parameter limit)."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


def paged_rows(conn: Connection, key: sa.Column, value: sa.Column,
               batch_size: int) -> Iterator[list[tuple]]:  # fmt: skip
    """All (key, value) rows of ``key``'s table in key order, ``batch_size`` at a
    time, each batch read after the last key of the one before (an index rebuild:
    no OFFSET scans, and the batches already done are not read again)."""
    last = None
    while True:
        query = sa.select(key, value)
        if last is not None:
            query = query.where(key > last)
        rows = [tuple(r) for r in conn.execute(query.order_by(key).limit(batch_size))]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def reindex_all(conn: Connection, key: sa.Column, value: sa.Column,
                index: Callable[[list[tuple]], None], total: int,
                progress: Callable[[int, int], None] | None, batch_size: int) -> int:  # fmt: skip
    """An index rebuild's loop: ``index`` each batch of stored (key, value) rows
    (:func:`paged_rows`), ``progress(done, total)`` before and after each batch;
    returns the rows indexed."""
    done = 0
    if progress is not None:
        progress(0, total)
    for rows in paged_rows(conn, key, value, batch_size):
        index(rows)
        done += len(rows)
        if progress is not None:
            progress(done, total)
    return done
