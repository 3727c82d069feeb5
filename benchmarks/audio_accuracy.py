"""Audio matching accuracy: top-1 accuracy per transformation and false-match rate.

    .venv/bin/python benchmarks/audio_accuracy.py [--quick] [--db URL]
    .venv/bin/python benchmarks/audio_accuracy.py --real [--refs 300] [--queries 25]
        [--false 2000] [--jobs 2] [--db URL]

``--real`` runs issue 16's table on real music (pitch, speed, tempo, short
clips, voice-over, false-match rate per clip length): see ``audio_real.py``.
Without it, the synthetic corpus below (Chromaprint alone, issue 3's variants).

Corpus (generated once, cached in benchmarks/.cache/audio/): random MIDI songs
(melody, bass, chords, drums; random General MIDI instruments) rendered with
fluidsynth and FluidR3_GM, plus espeak-ng speech. Full mode: 100 registered
references of 1-3 minutes (80 songs, 20 speech) and 50 unregistered distractors
(40 songs, 10 speech). Quick mode: 30 references, 15 distractors.

Queries: 15 s clips at random offsets of each reference under each
transformation, plus whole references re-encoded, plus 15 s clips and whole
files of the distractors (any match on a distractor is a false match, and a
wrong top-1 on a reference counts as a false match too).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audio_corpus import make_song, make_speech, render_midi  # noqa: E402

from registry.core.audio import fingerprint_file, fingerprint_query  # noqa: E402
from registry.core.matching.audio_index import (  # noqa: E402
    AUDIO_TABLES,
    add_recordings,
    search,
)
from registry.core.media import MediaLimits  # noqa: E402
from registry.core.sql import metadata  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "audio"
LIMITS = MediaLimits()
RATE = 22050

TRANSFORMS: dict[str, tuple[str, list[str]]] = {
    "clean": ("wav", []),
    "mp3 64k": ("mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]),
    "aac 64k": ("m4a", ["-c:a", "aac", "-b:a", "64k"]),
    "opus 64k": ("opus", ["-c:a", "libopus", "-b:a", "64k"]),
    "volume -20dB": ("wav", ["-af", "volume=-20dB"]),
    "noise 10dB": ("wav", []),  # white noise added in numpy
    "phone 8kHz": ("wav", ["-af", "highpass=f=300,lowpass=f=3400", "-ar", "8000", "-ac", "1"]),
    "tempo +3%": ("wav", ["-af", "atempo=1.03"]),
    "tempo -3%": ("wav", ["-af", "atempo=0.97"]),
    "speed +3%": ("wav", ["-af", f"asetrate={RATE}*1.03,aresample={RATE}"]),
    "speed -3%": ("wav", ["-af", f"asetrate={RATE}*0.97,aresample={RATE}"]),
}


@dataclass(frozen=True)
class Item:
    name: str
    path: Path
    registered: bool


def ffmpeg(*args: str, data: bytes | None = None) -> bytes:
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", *args]
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def _make_one(kind: str, seed: int, seconds: float, dest: Path) -> None:
    if dest.exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "x.wav"
        if kind == "song":
            midi = Path(tmp) / "x.mid"
            midi.write_bytes(make_song(seed, seconds))
            render_midi(midi, wav, RATE)
            ffmpeg("-i", str(wav), "-t", str(seconds), "-ac", "1", str(dest))
        else:
            make_speech(seed, wav, int(seconds * 2.6))
            ffmpeg("-i", str(wav), "-ar", str(RATE), "-ac", "1", str(dest))


def build_corpus(n_ref: int, n_dis: int) -> list[Item]:
    """Songs are 80 % of each set, speech 20 %; lengths 60-180 s."""
    CACHE.mkdir(parents=True, exist_ok=True)
    jobs = []
    for registered, count, base in ((True, n_ref, 10_000), (False, n_dis, 50_000)):
        n_speech = count // 5
        for i in range(count):
            kind = "speech" if i < n_speech else "song"
            rng = random.Random(base + i)
            seconds = rng.uniform(60, 180)
            name = f"{'ref' if registered else 'dis'}_{kind}_{base + i}"
            jobs.append((kind, base + i, seconds, CACHE / f"{name}.flac", registered, name))
    t0 = time.time()
    todo = [j for j in jobs if not j[3].exists()]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda j: _make_one(j[0], j[1], j[2], j[3]), todo))
    if todo:
        print(f"rendered {len(todo)} corpus files in {time.time() - t0:.0f} s")
    return [Item(j[5], j[3], j[4]) for j in jobs]


def duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         str(path)], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(out)


def make_query(src: Path, dest_dir: Path, transform: str, start: float | None,
               seconds: float, seed: int) -> Path:  # fmt: skip
    ext, args = TRANSFORMS[transform]
    dest = dest_dir / f"q.{ext}"
    cut = [] if start is None else ["-ss", f"{start:.3f}", "-t", str(seconds)]
    if transform == "noise 10dB":
        raw = ffmpeg(*cut, "-i", str(src), "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-")
        x = np.frombuffer(raw, dtype="<i2").astype(np.float64)
        sigma = np.sqrt(np.mean(x**2) / 10.0)
        y = x + np.random.default_rng(seed).normal(0, sigma, x.size)
        data = np.clip(y, -32768, 32767).astype("<i2").tobytes()
        ffmpeg("-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "-", str(dest), data=data)
    else:
        ffmpeg(*cut, "-i", str(src), *args, str(dest))
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: temp SQLite)")
    parser.add_argument("--clips", type=int, default=None, help="clips per transformation")
    parser.add_argument("--distractors-only", action="store_true")
    parser.add_argument("--real", action="store_true", help="issue 16's table on real music")
    parser.add_argument("--refs", type=int, default=300)
    parser.add_argument("--queries", type=int, default=25, help="per variant (--real)")
    parser.add_argument("--false", type=int, default=2000, help="clips per length (--real)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--false-budget", type=float, default=float("inf"),
                        help="seconds for the false-match queries (--real)")
    parser.add_argument("--by-package", action="store_true",
                        help="unregistered tracks from packages with no registered track (--real)")
    parser.add_argument("--seed", type=int, default=0,
                        help="other queries and unregistered clips (a validation set; --real)")
    parser.add_argument("--variants", default=None,
                        help="only the variants whose name contains this text (--real)")
    args = parser.parse_args()
    if args.real:
        import audio_real

        audio_real.run(args.refs, args.queries, args.false, args.jobs, args.db,
                       args.false_budget, args.by_package, args.variants, args.seed)
        return
    n_ref, n_dis = (30, 15) if args.quick else (100, 50)
    n_clips = args.clips or (30 if args.quick else 100)
    items = build_corpus(n_ref, n_dis)
    refs = [it for it in items if it.registered]
    dists = [it for it in items if not it.registered]
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        url = args.db or f"sqlite:///{tmpdir / 'bench.db'}"
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            metadata.drop_all(conn, tables=AUDIO_TABLES)
            metadata.create_all(conn, tables=AUDIO_TABLES)
            t0 = time.time()
            fps = [(i, fingerprint_file(it.path, LIMITS)) for i, it in enumerate(refs)]
            t_fp = time.time() - t0
            add_recordings(conn, fps)
        total_audio = sum(fp.duration_s for _, fp in fps)
        print(f"{len(refs)} references ({total_audio / 60:.0f} min) fingerprinted in "
              f"{t_fp:.1f} s ({total_audio / t_fp:.0f}x real time); {len(dists)} distractors")
        run_queries(engine, refs, dists, n_clips, 8 if args.quick else 25, tmpdir,
                    args.distractors_only)
        with engine.begin() as conn:
            metadata.drop_all(conn, tables=AUDIO_TABLES)


def run_queries(engine: sa.Engine, refs: list[Item], dists: list[Item], n_clips: int,
                n_whole: int, tmpdir: Path, distractors_only: bool = False) -> None:  # fmt: skip
    rng = random.Random(42)
    lengths = {it.name: duration(it.path) for it in refs + dists}
    rows = []
    false_total = [0, 0]
    for transform in [] if distractors_only else TRANSFORMS:
        ok = wrong = 0
        bers: list[float] = []
        t0 = time.time()
        for k in range(n_clips):
            idx = k % len(refs)
            it = refs[idx]
            start = rng.uniform(0, lengths[it.name] - 15.5)
            q = make_query(it.path, tmpdir, transform, start, 15, seed=k)
            matches = search_path(engine, q)
            if matches and matches[0].work_id == idx:
                ok += 1
                bers.append(matches[0].bit_error_rate)
            elif matches:
                wrong += 1
        false_total[0] += wrong
        false_total[1] += n_clips
        med = float(np.median(bers)) if bers else float("nan")
        rows.append((f"15 s clip, {transform}", n_clips, ok, wrong, med, time.time() - t0))
        print(*rows[-1], flush=True)
    for transform in () if distractors_only else ("mp3 64k", "opus 64k", "aac 64k"):
        ok = wrong = 0
        bers = []
        t0 = time.time()
        sample = refs[:: max(1, len(refs) // n_whole)]
        for it in sample:
            q = make_query(it.path, tmpdir, transform, None, 0, seed=0)
            matches = search_path(engine, q)
            if matches and matches[0].work_id == refs.index(it):
                ok += 1
                bers.append(matches[0].bit_error_rate)
            elif matches:
                wrong += 1
        med = float(np.median(bers)) if bers else float("nan")
        rows.append((f"whole file, {transform}", len(sample), ok, wrong, med, time.time() - t0))
    dis_queries = dis_hits = 0
    for it in dists:
        for transform in ("clean", "mp3 64k", "noise 10dB", "phone 8kHz", "tempo +3%"):
            start = rng.uniform(0, lengths[it.name] - 15.5)
            q = make_query(it.path, tmpdir, transform, start, 15, seed=dis_queries)
            dis_queries += 1
            dis_hits += report_false(it, transform, search_path(engine, q))
        q = make_query(it.path, tmpdir, "mp3 64k", None, 0, seed=0)
        dis_queries += 1
        dis_hits += report_false(it, "whole mp3", search_path(engine, q))
    print_table(rows, dis_queries, dis_hits, false_total)


def report_false(it: Item, transform: str, matches: list) -> bool:
    for m in matches:
        print(f"  false match: {it.name} ({transform}) -> work {m.work_id}, BER "
              f"{m.bit_error_rate:.3f} over {m.aligned_items} items", flush=True)
    return bool(matches)


def search_path(engine: sa.Engine, path: Path):
    fps = fingerprint_query(path, LIMITS)
    with engine.connect() as conn:
        return search(conn, fps)


def print_table(rows: list, dis_queries: int, dis_hits: int, false_total: list[int]) -> None:
    print()
    print(f"{'query':<28} {'n':>5} {'top-1':>8} {'wrong':>6} {'med BER':>8} {'time s':>7}")
    print("-" * 67)
    for name, n, ok, wrong, med, secs in rows:
        print(f"{name:<28} {n:>5} {100 * ok / n:>7.1f}% {wrong:>6} {med:>8.3f} {secs:>7.1f}")
    print("-" * 67)
    rate = 100 * dis_hits / max(1, dis_queries)
    print(f"distractor queries (15 s clips in 5 transformations + whole files): {dis_queries}, "
          f"false matches: {dis_hits} ({rate:.2f}%)")
    print(f"wrong top-1 among reference clips: {false_total[0]} of {false_total[1]}")


if __name__ == "__main__":
    main()
