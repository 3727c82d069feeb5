"""Ledger benchmark: append N entries, then time verify_ledger and proof generation.

    .venv/bin/python benchmarks/ledger_verify.py [--quick] [--entries N]

Runs on SQLite (a file under benchmarks/.cache/) and, when DATABASE_URL is set,
on that PostgreSQL database too (it refuses to touch existing ledger tables).
Appends are committed in batches of --batch entries, each append writing its
entry, subtree hashes and a signed checkpoint exactly as the application does.
PostgreSQL receives a row-for-row copy of the ledger SQLite built (to save the
shared machine ten minutes of appends), then 2,000 (quick: 500) real appends on
top, so its verify_ledger run covers both. The full mode (100,000 entries)
checks the "verify in under a minute" goal.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.core.ledger import (  # noqa: E402
    KeyRing,
    LedgerReport,
    append,
    checkpoint_at,
    consistency_proof,
    get_entries,
    inclusion_proof,
    load_or_create_keyring,
    proof_bundle,
    publish_keys,
    published_keys,
    verify_ledger,
)
from registry.core.ledger.store import (  # noqa: E402
    LEDGER_TABLES,
    ledger_checkpoints,
    ledger_entries,
    ledger_nodes,
)
from registry.core.sql import metadata  # noqa: E402
from registry.core.tamga_verify import (  # noqa: E402
    leaf_hash,
    verify_consistency,
    verify_inclusion,
    verify_proof_bundle,
)

CACHE = Path(__file__).resolve().parent / ".cache"
ORIGIN = "tamga.example/ledger"
KINDS = ["work.registered"] * 8 + ["work.amended", "work.transferred", "dispute.opened"]


def make_entry(i: int, rng: random.Random) -> dict:
    files = [
        {"sha256": hashlib.sha256(f"{i}/{j}".encode()).hexdigest(), "role": role}
        for j, role in enumerate(["main"] + ["supporting"] * rng.randrange(3))
    ]
    return {
        "kind": rng.choice(KINDS),
        "at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
        "registration_number": f"KZ-2026-{i:07d}",
        "registrant": rng.randrange(1, 50_000),
        "title": f"Шығарма №{i}",
        "work_type": rng.choice(["music", "image", "text"]),
        "files": files,
        "ai_declaration": rng.choice(["none", "assisted", "generated"]),
    }


def fill(engine: Engine, ring: KeyRing, first: int, n: int, batch: int) -> float:
    """Append entries first..first+n-1, ``batch`` appends per transaction; return seconds."""
    rng = random.Random(first)
    start = time.perf_counter()
    done = 0
    while done < n:
        with engine.begin() as conn:
            for i in range(first + done, first + min(n, done + batch)):
                append(conn, make_entry(i, rng), ring, ORIGIN)
        done = min(n, done + batch)
        print(f"\r  appended {done:,}/{n:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return time.perf_counter() - start


def time_proofs(engine: Engine, ring: KeyRing, n: int, samples: int) -> dict[str, float]:
    rng = random.Random(11)
    out = {}
    with engine.connect() as conn:
        cp = checkpoint_at(conn, n)
        t = time.perf_counter()
        for _ in range(samples):
            i = rng.randrange(n)
            proof = inclusion_proof(conn, i, n)
            verify_inclusion(_leaf(conn, i), i, n, proof, cp.root_hash)
        out["inclusion proof + verify"] = (time.perf_counter() - t) / samples
        t = time.perf_counter()
        for _ in range(samples):
            old = rng.randrange(1, n + 1)
            proof = consistency_proof(conn, old, n)
            verify_consistency(old, n, proof, checkpoint_at(conn, old).root_hash, cp.root_hash)
        out["consistency proof + verify"] = (time.perf_counter() - t) / samples
        keys = published_keys(conn)
        t = time.perf_counter()
        for _ in range(samples):
            bundle = proof_bundle(conn, rng.randrange(n), keys)
            assert all(c.ok for c in verify_proof_bundle(bundle, ring.vkeys()))
        out["proof bundle + offline verify"] = (time.perf_counter() - t) / samples
    return out


def _leaf(conn: Connection, index: int) -> bytes:
    return leaf_hash(get_entries(conn, index, index + 1)[0].entry)


def _rows(
    label: str,
    n: int,
    appended: int,
    t_append: float,
    t_verify: float,
    cpu_verify: float,
    report: LedgerReport,
    proofs: dict[str, float],
) -> list[tuple]:
    rows = [
        (
            label,
            f"append x{appended:,} (entry + nodes + signed checkpoint)",
            f"{appended / t_append:,.0f} /s",
            f"{t_append * 1000 / appended:.2f} ms each",
        ),
        (
            label,
            f"verify_ledger ({report.entries_checked:,} entries, "
            f"{report.checkpoints_checked:,} checkpoints)",
            f"{t_verify:.1f} s",
            f"{'under' if t_verify < 60 else 'OVER'} 1 min; CPU {cpu_verify:.1f} s",
        ),
    ]
    rows += [(label, name, f"{sec * 1000:.2f} ms", "per request") for name, sec in proofs.items()]
    return rows


def _verify(engine: Engine, ring: KeyRing, n: int) -> tuple[float, float, LedgerReport]:
    """Wall and CPU seconds of verify_ledger (CPU: this process, not the database server)."""
    with engine.connect() as conn:
        t, cpu = time.perf_counter(), time.process_time()
        report = verify_ledger(conn, ring.vkeys(), origin=ORIGIN)
        t_verify, cpu_verify = time.perf_counter() - t, time.process_time() - cpu
    assert report.ok and report.entries_checked == n, report
    return t_verify, cpu_verify, report


def _create(engine: Engine, label: str, ring: KeyRing) -> None:
    if inspect(engine).has_table("ledger_entries"):
        raise SystemExit(f"{label}: ledger tables already exist; use an empty database")
    with engine.begin() as conn:
        metadata.create_all(conn, tables=LEDGER_TABLES)
        publish_keys(conn, ring)


def _copy(source: Engine, target: Engine, chunk: int = 5000) -> None:
    """Copy every ledger row (as written by append) from one database to another."""
    for table in (ledger_entries, ledger_nodes, ledger_checkpoints):
        key = list(table.primary_key.columns)
        with source.connect() as src:
            result = src.execution_options(yield_per=chunk).execute(select(table).order_by(*key))
            for part in result.partitions():
                with target.begin() as dst:
                    dst.execute(table.insert(), [dict(r._mapping) for r in part])


def run_sqlite(engine: Engine, ring: KeyRing, n: int, batch: int) -> list[tuple]:
    _create(engine, "SQLite", ring)
    print(f"SQLite: appending {n:,} entries", file=sys.stderr)
    t_append = fill(engine, ring, 0, n, batch)
    t_verify, cpu_verify, report = _verify(engine, ring, n)
    proofs = time_proofs(engine, ring, n, samples=200)
    return _rows("SQLite", n, n, t_append, t_verify, cpu_verify, report, proofs)


def run_postgres(
    engine: Engine, source: Engine, ring: KeyRing, n: int, extra: int, batch: int
) -> list[tuple]:
    """PostgreSQL gets the SQLite ledger's rows copied, then ``extra`` appends on top."""
    _create(engine, "PostgreSQL", ring)
    try:
        print(f"PostgreSQL: copying {n:,} entries, then appending {extra:,}", file=sys.stderr)
        _copy(source, engine)
        t_append = fill(engine, ring, n, extra, batch)
        t_verify, cpu_verify, report = _verify(engine, ring, n + extra)
        proofs = time_proofs(engine, ring, n + extra, samples=200)
    finally:
        with engine.begin() as conn:
            metadata.drop_all(conn, tables=LEDGER_TABLES)
    return _rows("PostgreSQL", n + extra, extra, t_append, t_verify, cpu_verify, report, proofs)


def print_table(rows: list[tuple]) -> None:
    headers = ("database", "operation", "figure", "note")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(4)]
    line = " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 entries instead of 100,000")
    parser.add_argument("--entries", type=int, help="number of entries")
    parser.add_argument("--batch", type=int, default=1000, help="appends per transaction")
    args = parser.parse_args()
    n = args.entries or (10_000 if args.quick else 100_000)
    extra = 500 if args.quick else 2000
    CACHE.mkdir(exist_ok=True)
    ring = load_or_create_keyring(CACHE / "ledger-keys")
    db = CACHE / "ledger_verify.sqlite"
    db.unlink(missing_ok=True)
    sqlite = create_engine(f"sqlite:///{db}")
    load = os.getloadavg()[0]
    print(f"\nLedger benchmark, {n:,} entries, {os.cpu_count()} CPUs, load {load:.1f}\n")
    try:
        rows = run_sqlite(sqlite, ring, n, args.batch)
        print_table(rows)
        url = os.environ.get("DATABASE_URL")
        if url and url.startswith("postgresql"):
            rows += run_postgres(create_engine(url), sqlite, ring, n, extra, args.batch)
            print()
            print_table(rows)
    finally:
        sqlite.dispose()
        db.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
