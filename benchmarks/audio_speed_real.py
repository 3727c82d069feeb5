"""Audio speed on real music, both fingerprints (Chromaprint and the peak quads).

    .venv/bin/python benchmarks/audio_speed_real.py [--sizes 10000,100000] [--pg URL]
                                                    [--queries 50] [--reuse] [--skip-fingerprinting]

1. Registration: ``AudioKind.fingerprint`` (what a registration runs: fpcalc for
   Chromaprint beside an in-process PyAV decode for the peaks) on real tracks of
   ``real_music.py``; seconds of audio per second of wall time.
2. Index: the first 300 real tracks are registered in both indexes (work ids
   0-299, the tracks ``audio_accuracy.py --real`` registers), then synthetic
   recordings fill both indexes up to each size:
   * Chromaprint: a random 1-3 min window of a real track's fingerprint XOR a
     random 32-bit mask (the same filler as ``audio_speed.py``);
   * peaks: three 20-60 s windows of real *unregistered* tracks' peaks
     (``tracks[300:]``, so no filler is a copy of a queried track), each
     time-stretched by a random 0.8-1.25 and jittered (1 frame, 0.7 bin), laid end
     to end: real spacing and frequency structure, keys spread like distinct music.
   Queries: real 15 s MP3 (64 kbit/s) clips of registered tracks, fingerprinted
   once; the time is both searches together (``audio_index.search`` under both rules +
   ``peak_index.search`` + ``vote``), what a lookup spends in the indexes.
   The filled databases stay in ``benchmarks/.cache/audio_speed_real/`` (SQLite) and
   in the ``--pg`` database; ``--reuse`` times them again without refilling.
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

from audio_real import reference_fingerprints  # noqa: E402
from audio_speed import Synth  # noqa: E402
from real_music import music_files  # noqa: E402

from registry.core import audio_peaks as ap  # noqa: E402
from registry.core.audio import AudioFingerprint  # noqa: E402
from registry.core.audio_query import fingerprint_query_file, quad_search, vote  # noqa: E402
from registry.core.matching import audio_index, key_counts, peak_index  # noqa: E402
from registry.core.media import MediaLimits  # noqa: E402
from registry.core.sql import metadata, use_sqlite_pragmas  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "audio_speed_real"
TABLES = audio_index.AUDIO_TABLES + peak_index.PEAK_TABLES
REFS = 300
BATCH = 2000
SYNTH_BASE = 10_000_000


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


# --------------------------------------------------------------------------- registration


def bench_registration(tracks: list[Path], n: int) -> None:
    from registry.core.audio import fingerprint_file
    from registry.kinds.audio import AudioKind, registered_peaks

    kind, limits = AudioKind(), MediaLimits()
    chosen = tracks[:n]
    rows = []
    for label, run in (("both (registration)", lambda p: kind.fingerprint(p, limits)),
                       ("Chromaprint (fpcalc)", lambda p: fingerprint_file(p, limits)),
                       ("peaks (PyAV + quads)", registered_peaks)):  # fmt: skip
        audio = wall = 0.0
        for path in chosen:
            t0 = time.perf_counter()
            out = run(path)
            wall += time.perf_counter() - t0
            audio += _seconds(out)
        rows.append((label, len(chosen), audio, wall))
    print(f"\nFingerprinting at registration ({n} real tracks)")
    print(f"{'what':<22} {'tracks':>6} {'audio min':>10} {'wall s':>7} {'x real time':>12}")
    for label, k, audio, wall in rows:
        print(f"{label:<22} {k:>6} {audio / 60:>10.1f} {wall:>7.1f} {audio / wall:>12.0f}")


def _seconds(out) -> float:
    """Audio seconds of what a fingerprinting step returned."""
    if hasattr(out, "attributes"):
        return float(out.attributes["duration_s"])
    if isinstance(out, AudioFingerprint):
        return out.duration_s
    ref, _head = out
    return ref.duration_s


# --------------------------------------------------------------------------- fillers


class Filler:
    """Synthetic recordings for both indexes, from real fingerprints (see docstring)."""

    def __init__(self, chroma_bases: list[np.ndarray], peak_bases: list[ap.PeakPrint],
                 seed: int) -> None:  # fmt: skip
        self.synth, self.peak_bases = Synth(chroma_bases, seed), peak_bases
        self.rng = np.random.default_rng(seed + 1)

    def chroma(self) -> AudioFingerprint:
        return self.synth.make()

    def peaks(self) -> ap.PeakPrint:
        times, bins, at = [], [], 0.0
        for _ in range(3):
            base = self.peak_bases[int(self.rng.integers(len(self.peak_bases)))]
            span = float(self.rng.uniform(20, 60)) * ap.FPS
            end = float(base.times[-1]) if len(base) else 0.0
            start = float(self.rng.uniform(0, max(0.0, end - span)))
            keep = (base.times >= start) & (base.times < start + span)
            t = (base.times[keep] - start) * self.rng.uniform(0.8, 1.25)
            t = t + self.rng.normal(0, 1.0, t.size)
            b = base.bins[keep] + self.rng.normal(0, 0.7, t.size)
            times.append(t + at)
            bins.append(np.clip(b, 0, ap.N_BINS - 1))
            at += float(t.max(initial=0.0)) + 5
        t, b = np.concatenate(times), np.concatenate(bins)
        order = np.argsort(t, kind="stable")
        return ap.PeakPrint(np.maximum(t[order], 0).astype(np.float32),
                            b[order].astype(np.float32), at / ap.FPS)  # fmt: skip


# --------------------------------------------------------------------------- index


def _engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    use_sqlite_pragmas(engine)  # as the application opens it
    return engine


def register_refs(engine: sa.Engine, refs: list[tuple[int, AudioFingerprint, ap.PeakPrint]]
                  ) -> None:  # fmt: skip
    with engine.begin() as conn:
        metadata.drop_all(conn, tables=TABLES)
        metadata.create_all(conn, tables=TABLES)
        audio_index.add_recordings(conn, [(w, c) for w, c, _ in refs])
        peak_index.add_recordings(conn, [(w, p) for w, _, p in refs])


def count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return peak_index.count_recordings(conn)


def fill(engine: sa.Engine, filler: Filler, have: int, size: int) -> float:
    """Synthetic recordings until the index holds ``size``; returns seconds spent."""
    t0 = time.perf_counter()
    next_id = SYNTH_BASE + have
    while have < size:
        n = min(BATCH, size - have)
        ids = range(next_id, next_id + n)
        with engine.begin() as conn:
            audio_index.add_recordings(conn, [(w, filler.chroma()) for w in ids])
            peak_index.add_recordings(conn, [(w, filler.peaks()) for w in ids])
        have, next_id = have + n, next_id + n
        print(f"    {have} recordings, {time.perf_counter() - t0:.0f} s", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE audio_postings")
            c.exec_driver_sql("VACUUM ANALYZE audio_peak_postings")
    else:
        with engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


def disk_mb(engine: sa.Engine, sqlite_file: Path | None) -> str:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            sizes = {t.name: conn.exec_driver_sql(
                f"SELECT pg_total_relation_size('{t.name}')").scalar() or 0 for t in TABLES}
        peaks = sizes["audio_peak_postings"] + sizes["audio_peak_recordings"]
        chroma = sum(sizes.values()) - peaks
        return f"{peaks / 2**20:.0f} MB peaks, {chroma / 2**20:.0f} MB chroma"
    assert sqlite_file is not None
    return f"{sqlite_file.stat().st_size / 2**20:.0f} MB (file, both indexes)"


def make_queries(refs: list[Path], n: int, tmp: Path,
                 changed: bool = False) -> list[tuple[int, object]]:  # fmt: skip
    """``n`` 15 s MP3 clips of registered tracks; ``changed``: pitched up a semitone,
    which Chromaprint misses, so the quads' full search runs."""
    rng = random.Random(12)
    out = []
    for k in range(n):
        i = rng.randrange(len(refs))
        clip = tmp / f"q{k}.mp3"
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                                "-of", "csv=p=0", str(refs[i])], capture_output=True, text=True,
                               check=True)  # fmt: skip
        start = rng.uniform(1.0, max(1.5, float(probe.stdout) - 17))
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{start:.2f}", "-t",
                        "15", "-i", str(refs[i]),
                        *(["-af", "rubberband=pitch=1.059463"] if changed else []),
                        "-c:a", "libmp3lame", "-b:a", "64k", str(clip)],
                       check=True)  # fmt: skip
        out.append((i, fingerprint_query_file(clip, MediaLimits(min_audio_seconds=3.0))))
    return out


