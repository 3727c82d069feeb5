"""The pair stage (issue 16, voice-over) at scale: its cost on a miss, its recall, its size.

    .venv/bin/python benchmarks/pair_speed.py [--sizes 10000] [--queries 20] [--reuse]
                                              [--pg URL]

The first 300 real tracks (``real_music.py``) are registered (their peaks stored,
their pairs indexed), then synthetic recordings fill the index up to each size
(the peak filler of ``audio_speed_real.py``: windows of real unregistered tracks'
peaks, stretched and jittered). Only the tables the pair stage reads are filled:
``audio_peak_recordings`` and ``audio_pair_postings``.

Timed (``pair_index.search``, warm cache, one connection):
* **voice-over**: 15 s clips of registered tracks with espeak-ng speech mixed at the
  music's loudness (as ``audio_accuracy.py --real``); right work first?
* **miss**: 15 s clips of unregistered tracks: what the fallback adds to a lookup
  that found nothing (any answer is a false match).
Reported: the pair postings' size and its bytes per hour of indexed audio.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audio_corpus import make_speech  # noqa: E402
from audio_real import _package, reference_fingerprints  # noqa: E402
from audio_speed_real import Filler  # noqa: E402
from real_music import music_files  # noqa: E402

from registry.core import audio_peaks as ap  # noqa: E402
from registry.core.audio_query import query_peak_sets  # noqa: E402
from registry.core.matching import pair_index, peak_index  # noqa: E402
from registry.core.sql import metadata, use_sqlite_pragmas  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "pair_speed"
TABLES = [peak_index.audio_peak_recordings, *pair_index.PAIR_TABLES]
REFS = 300
BATCH = 1000
SYNTH_BASE = 10_000_000


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True,
                   capture_output=True)  # fmt: skip


def add(conn: sa.Connection, batch: list[tuple[int, ap.PeakPrint]]) -> None:
    conn.execute(peak_index.audio_peak_recordings.insert(), [
        {"work_id": w, "duration_s": fp.duration_s, "peak_count": len(fp),
         "peaks": fp.to_bytes()} for w, fp in batch])  # fmt: skip
    pair_index.add_recordings(conn, batch)


def voice_queries(refs: list[Path], n: int, tmp: Path) -> list[tuple[int, ap.PeakPrint]]:
    rng = random.Random(9)
    out = []
    for k in range(n):
        i = rng.randrange(len(refs))
        seconds = ap.decode(refs[i]).size / ap.SAMPLE_RATE
        start = rng.uniform(1.0, max(1.5, seconds - 17))
        speech, clip = tmp / f"s{k}.wav", tmp / f"v{k}.wav"
        make_speech(k, speech, 45)
        graph = ("[0:a]aformat=channel_layouts=mono,loudnorm=I=-20[m];"
                 "[1:a]aformat=channel_layouts=mono,loudnorm=I=-20,apad[s];"
                 "[m][s]amix=inputs=2:duration=first:normalize=0")  # fmt: skip
        ffmpeg("-ss", f"{start:.2f}", "-t", "15", "-i", str(refs[i]), "-i", str(speech),
               "-filter_complex", graph, str(clip))  # fmt: skip
        out.append((i, query_peak_sets(ap.decode(clip))[1]()))
    return out


def miss_queries(others: list[Path], n: int) -> list[tuple[int, ap.PeakPrint]]:
    rng = random.Random(10)
    out: list[tuple[int, ap.PeakPrint]] = []
    while len(out) < n:
        x = ap.decode(others[rng.randrange(len(others))])
        need = 15 * ap.SAMPLE_RATE
        if x.size <= need:
            continue
        a = rng.randrange(0, x.size - need)
        clip = x[a : a + need]
        if np.abs(clip).max() > 1e-2:
            out.append((-1, query_peak_sets(clip)[1]()))
    return out


def timed(conn: sa.Connection, queries: list[tuple[int, ap.PeakPrint]],
          params: pair_index.PairSearchParams) -> tuple:  # fmt: skip
    pair_index.search(conn, queries[0][1], params=params)  # warm
    ms, right, answered = [], 0, 0
    for truth, dense in queries:
        t0 = time.perf_counter()
        found = pair_index.search(conn, dense, params=params)
        ms.append(1000 * (time.perf_counter() - t0))
        answered += bool(found)
        right += bool(found) and found[0].work_id == truth
    return statistics.median(ms), float(np.percentile(ms, 95)), right, answered


def size_mb(conn: sa.Connection) -> float:
    if conn.dialect.name == "postgresql":
        return (conn.exec_driver_sql("SELECT pg_total_relation_size('audio_pair_postings')")
                .scalar() or 0) / 2**20  # fmt: skip
    return (conn.exec_driver_sql("SELECT sum(pgsize) FROM dbstat WHERE name LIKE "
                                 "'%audio_pair_postings%'").scalar() or 0) / 2**20  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--pg", default=None, help="PostgreSQL URL instead of SQLite")
    parser.add_argument("--budgets", default="300000",
                        help="PairSearchParams.max_postings values to time")
    args = parser.parse_args()
    tracks = music_files()
    refs, rest = tracks[:REFS], tracks[REFS:]
    # Fillers and miss queries from different packages: a filler is a stretched copy
    # of real music, and at a stretch near 1 it would rightly match a clip of it.
    # (Nor from a package with a registered track: a game ships a theme twice.)
    registered = {_package(p) for p in refs}
    packages = [p for p in dict.fromkeys(_package(p) for p in rest) if p not in registered]
    held_out = set(packages[len(packages) // 2 :])
    others = [p for p in rest if _package(p) not in held_out]
    unregistered = [p for p in rest if _package(p) in held_out]
    ref_peaks = [(i, fps[1]) for i, fps in enumerate(map(reference_fingerprints, refs))
                 if fps is not None]
    bases = [fps[1] for fps in map(reference_fingerprints, others) if fps is not None]
    filler = Filler([np.zeros(8, np.uint32)], bases, seed=7)
    CACHE.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(args.pg or f"sqlite:///{CACHE / 'pairs.db'}")
    use_sqlite_pragmas(engine)
    if not args.reuse:
        with engine.begin() as conn:
            metadata.drop_all(conn, tables=TABLES)
            metadata.create_all(conn, tables=TABLES)
            add(conn, ref_peaks)
    with tempfile.TemporaryDirectory() as tmp:
        voice = voice_queries(refs, args.queries, Path(tmp))
    misses = miss_queries(unregistered, args.queries)
    print(f"{'recordings':>10} {'hours':>6} {'MB':>7} {'MB/h':>5} {'budget':>7} {'voice p50':>9} "
          f"{'p95':>5} {'right':>6} {'miss p50':>8} {'p95':>5} {'false':>5}")
    for size in (int(s) for s in args.sizes.split(",")):
        with engine.connect() as conn:
            have = peak_index.count_recordings(conn)
        t0, next_id = time.time(), SYNTH_BASE + have
        while have < size:
            n = min(BATCH, size - have)
            with engine.begin() as conn:
                add(conn, [(w, filler.peaks()) for w in range(next_id, next_id + n)])
            have, next_id = have + n, next_id + n
            print(f"    {have} recordings, {time.time() - t0:.0f} s", flush=True)
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("ANALYZE")
        with engine.connect() as conn:
            hours = (conn.execute(sa.select(sa.func.sum(
                peak_index.audio_peak_recordings.c.duration_s))).scalar() or 0) / 3600
            mb = size_mb(conn)
            for budget in (int(b) for b in args.budgets.split(",")):
                params = pair_index.PairSearchParams(max_postings=budget)
                v50, v95, right, _ = timed(conn, voice, params)
                m50, m95, _, false = timed(conn, misses, params)
                print(f"{have:>10} {hours:>6.0f} {mb:>7.0f} {mb / hours:>5.2f} {budget:>7} "
                      f"{v50:>9.1f} {v95:>5.0f} {right:>3}/{len(voice):<2} {m50:>8.1f} "
                      f"{m95:>5.0f} {false:>5}", flush=True)


if __name__ == "__main__":
    main()
