"""200 appends from 8 threads, each in its own connection and transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from registry.core.ledger import KeyRing, append, get_entries, load_or_create_keyring, verify_ledger
from registry.core.ledger.store import LEDGER_TABLES, tree_size, use_immediate_transactions
from registry.core.sql import metadata
from tests.conftest import CORE_CONNECT_ARGS

ORIGIN = "tamga.example/ledger"
THREADS, PER_THREAD = 8, 25


@pytest.fixture
def engine(core_engine: Engine) -> Iterator[Engine]:
    url = core_engine.url
    # the same schema as core_engine's on PostgreSQL (its search_path): never the
    # application's tables in the same database
    options = ({"connect_args": {"timeout": 60}} if url.get_backend_name() == "sqlite"
               else {"connect_args": CORE_CONNECT_ARGS})
    engine = create_engine(url, pool_size=THREADS, **options)
    with engine.begin() as conn:
        metadata.drop_all(conn, tables=LEDGER_TABLES)
        metadata.create_all(conn, tables=LEDGER_TABLES)
    yield engine
    with engine.begin() as conn:
        metadata.drop_all(conn, tables=LEDGER_TABLES)
    engine.dispose()


def _worker(
    engine: Engine, ring: KeyRing, worker: int, out: dict, errors: list, read_first: bool
) -> None:
    try:
        for n in range(PER_THREAD):
            entry = {
                "kind": "work.registered",
                "at": "2026-11-21T12:00:00Z",
                "registration_number": f"W{worker}-{n}",
            }
            with engine.begin() as conn:
                if read_first:  # like a request that checks something, then registers
                    tree_size(conn)
                result = append(conn, entry, ring, ORIGIN)
            out[f"W{worker}-{n}"] = result.leaf_index
    except Exception as exc:  # reported by the test thread
        errors.append(exc)


@pytest.mark.parametrize("read_first", [False, True], ids=["append-only", "read-then-append"])
def test_concurrent_appends_get_distinct_gap_free_indexes(
    engine: Engine, tmp_path: Path, read_first: bool
) -> None:
    if read_first:
        use_immediate_transactions(engine)  # SQLite only; PostgreSQL relies on the lock
    ring = load_or_create_keyring(tmp_path / "keys", now=datetime(2026, 1, 1, tzinfo=UTC))
    out: dict[str, int] = {}
    errors: list[Exception] = []
    threads = [
        threading.Thread(target=_worker, args=(engine, ring, w, out, errors, read_first))
        for w in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = THREADS * PER_THREAD
    assert sorted(out.values()) == list(range(total))
    with engine.connect() as conn:
        assert tree_size(conn) == total
        stored = {e.leaf_index: e.entry for e in get_entries(conn, 0, total)}
        for number, index in out.items():
            assert f'"registration_number":"{number}"'.encode() in stored[index]
        report = verify_ledger(conn, ring.vkeys(), origin=ORIGIN)
    assert report.ok, report.first_problem
    assert (report.entries_checked, report.checkpoints_checked) == (total, total)
