"""Audio speed: fingerprinting x real time; index insert and query p50/p95 at scale.

    .venv/bin/python benchmarks/audio_speed.py [--quick] [--pg URL] [--sizes 1000,10000,100000]

* Fingerprinting: ``fingerprint_file`` over corpus files (time per minute of
  audio, x real time) and ``fingerprint_query`` on 15 s clips (all variants).
* Index: the accuracy corpus' references are registered for real, then the
  index is filled with synthetic recordings up to each size (real fingerprints
  of the corpus XOR a random 32-bit mask per synthetic recording, random length
  1-3 min: real temporal structure, keys spread like distinct music). Queries are
  real 15 s MP3 clips of the references; timings cover ``search()`` only (SQL,
  voting, verification; decoding and fingerprinting excluded). Beside it, a
  brute-force numpy scan of the same keys held in memory finds the same
  candidates; the ratio is brute-force time / index time.

Needs the corpus of ``audio_accuracy.py`` (built on first use). PostgreSQL is
measured when ``--pg`` is given (its audio tables are dropped afterwards).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audio_accuracy import build_corpus, duration, make_query  # noqa: E402

from registry.core.audio import AudioFingerprint, fingerprint_file, fingerprint_query  # noqa: E402
from registry.core.matching import audio_index as ai  # noqa: E402
from registry.core.media import MediaLimits  # noqa: E402
from registry.core.sql import metadata, use_sqlite_pragmas  # noqa: E402

LIMITS = MediaLimits()
BATCH = 5000  # recordings per add_recordings call, as a bulk import batches them


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def bench_fingerprinting(items: list, n_files: int, n_clips: int, tmp: Path) -> None:
    files = items[:n_files]
    audio_s = sum(duration(it.path) for it in files)
    t0 = time.perf_counter()
    for it in files:
        fingerprint_file(it.path, LIMITS)
    wall = time.perf_counter() - t0
    q_times = []
    rng = random.Random(3)
    for k in range(n_clips):
        it = files[k % len(files)]
        clip = make_query(it.path, tmp, "mp3 64k", rng.uniform(0, 40), 15, k)
        t0 = time.perf_counter()
        fingerprint_query(clip, LIMITS)
        q_times.append(time.perf_counter() - t0)
    print("\nFingerprinting (fpcalc, whole files; 2 shared cores)")
    minutes = audio_s / 60
    print(f"{'files':>6} {'audio min':>10} {'wall s':>8} {'ms/audio min':>13} {'x real time':>12}")
    print(f"{len(files):>6} {minutes:>10.1f} {wall:>8.2f} {1000 * wall / minutes:>13.0f} "
          f"{audio_s / wall:>12.0f}")
    q50, q95 = 1000 * statistics.median(q_times), 1000 * pct(q_times, 95)
    print(f"fingerprint_query, 15 s clip, 9 variants: p50 {q50:.0f} ms, p95 {q95:.0f} ms")


class Synth:
    """Synthetic recordings derived from real fingerprints (see module docstring)."""

    def __init__(self, bases: list[np.ndarray], seed: int) -> None:
        self.bases, self.rng = bases, np.random.default_rng(seed)

    def make(self) -> AudioFingerprint:
        base = self.bases[int(self.rng.integers(len(self.bases)))]
        n = int(self.rng.integers(450, 1430))
        start = int(self.rng.integers(0, max(1, base.size - n)))
        items = base[start : start + n] ^ np.uint32(self.rng.integers(1, 2**32, dtype=np.uint64))
        return AudioFingerprint(items, n / 8.0)


class BruteForce:
    """All index rows in numpy arrays; candidates by scanning every key."""

    def __init__(self) -> None:
        self.keys: list[np.ndarray] = []
        self.works: list[np.ndarray] = []
        self.pos: list[np.ndarray] = []
        self.fps: dict[int, AudioFingerprint] = {}
        self._packed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, work_id: int, fp: AudioFingerprint) -> None:
        k, p = ai.index_keys(fp.items)
        self.keys.append(k.astype(np.int32))
        self.works.append(np.full(k.size, work_id, dtype=np.int32))
        self.pos.append(p.astype(np.int32))
        self.fps[work_id] = fp
        self._packed = None

    def search(self, fps: list[AudioFingerprint]) -> list[int]:
        if self._packed is None:
            self._packed = (np.concatenate(self.keys), np.concatenate(self.works),
                            np.concatenate(self.pos))  # fmt: skip
        keys, works, pos = self._packed
        qk, qp = ai._query_table(fps)
        hit = np.isin(keys, qk)
        pk, pw, pp = keys[hit].astype(np.int64), works[hit].astype(np.int64), pos[hit]
        cands = ai._vote(qk, qp, pk, pw, pp.astype(np.int64), ai.SearchParams())
        verified = ai.verify_candidates(
            ai.QueryVariants(fps), [self.fps[w].items for _, w, _ in cands],
            [o for _, _, o in cands], ai.SearchParams(),
        )  # fmt: skip
        return [w for (_, w, _), v in zip(cands, verified, strict=True) if v is not None]


def fill(conn: sa.Connection, synth: Synth, brute: BruteForce, start_id: int, count: int,
         ) -> tuple[float, int]:  # fmt: skip
    """Add ``count`` synthetic recordings; returns (seconds, index rows)."""
    t0, rows = time.perf_counter(), 0
    for first in range(start_id, start_id + count, BATCH):
        batch = [(w, synth.make()) for w in range(first, min(first + BATCH, start_id + count))]
        ai.add_recordings(conn, batch)
        for w, fp in batch:
            brute.add(w, fp)
            rows += ai.index_keys(fp.items)[0].size
    return time.perf_counter() - t0, rows


def bench_index(url: str, label: str, refs: list, sizes: list[int], queries: list,
                bases: list[np.ndarray]) -> list[tuple]:  # fmt: skip
    engine = sa.create_engine(url)
    use_sqlite_pragmas(engine)  # as the application opens it
    results = []
    with engine.begin() as conn:
        metadata.drop_all(conn, tables=ai.AUDIO_TABLES)
        metadata.create_all(conn, tables=ai.AUDIO_TABLES)
    brute = BruteForce()
    with engine.begin() as conn:
        for i, fp in enumerate(refs):
            ai.add_recording(conn, i + 1, fp)
            brute.add(i + 1, fp)
    have = len(refs)
    synth = Synth(bases, seed=7)
    insert_s, insert_rows = 0.0, 0
    for size in sizes:
        with engine.begin() as conn:
            secs, rows = fill(conn, synth, brute, 1_000_000 + have, size - have)
        insert_s, insert_rows = insert_s + secs, insert_rows + rows
        added = size - have
        have = size
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE audio_postings")
        else:
            with engine.begin() as c:
                c.exec_driver_sql("ANALYZE")
        idx_times, bf_times, agree, top_ok = [], [], 0, 0
        with engine.connect() as conn:
            ai.search(conn, queries[0][1])  # warm the cache
            for truth, fps in queries:
                t0 = time.perf_counter()
                matches = ai.search(conn, fps)
                idx_times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                bf = brute.search(fps)
                bf_times.append(time.perf_counter() - t0)
                top_ok += bool(matches) and matches[0].work_id == truth
                agree += sorted(m.work_id for m in matches) == sorted(bf)
        p50, p95 = 1000 * statistics.median(idx_times), 1000 * pct(idx_times, 95)
        bf50 = 1000 * statistics.median(bf_times)
        rate = added / secs if secs else float("nan")
        results.append((label, size, insert_rows, rate, p50, p95, bf50, bf50 / p50,
                        top_ok, agree, len(queries)))
        print(f"  {label} {size}: rows {insert_rows}, {rate:.0f} rec/s, p50 {p50:.1f} ms, "
              f"p95 {p95:.1f} ms, brute {bf50:.1f} ms", flush=True)
    with engine.begin() as conn:
        metadata.drop_all(conn, tables=ai.AUDIO_TABLES)
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg", default=None, help="PostgreSQL SQLAlchemy URL")
    parser.add_argument("--sizes", default=None)
    parser.add_argument("--queries", type=int, default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in (args.sizes or ("1000,10000" if args.quick else
                                             "1000,10000,100000")).split(",")]  # fmt: skip
    n_q = args.queries or (20 if args.quick else 50)
    items = [it for it in build_corpus(30 if args.quick else 100, 15 if args.quick else 50)
             if it.registered]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        bench_fingerprinting(items, 6 if args.quick else 20, 10 if args.quick else 30, tmpdir)
        refs = [fingerprint_file(it.path, LIMITS) for it in items]
        rng = random.Random(11)
        queries = []
        for k in range(n_q):
            i = k % len(items)
            start = rng.uniform(0, refs[i].duration_s - 16)
            clip = make_query(items[i].path, tmpdir, "mp3 64k", start, 15, k)
            queries.append((i + 1, fingerprint_query(clip, LIMITS)))
        bases = [fp.items for fp in refs]
        results = []
        targets = [("SQLite", f"sqlite:///{tmpdir / 'speed.db'}")]
        if args.pg:
            targets.append(("PostgreSQL", args.pg))
        for label, url in targets:
            results += bench_index(url, label, refs, sizes, queries, bases)
    print("\nIndex query, 15 s MP3 clip (search() only: SQL + voting + verification)")
    head = (f"{'database':<11} {'recordings':>10} {'index rows':>11} {'insert rec/s':>12} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'brute p50':>10} {'speed-up':>9} {'top-1':>6} "
            f"{'same as brute':>13}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for label, size, rows, rate, p50, p95, bf, ratio, ok, agree, n in results:
        print(f"{label:<11} {size:>10} {rows:>11} {rate:>12.0f} {p50:>7.1f} {p95:>7.1f} "
              f"{bf:>9.1f}  {ratio:>8.1f}x {ok:>3}/{n:<2} {agree:>9}/{n}")


if __name__ == "__main__":
    main()