def load_key_counts(engine: sa.Engine) -> None:
    """A copy of the quads' key counts for this engine's lookups, loaded now."""
    copy = key_counts.enable(engine, {"audio_peak_postings": ap.N_KEYS}, 1e9, start=False)
    if copy is not None:
        t0 = time.perf_counter()
        copy.load()
        print(f"    key counts copied in {time.perf_counter() - t0:.1f} s", flush=True)


def time_queries(engine: sa.Engine, queries: list) -> tuple[float, float, int, float, float]:
    """(p50 ms, p95 ms, right work first, chroma p50, peaks p50)."""
    both, chroma_t, peak_t, right = [], [], [], 0
    with engine.connect() as conn:
        audio_index.search(conn, queries[0][1].chromaprint)  # warm the cache
        peak_index.search(conn, queries[0][1].peaks)
        for truth, q in queries:
            # What ``AudioKind.search`` runs (``audio_query.lookup`` before its pair
            # stage, which only a miss reaches): Chromaprint under both rules, the quads
            # (a lighter search when Chromaprint found the recording), then the vote.
            t0 = time.perf_counter()
            by_chroma = audio_index.search(conn, q.chromaprint, strict=audio_index.STRICT)
            t1 = time.perf_counter()
            by_peaks = quad_search(conn, q.peaks,
                                   confirming=any(m.strong for m in by_chroma))  # fmt: skip
            merged = vote(by_chroma, by_peaks)
            t2 = time.perf_counter()
            both.append(t2 - t0)
            chroma_t.append(t1 - t0)
            peak_t.append(t2 - t1)
            right += bool(merged) and merged[0].work_id == truth
    return (1000 * statistics.median(both), 1000 * pct(both, 95), right,
            1000 * statistics.median(chroma_t), 1000 * statistics.median(peak_t))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--pg", default=None, help="PostgreSQL SQLAlchemy URL")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="time the filled databases again")
    parser.add_argument("--skip-fingerprinting", action="store_true")
    parser.add_argument("--fingerprint-tracks", type=int, default=12)
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    parser.add_argument("--changed", action="store_true",
                        help="queries pitched up a semitone (Chromaprint misses them)")
    parser.add_argument("--key-counts", action="store_true",
                        help="pick the rarest keys from a copy of the key counts, as a "
                             "served registry does (registry.core.matching.key_counts)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tracks = music_files()
    refs, others = tracks[:REFS], tracks[REFS:]
    if not args.skip_fingerprinting:
        bench_registration(refs, args.fingerprint_tracks)
    print("\nfingerprints of the registered and filler tracks (cached)...", flush=True)
    ref_fps = [(i, fps) for i, fps in enumerate(map(reference_fingerprints, refs))
               if fps is not None]
    peak_bases = [fps[1] for fps in map(reference_fingerprints, others) if fps is not None]
    filler = Filler([c.items for _, (c, _) in ref_fps], peak_bases, seed=7)
    CACHE.mkdir(parents=True, exist_ok=True)
    targets = []
    if args.only != "postgres":
        targets.append(("SQLite", f"sqlite:///{CACHE / 'speed.db'}", CACHE / "speed.db"))
    if args.pg and args.only != "sqlite":
        targets.append(("PostgreSQL", args.pg, None))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        queries = make_queries(refs, args.queries, Path(tmp), args.changed)
        for label, url, file in targets:
            engine = _engine(url)
            if not args.reuse:
                register_refs(engine, [(i, c, p) for i, (c, p) in ref_fps])
            for size in sizes:
                have = count(engine)
                if have > size:
                    continue
                print(f"  {label}: filling {have} -> {size}", flush=True)
                secs = fill(engine, filler, have, size) if have < size else 0.0
                if args.key_counts:
                    load_key_counts(engine)
                p50, p95, right, c50, k50 = time_queries(engine, queries)
                results.append((label, size, p50, p95, c50, k50, right, len(queries),
                                (size - have) / secs if secs else float("nan"),
                                disk_mb(engine, file)))  # fmt: skip
                print(f"  {label} {size}: p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)
            engine.dispose()
    print("\nIndex part of a lookup, 15 s MP3 clip of a real track (both searches + merge)")
    head = (f"{'database':<11} {'recordings':>10} {'p50 ms':>7} {'p95 ms':>7} {'chroma p50':>10} "
            f"{'peaks p50':>9} {'top-1':>6} {'fill rec/s':>10}  disk")  # fmt: skip
    print(head)
    print("-" * (len(head) + 30))
    for label, size, p50, p95, c50, k50, right, n, rate, disk in results:
        print(f"{label:<11} {size:>10} {p50:>7.1f} {p95:>7.1f} {c50:>10.1f} {k50:>9.1f} "
              f"{right:>3}/{n:<2} {rate:>10.0f}  {disk}")


if __name__ == "__main__":
    main()
