"""A process's copy of the audio indexes' key counts (``key_counts``): the same
counts as the database, the same rarest keys, and a copy older than a registration
still reads that registration's postings. On PostgreSQL when DATABASE_URL points
there (the copy is then read by a binary COPY)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from registry.core import audio_peaks as ap
from registry.core.audio_query import KEY_SPACES
from registry.core.matching import key_counts
from registry.core.matching import pair_index as pr
from registry.core.matching import peak_index as pi
from registry.core.sql import metadata

TABLES = pi.PEAK_TABLES + pr.PAIR_TABLES
QUADS = "audio_peak_postings"


def _recording(rng: np.random.Generator, seconds: float = 40.0) -> ap.PeakPrint:
    """Peaks scattered like a recording's: about 9 per second over the bins."""
    n = int(seconds * 9)
    times = np.sort(rng.uniform(0, seconds * ap.FPS, n)).astype(np.float32)
    bins = rng.uniform(0, ap.N_BINS - 1, n).astype(np.float32)
    return ap.PeakPrint(times, bins, seconds)


@pytest.fixture
def engine(core_engine: Engine) -> Iterator[Engine]:
    with core_engine.begin() as c:
        metadata.drop_all(c, tables=TABLES)
        metadata.create_all(c, tables=TABLES)
    try:
        yield core_engine
    finally:
        key_counts.disable(core_engine)
        with core_engine.begin() as c:
            metadata.drop_all(c, tables=TABLES)


def _register(engine: Engine, prints: dict[int, ap.PeakPrint]) -> None:
    with engine.begin() as c:
        pi.add_recordings(c, list(prints.items()))
        pr.add_recordings(c, list(prints.items()))


def _database_counts(conn: Connection, table: str) -> dict[int, int]:
    return dict(conn.execute(text(f"SELECT key, works FROM {table}")).all())


def test_the_copy_holds_every_keys_count(engine: Engine) -> None:
    rng = np.random.default_rng(1)
    _register(engine, {w: _recording(rng) for w in range(1, 31)})
    with engine.connect() as c:
        for table, n_keys in KEY_SPACES.items():
            want = _database_counts(c, table)
            got = key_counts.read_counts(c, table, n_keys)
            assert len(want) > 1000 and max(want.values()) > 1
            assert {int(k): int(got[k]) for k in np.nonzero(got)[0]} == want


def test_rarest_keys_from_the_copy_are_the_databases(engine: Engine) -> None:
    rng = np.random.default_rng(2)
    _register(engine, {w: _recording(rng) for w in range(1, 81)})
    query = ap.quads(_recording(rng, 15.0), ap.QUERY).key
    keys = sorted(set(query.tolist()))
    with engine.connect() as c:
        counted = _database_counts(c, QUADS)
        present = set(counted)
        budget = sum(counted.get(k, 0) for k in keys) // 2
        from_db = pi.rarest_keys(c, keys, 2000, budget)
        copy = key_counts.enable(engine, KEY_SPACES, 3600.0, start=False)
        assert copy is not None
        copy.load()
        from_copy = pi.rarest_keys(c, keys, 2000, budget)
    # The budget binds: only some of the present keys are read.
    assert 0 < len(from_db) < len(present & set(keys))
    # The copy also names the keys that no work holds (count 0: a key new since
    # the copy may be there now); the rest is the same choice.
    assert set(from_copy) - set(from_db) == set(keys) - present


def test_a_copy_older_than_a_registration_reads_its_postings(engine: Engine) -> None:
    rng = np.random.default_rng(3)
    _register(engine, {w: _recording(rng) for w in range(1, 21)})
    copy = key_counts.enable(engine, KEY_SPACES, 3600.0, start=False)
    assert copy is not None
    copy.load()
    late = _recording(rng)
    _register(engine, {99: late})
    keys = sorted(set(ap.quads(late, ap.REFERENCE).key.tolist()))
    with engine.connect() as c:
        _, postings = pi.fetch_postings(c, keys, 2000, 150_000)
        found = pi.search(c, ap.PeakPrint(late.times[:130], late.bins[:130], 14.0))
    assert np.count_nonzero(postings["work"] == 99) >= len(keys)
    assert found and found[0].work_id == 99


def test_the_copy_loads_in_the_background(engine: Engine) -> None:
    rng = np.random.default_rng(4)
    _register(engine, {w: _recording(rng) for w in range(1, 6)})
    copy = key_counts.enable(engine, KEY_SPACES, 3600.0)
    assert copy is not None
    deadline = time.monotonic() + 30
    with engine.connect() as c:
        while key_counts.counts_for(c, QUADS) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        counts = key_counts.counts_for(c, QUADS)
        assert counts is not None and counts.size == ap.N_KEYS
        assert int(counts.sum()) == sum(_database_counts(c, QUADS).values())


def test_an_in_memory_database_is_not_copied() -> None:
    memory = create_engine("sqlite://")
    assert key_counts.enable(memory, KEY_SPACES, 60.0) is None
    with memory.connect() as c:
        assert key_counts.counts_for(c, QUADS) is None
