"""Bulk import speed: ``flask works import`` on a folder of 1-2 minute songs.

    .venv/bin/python benchmarks/bulk_import.py [--quick] [--files N] [--db URL]

Corpus (generated once, cached in benchmarks/.cache/bulk_import/): random MIDI
songs of 60-120 s (benchmarks/audio_corpus.py) rendered with fluidsynth and
encoded to MP3 128 kbit/s. Full mode imports 250 of them, quick mode 25.

The import runs through the real service (register_work, then the job runner, one commit
per file) on a fresh database built by the migrations: a temporary SQLite file,
or the PostgreSQL database given with --db (its public schema is dropped and
rebuilt: never point it at a database you care about). A second pass over the
same folder measures skipping already registered files.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audio_corpus import make_song, render_midi  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "bulk_import"


def make_track(index: int) -> Path:
    """Song ``index`` as MP3 (cached)."""
    out = CACHE / f"song_{index:04d}.mp3"
    if out.exists():
        return out
    seconds = random.Random(index).uniform(60, 120)
    with tempfile.TemporaryDirectory() as tmp:
        midi, wav = Path(tmp) / "song.mid", Path(tmp) / "song.wav"
        midi.write_bytes(make_song(50_000 + index, seconds))
        render_midi(midi, wav)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-t", f"{seconds:.2f}",
                        "-c:a", "libmp3lame", "-b:a", "128k", str(out) + ".part.mp3"],
                       check=True, timeout=600)
    Path(str(out) + ".part.mp3").rename(out)
    return out


def build_corpus(count: int) -> list[Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        files = list(pool.map(make_track, range(count)))
    print(f"corpus: {count} songs ready in {time.perf_counter() - started:.0f} s ({CACHE})")
    return files


def reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def make_app(db_url: str | None, instance: Path):
    from flask_migrate import upgrade

    from registry import create_app

    if db_url:
        reset_postgres(db_url)
    url = db_url or f"sqlite:///{instance / 'bench.db'}"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench", "TAMGA_STORAGE_DIR": str(instance / "storage"),
        "TAMGA_REDIS_URL": None, "TAMGA_WORKER": "off", "SERVER_NAME": "bench.test",
    })
    with app.app_context():
        upgrade()
    return app


def run_import(app, folder: Path, email: str, workers: int = 1):
    from registry.commands.common import transaction
    from registry.services import accounts, bulk_import
    from registry.tasks import runner_of

    times: list[float] = []
    last = [time.perf_counter()]

    def tick(_outcome) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    with app.app_context():
        owner = accounts.find_user_by_email(email)
        summary = bulk_import.import_folder(owner, folder, settings=app.extensions[
            "tamga.settings"], on_file=tick, transaction=transaction,
            run_jobs=runner_of(app).run_many, workers=workers)
    return summary, times


def row(label: str, summary, times: list[float]) -> str:
    counts = summary.counts
    q = statistics.quantiles(times, n=20) if len(times) >= 2 else [times[0]] * 19
    return (f"| {label:<18} | {len(times):>5} | {summary.seconds:>8.1f} | "
            f"{len(times) / summary.seconds:>7.2f} | {statistics.mean(times):>6.2f} | "
            f"{q[9]:>6.2f} | {q[18]:>6.2f} | {counts.get('registered', 0):>5} | "
            f"{counts.get('conflict', 0):>5} | {counts.get('skipped', 0):>5} | "
            f"{counts.get('rejected', 0) + counts.get('failed', 0):>5} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="25 files instead of 250")
    parser.add_argument("--files", type=int, help="number of files (overrides the mode)")
    parser.add_argument("--db", help="PostgreSQL URL (its public schema is rebuilt)")
    parser.add_argument("--workers", type=int, default=1,
                        help="threads running registration jobs (1: each job inline)")
    args = parser.parse_args()
    count = args.files or (25 if args.quick else 250)
    files = build_corpus(count)
    minutes = sum(_duration(p) for p in files) / 60

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "import"
        folder.mkdir()
        for path in files:
            (folder / path.name).symlink_to(path)
        app = make_app(args.db, Path(tmp) / "instance")
        with app.app_context():
            from registry.extensions import db
            from registry.services import accounts

            accounts.confirm_email_now(accounts.register_account(
                "bench@example.kz", "correct horse battery", "Bench"))
            db.session.commit()
        first, first_times = run_import(app, folder, "bench@example.kz", args.workers)
        second, second_times = run_import(app, folder, "bench@example.kz", args.workers)
        with app.app_context():
            from registry.extensions import db

            db.engine.dispose()

    backend = "PostgreSQL" if args.db else "SQLite"
    print(f"\n{count} MP3 files, {minutes:.0f} min of audio in all, database {backend}, "
          f"{args.workers} job thread(s)\n")
    print("| pass               | files |  total s | files/s | mean s | p50 s  | p95 s  |"
          " reg.  | conf. | skip. | rej.  |")
    print("|--------------------|-------|----------|---------|--------|--------|--------|"
          "-------|-------|-------|-------|")
    print(row("import", first, first_times))
    print(row("re-run (skips)", second, second_times))
    for outcome in first.outcomes:
        if outcome.status not in ("registered",):
            print(f"  {outcome.status}: {outcome.filename} {outcome.reason or ''}"
                  f" {outcome.registration_number or ''}")


def _duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip() or 0)


if __name__ == "__main__":
    main()
