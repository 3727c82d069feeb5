"""Faults under load: each fault is repeated while registrations come in, then the
table says what became of every acknowledged registration.

    .venv/bin/python benchmarks/faults.py [--db URL] [--works N]

Faults: kill -9 of the worker (twice), Redis stopped for a while and started again,
the database connections dropped (``pg_terminate_backend``, PostgreSQL only: give
``--db``; the database's public schema is dropped and rebuilt, never point it at a
database you care about), the storage disk full (a 20 MB tmpfs of its own filled for
the middle third of the registrations, then freed; root only). Registrations go
through the web form of an app in this process (its 302 is the acknowledgement);
jobs run in ``flask worker`` processes started here; the images are generated,
nothing is downloaded.

Columns: acknowledged; registered; failed with a reason the owner sees; stuck (still
processing after the wait, or a job queued/running); lost (acknowledged, no row);
ledger (``verify_ledger`` over the whole tree); recovery = seconds from the end of the
fault until every job had finished; receipts late = receipts given at submission that
``flask ledger monitor`` reports as not honoured (missing, different or late).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WAIT = 300


def _database(url: str | None, folder: Path) -> str:
    from tests.conftest import _reset_postgres_schema, _upgrade

    if url:
        _reset_postgres_schema(url)
    else:
        url = f"sqlite:///{folder / 'faults.db'}"
    _upgrade(url, folder / "migrate")
    return url


def kill_worker(site, media, n: int) -> float:
    from tests.faults.harness import wait_for_running_job

    worker = site.start_worker()
    for i in range(n):
        site.register(media.picture(1000 + i))
        if i in (n // 3, 2 * n // 3) and wait_for_running_job(site, 30):
            worker.kill9()
            worker = site.start_worker()
    return time.monotonic()


def redis_outage(site, media, n: int, redis) -> float:
    site.start_worker()
    for i in range(n):
        if i == n // 4:
            redis.stop()
        if i == 3 * n // 4:
            redis.start()
        site.register(media.picture(2000 + i))
    return time.monotonic()


def drop_connections(site, media, n: int) -> float:
    site.start_worker()
    for i in range(n):
        site.register(media.picture(3000 + i))
        if i % 3 == 0:
            site.terminate_database_connections()
    return time.monotonic()


class SmallDisk:
    """A tmpfs of ``size`` for the storage (root only), filled and freed on demand."""

    def __init__(self, mount: Path, size: str = "20m") -> None:
        self.mount, self.size, self.filler = mount, size, mount / "filler"

    def __enter__(self) -> SmallDisk:
        self.mount.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs",
                        str(self.mount)], check=True, capture_output=True)
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run(["umount", "-l", str(self.mount)], check=False)

    def fill(self, leave: int = 64 * 1024) -> None:
        stat = os.statvfs(self.mount)
        with open(self.filler, "ab") as out:
            out.write(b"\0" * max(stat.f_bavail * stat.f_frsize - leave, 0))

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


def disk_full(site, media, n: int, disk: SmallDisk) -> float:
    """The storage runs full for the middle third of the registrations: uploads then
    get 507 (not acknowledged), jobs that cannot write retry; then space comes back."""
    site.start_worker()
    refused = 0
    for i in range(n):
        if i == n // 3:
            disk.fill()
        if i == 2 * n // 3:
            disk.free()
        if site.register(media.picture(4000 + i)) is None:
            refused += 1
    site.refused = refused
    return time.monotonic()


def run(label: str, database: str | None, folder: Path, media, n: int, fault, *,
        redis=None, disk=None) -> str:
    from tests.faults.harness import Site

    url = _database(database, folder)
    site = Site(url, folder, redis_url=redis.url if redis else None,
                storage_dir=disk.mount / "storage" if disk else None)
    try:
        args = (redis,) if redis else (disk,) if disk else ()
        fault_ended = fault(site, media, n, *args)
        site.wait_settled(WAIT)
        recovery = time.monotonic() - fault_ended
        o = site.outcome(recovery)
    finally:
        site.close()
    if getattr(site, "refused", 0):
        label = f"{label} ({site.refused}x 507)"
    if o.reasons:
        print(f"  {label}: reasons {dict(o.reasons)}", flush=True)
    if not o.ledger_ok:
        print(f"  {label}: ledger {o.ledger_problem}", flush=True)
    return (f"| {label:<30} | {o.acknowledged:>5} | {o.registered:>10} | {o.failed:>6} | "
            f"{o.stuck:>5} | {o.lost:>4} | {'valid' if o.ledger_ok else 'BROKEN':>6} | "
            f"{o.recovery_seconds:>8.1f} | {len(o.receipts_breached):>13} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="PostgreSQL URL (schema dropped!); default SQLite")
    parser.add_argument("--works", type=int, default=20, help="registrations per fault")
    parser.add_argument("--only", action="append", choices=[
        "kill_worker", "redis_outage", "drop_connections", "disk_full"],
        help="run only this fault (repeatable); default all")
    args = parser.parse_args()
    from tests.faults.harness import OwnRedis
    from tests.media import MediaFactory

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "media").mkdir()
        media = MediaFactory(tmp_path / "media")
        rows = []
        for label, fault in (("kill -9 worker (x2)", kill_worker),
                             ("Redis down, then up", redis_outage),
                             ("DB connections dropped", drop_connections),
                             ("disk full, then freed", disk_full)):
            if args.only and fault.__name__ not in args.only:
                continue
            if fault is drop_connections and not args.db:
                rows.append(f"| {label:<30} | (PostgreSQL only: give --db){' ' * 40}|")
                continue
            if fault is disk_full and os.geteuid() != 0:
                rows.append(f"| {label:<30} | (skipped: mounting a tmpfs needs root){' ' * 30}|")
                continue
            folder = tmp_path / fault.__name__
            folder.mkdir()
            redis = disk = None
            if fault is redis_outage:
                redis = OwnRedis(folder)
                redis.start()
            if fault is disk_full:
                disk = SmallDisk(folder / "disk").__enter__()
            try:
                rows.append(run(label, args.db, folder, media, args.works, fault, redis=redis,
                                disk=disk))
            finally:
                if redis is not None:
                    redis.stop()
                if disk is not None:
                    disk.__exit__(None, None, None)
            print(rows[-1], flush=True)
    print()
    print(f"database: {'PostgreSQL' if args.db else 'SQLite'}; {args.works} registrations "
          "per fault")
    print("| fault                          | ackn. | registered | failed | stuck | lost | "
          "ledger | recovery | receipts late |")
    print("|--------------------------------|------:|-----------:|-------:|------:|-----:|"
          "-------:|---------:|--------------:|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
