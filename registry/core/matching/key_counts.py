"""A process's copy of how many works each key of a posting table holds.

A query reads the postings of its rarest keys first
(:func:`registry.core.matching.peak_index.rarest_keys`), so it needs each key's
count of works. Read from the database, that is one index probe and one row per
key: a 15 s query that finds nothing looks up ~7,700 quad keys and ~13,000 pair
keys, ~80 ms of a PostgreSQL lookup at 10,000 recordings
(``benchmarks/README_audio.md``, "Session 11" and "Session 12").

The counts fit in memory as one ``uint16`` per possible key (the quads' 6.6
million keys: 13 MB; the pairs' 706,000: 1.4 MB) and they change slowly: a
registration adds one to a few thousand keys. A copy some minutes old picks nearly
the same keys, and it cannot make an answer wrong:

* a key new since the copy counts 0, so it is read first (it is rare);
* the postings are still read from the database as they are now, and a key in
  more than ``max_key_works`` works is still skipped there.

Only which common keys fall beyond a query's budget of postings may differ; while
all of a query's keys fit the budget (every registry of a few thousand
recordings), the answer is the same as with the database's counts.

The copy is loaded by a background thread on a connection of its own, when the
first lookup asks for it (or at :func:`enable` with ``start``) and again
``refresh_s`` after each load (on the next lookup),
or later: a load is a full scan of the tables (4 s for the quads' 2.2 million keys
at 6,000 recordings on PostgreSQL), so the next one waits at least
:data:`QUIET_FACTOR` times as long as the last took. Until a copy is there, or
when loading fails, lookups read the counts from the database as before.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import time
from collections.abc import Mapping

import numpy as np
from sqlalchemy.engine import URL, Connection, Engine

log = logging.getLogger(__name__)

CEILING = np.iinfo(np.uint16).max  # counts above it are kept as it (far above any budget)
QUIET_FACTOR = 20  # loads take at most 1/20 of a process's time
SQLITE_CHUNK = 500_000  # keys per read on SQLite (one range of the rowid)

# PostgreSQL's binary COPY: a 19-byte header, then per row a field count (int16)
# and each field as length (int32) and value (int32), then a -1 trailer.
_COPY_HEADER = 19
_COPY_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("key", ">i4"), ("l2", ">i4"),
                      ("works", ">i4")])  # fmt: skip


def read_counts(conn: Connection, table: str, n_keys: int) -> np.ndarray:
    """Works per key of ``table`` (keys ``0 .. n_keys-1``; missing keys count 0)."""
    counts = np.zeros(n_keys, dtype=np.uint16)
    if conn.dialect.name == "postgresql":
        keys, works = _postgres_rows(conn, table)
    else:
        keys, works = _sqlite_rows(conn, table, n_keys)
    inside = (keys >= 0) & (keys < n_keys)
    counts[keys[inside]] = np.minimum(works[inside], CEILING)
    return counts


def _postgres_rows(conn: Connection, table: str) -> tuple[np.ndarray, np.ndarray]:
    """Every (key, works) of ``table`` by one binary COPY (a plain SELECT builds a
    Python tuple per row: seconds for millions of keys)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    chunks: list[bytes] = []
    sql = f"COPY (SELECT key, works FROM {table}) TO STDOUT (FORMAT BINARY)"
    try:
        with cursor.copy(sql) as copy:
            chunks.extend(bytes(data) for data in copy)
    finally:
        cursor.close()
    data = b"".join(chunks)
    if len(data) < _COPY_HEADER + 2 or struct.unpack(">i", data[15:19])[0] != 0:
        raise ValueError("unexpected COPY header")
    rows = np.frombuffer(data, dtype=_COPY_ROW, offset=_COPY_HEADER,
                         count=(len(data) - _COPY_HEADER - 2) // _COPY_ROW.itemsize)  # fmt: skip
    return rows["key"].astype(np.int64), rows["works"].astype(np.int64)


def _sqlite_rows(conn: Connection, table: str, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (key, works) of ``table``, one range of keys at a time (the key is
    the rowid, so each range is one short scan)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    parts: list[np.ndarray] = []
    try:
        for start in range(0, n_keys, SQLITE_CHUNK):
            cursor.execute(f"SELECT key, works FROM {table} WHERE key >= ? AND key < ?",
                           (start, start + SQLITE_CHUNK))  # fmt: skip
            rows = cursor.fetchall()
            if rows:
                parts.append(np.array(rows, dtype=np.int64).reshape(-1, 2))
    finally:
        cursor.close()
    both = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)
    return both[:, 0], both[:, 1]


class KeyCounts:
    """The copies of one database's posting tables (``tables``: name -> number of
    possible keys), kept fresh by a background thread."""

    def __init__(self, engine: Engine, tables: Mapping[str, int], refresh_s: float) -> None:
        self.engine = engine
        self.tables = dict(tables)
        self.refresh_s = refresh_s
        self.next_load: float = 0.0  # time.monotonic() after which the copy is stale
        self._copies: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._loading_pid: int | None = None  # the process whose thread is loading

    def counts(self, table: str) -> np.ndarray | None:
        """The copy of ``table``'s counts, or None while there is none; starts a
        refresh when the copy is older than ``refresh_s``."""
        if time.monotonic() >= self.next_load:
            self.start_loading()
        return self._copies.get(table)

    def start_loading(self) -> None:
        """Load the copies in a background thread, unless one is at it already in
        this process (a thread of the parent does not survive a fork)."""
        with self._lock:
            if self._loading_pid == os.getpid():
                return
            self._loading_pid = os.getpid()
        threading.Thread(target=self._load, name="tamga-key-counts", daemon=True).start()

    def load(self) -> None:
        """Load the copies now, in this thread."""
        started = time.monotonic()
        copies = {}
        with self.engine.connect() as conn:
            for table, n_keys in self.tables.items():
                copies[table] = read_counts(conn, table, n_keys)
        self._copies = copies
        done = time.monotonic()
        took = done - started
        self.next_load = done + max(self.refresh_s, QUIET_FACTOR * took)
        log.info("index key counts loaded in %.1f s", took)

    def _load(self) -> None:
        try:
            self.load()
        except Exception:  # the lookups read the counts from the database meanwhile
            log.warning("loading the index key counts failed", exc_info=True)
            self.next_load = time.monotonic() + self.refresh_s  # not on every lookup
        finally:
            with self._lock:
                self._loading_pid = None


# By the database's URL, not the engine: the application reads SQLite lookups through
# an engine of its own (``registry.services.lookup.reading``), on the same file.
_REGISTRY: dict[URL, KeyCounts] = {}


def enable(engine: Engine, tables: Mapping[str, int], refresh_s: float, *,
           start: bool = True) -> KeyCounts | None:  # fmt: skip
    """Keep copies of ``tables``' counts for lookups on ``engine``; loading starts
    now unless ``start`` is False. An in-memory SQLite database is not copied (a
    second connection would see another, empty database)."""
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return None
    copy = KeyCounts(engine, tables, refresh_s)
    _REGISTRY[engine.url] = copy
    if start:
        copy.start_loading()
    return copy


def disable(engine: Engine) -> None:
    _REGISTRY.pop(engine.url, None)


def counts_for(conn: Connection, table: str) -> np.ndarray | None:
    """The copy of ``table``'s counts for ``conn``'s database, or None (read them
    from the database)."""
    copy = _REGISTRY.get(conn.engine.url)
    return copy.counts(table) if copy is not None else None
