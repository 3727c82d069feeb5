"""Registration throughput with two RFC 3161 authorities and two witnesses vs none.

    .venv/bin/python benchmarks/ledger_throughput.py [--quick] [--rounds N]

Both configurations run the same periodic task (``AttestationTicker``: one checkpoint
per second under load, then time-stamps and cosignatures of the latest checkpoint);
"attested" adds two local ``openssl ts`` authorities and two ``tamga-witness``
processes (made here, on loopback ports 5600-5699, nothing downloaded). Measured:

- ledger appends: 4 threads recording ``work.registered`` entries through the
  service (``services.ledger.record`` + commit) for a fixed time: the write path
  the attesters share the database with;
- registrations: whole registrations of small generated images through the web
  form (upload, fingerprint, match, ledger), one after another.

Rounds alternate none / attested to spread the shared machine's noise; the table
gives the median of the rounds. SQLite files live under benchmarks/.cache/.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from registry import create_app, tasks  # noqa: E402
from registry.core.ledger import attestations as att  # noqa: E402
from registry.core.ledger import store  # noqa: E402
from registry.core.ledger.keys import load_or_create_keyring  # noqa: E402
from registry.extensions import db  # noqa: E402
from tests.ledger.servers import OpensslTSA, WitnessProcess  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "throughput"
ORIGIN = "bench.tamga/ledger"


def _picture(seed: int) -> bytes:
    img = Image.new("RGB", (320, 240))
    px = img.load()
    for x in range(320):
        for y in range(240):
            px[x, y] = ((x * seed) % 256, (y * 7 + seed * 13) % 256, ((x ^ y) + seed) % 256)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


class Setup:
    def __init__(self, folder: Path, attested: bool) -> None:
        self.folder = folder
        self.tsas: list[OpensslTSA] = []
        self.witnesses: list[WitnessProcess] = []
        keys = folder / "instance" / "keys"
        vkey = load_or_create_keyring(keys).vkeys()[0]
        config = {
            "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'tamga.db'}",
            "INSTANCE_PATH": str(folder / "instance"),
            "TAMGA_STORAGE_DIR": str(folder / "storage"),
            "TAMGA_OUTBOX_DIR": str(folder / "outbox"), "TAMGA_REDIS_URL": None,
            "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
            "TAMGA_WORKER": "sync", "TAMGA_LEDGER_ORIGIN": ORIGIN,
            "TAMGA_KEYS_DIR": str(keys), "TAMGA_CHECKPOINT_INTERVAL": 1.0,
        }
        if attested:
            self.tsas = [OpensslTSA(folder / f"tsa{i}", f"Bench TSA {i}") for i in (1, 2)]
            self.witnesses = [WitnessProcess(folder / f"w{i}", f"w{i}.bench/w",
                                             [f"{ORIGIN}={vkey}"]) for i in (1, 2)]
            config["TAMGA_TSA_URLS"] = ",".join(f"{t.url}|{t.ca}" for t in self.tsas)
            config["TAMGA_WITNESSES"] = ",".join(f"{w.vkey}={w.url}" for w in self.witnesses)
        self.app = create_app(config)
        with self.app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=str(ROOT / "migrations"))
        self.ticker = tasks.start_attestation_ticker(self.app)

    def close(self) -> dict[str, int]:
        time.sleep(2.5)  # let the last checkpoint be signed and attested
        self.ticker.stop()
        with self.app.app_context():
            conn = db.session.connection()
            latest = store.latest_checkpoint(conn)
            counts = {
                "entries": store.tree_size(conn),
                "checkpoints": len(att.checkpoints_since(conn, 0)),
                "timestamps": len(conn.execute(att.ledger_timestamps.select()).all()),
                "cosignatures": len(conn.execute(att.ledger_cosignatures.select()).all()),
                "attested_size": max([a.attested_size for a in att.all_attesters(conn)] or [0]),
                "latest": latest.tree_size if latest else 0,
            }
            db.session.remove()
            db.engine.dispose()
        for w in self.witnesses:
            w.stop()
        for t in self.tsas:
            t.close()
        return counts


def appends(setup: Setup, seconds: float, writers: int = 4) -> float:
    from registry.services import ledger

    done = [0] * writers
    stop = time.monotonic() + seconds

    def write(slot: int) -> None:
        with setup.app.app_context():
            settings = setup.app.extensions["tamga.settings"]
            n = 0
            while time.monotonic() < stop:
                ledger.record("work.registered", datetime.now(UTC),
                              {"registration_number": f"KZ-2026-{slot}{n:07d}"}, settings)
                db.session.commit()
                n += 1
            done[slot] = n
            db.session.remove()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - started)


def registrations(setup: Setup, count: int, seed0: int) -> float:
    from registry.extensions import db as _db
    from registry.services import accounts

    with setup.app.app_context():
        user = accounts.register_account("bench@example.kz", "correct horse battery", "Bench")
        accounts.confirm_email_now(user)
        _db.session.commit()
    client = setup.app.test_client()
    client.post("/login", data={"email": "bench@example.kz",
                                "password": "correct horse battery"})
    pictures = [_picture(seed0 + i) for i in range(count)]
    started = time.monotonic()
    for i, data in enumerate(pictures):
        reply = client.post("/works/new", content_type="multipart/form-data", data={
            "title": f"Bench {seed0 + i}", "work_type": "photograph", "language": "kk",
            "country": "KZ", "authors-0-full_name": "Bench Author",
            "authors-0-role": "photographer", "authors-0-share": "100",
            "registrant_capacity": "author", "creation": "2025", "ai_use": "none",
            "licence": "all-rights-reserved", "visibility": "public",
            "file": (io.BytesIO(data), f"b{seed0 + i}.jpg")})
        if reply.status_code != 302:
            raise SystemExit(f"registration failed: {reply.status_code} {reply.text[:300]}")
    return count / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = 5.0 if args.quick else 15.0
    count = 10 if args.quick else 30
    results: dict[str, dict[str, list[float]]] = {
        "none": {"appends": [], "registrations": []},
        "attested": {"appends": [], "registrations": []}}
    totals: dict[str, dict[str, int]] = {}
    for r in range(rounds):
        for name in ("none", "attested") if r % 2 == 0 else ("attested", "none"):
            folder = CACHE / f"{name}-{r}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            setup = Setup(folder, name == "attested")
            try:
                results[name]["appends"].append(appends(setup, seconds))
                results[name]["registrations"].append(registrations(setup, count, 1000 * r))
            finally:
                totals[name] = setup.close()
            print(f"round {r + 1} {name:9s} appends/s {results[name]['appends'][-1]:7.1f}  "
                  f"registrations/s {results[name]['registrations'][-1]:5.2f}  {totals[name]}",
                  flush=True)
    print(f"\nuptime: {os.popen('uptime').read().strip()}")
    print("\n| measure | none | 2 TSAs + 2 witnesses | change |\n|---|---|---|---|")
    for key, label in (("appends", f"ledger appends/s (4 writers, {seconds:.0f} s)"),
                       ("registrations", f"image registrations/s ({count} in a row)")):
        a = statistics.median(results["none"][key])
        b = statistics.median(results["attested"][key])
        print(f"| {label} | {a:.2f} | {b:.2f} | {100 * (b - a) / a:+.1f} % |")
    print(f"\nlast attested round: {totals['attested']}")


if __name__ == "__main__":
    main()
