"""Issue 16's accuracy table on real music (run through ``audio_accuracy.py --real``).

    .venv/bin/python benchmarks/audio_accuracy.py --real [--refs 300] [--queries 25]
        [--false 2000] [--jobs 2] [--db URL]

Corpus: :func:`real_music.music_files` (game soundtracks from Debian packages).
The first ``--refs`` tracks are registered (both fingerprints, both indexes in
one SQL database); the rest are never registered and only feed false-match
queries.

Each query goes through the lookup's own path: PyAV decoding of the query file,
Chromaprint speed variants and peak quads (:func:`fingerprint_query_file`),
both indexes searched, answers merged (:func:`vote`). ``top-1``
counts the right work first, ``located`` the right work with its work-side start
within 1 s of the truth, ``wrong`` a different work first.

False matches: ``--false`` clips per length (3 s, 5 s, 10 s, 15 s) at random
offsets of the unregistered tracks, cut from the decoded samples; any answer is
a false match. Fingerprints of the registered tracks are cached in
``benchmarks/.cache/real_fp/``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_music import music_files  # noqa: E402

from registry.core import audio_peaks as ap  # noqa: E402
from registry.core.audio import (  # noqa: E402
    ITEMS_PER_SECOND,
    SAMPLE_RATE,
    AudioFingerprint,
    fingerprint_query,
    fingerprint_samples,
)
from registry.core.audio_query import (  # noqa: E402
    DensePeaks,
    fast_copy_vote,
    fingerprint_query_file,
    merge_matches,
    quad_search,
    query_peak_sets,
    vote,
)
from registry.core.errors import MediaError, SilentAudio  # noqa: E402
from registry.core.matching import audio_index, pair_index, peak_index  # noqa: E402
from registry.core.media import MediaLimits  # noqa: E402
from registry.core.sql import metadata  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "real_fp"
RAW = ROOT / "benchmarks" / ".cache" / "audio_real_last.json"  # every query's outcome
LIMITS = MediaLimits(min_audio_seconds=3.0)
RATE = 44100
TABLES = audio_index.AUDIO_TABLES + peak_index.PEAK_TABLES + pair_index.PAIR_TABLES


def _pitch(n: float) -> str:
    return f"rubberband=pitch={2 ** (n / 12):.6f}"


def _speed(s: float) -> str:
    return f"aresample={RATE},asetrate={RATE}*{s},aresample={RATE}"


@dataclass(frozen=True)
class Variant:
    name: str
    seconds: float  # of the original
    af: str | None
    speed: float  # true speed of the copy (work time = start + speed * query time)
    codec: tuple[str, ...] = ()
    ext: str = "wav"
    voice: bool = False


VARIANTS = [
    Variant("pitch +1 st", 15, _pitch(1), 1.0),
    Variant("pitch -1 st", 15, _pitch(-1), 1.0),
    Variant("pitch +2 st", 15, _pitch(2), 1.0),
    Variant("pitch -2 st", 15, _pitch(-2), 1.0),
    Variant("speed 0.85x", 15, _speed(0.85), 0.85),
    Variant("speed 0.90x", 15, _speed(0.90), 0.90),
    Variant("speed 1.10x", 15, _speed(1.10), 1.10),
    Variant("speed 1.25x", 15, _speed(1.25), 1.25),
    Variant("tempo +10%", 15, "atempo=1.1", 1.1),
    Variant("tempo -10%", 15, "atempo=0.9", 0.9),
    Variant("slowed 0.85x + reverb", 15,
            _speed(0.85) + ",aecho=0.8:0.7:60|90|130:0.35|0.25|0.15", 0.85),
    Variant("5 s clip", 5, None, 1.0),
    Variant("5 s clip, mp3 64k", 5, None, 1.0, ("-c:a", "libmp3lame", "-b:a", "64k"), "mp3"),
    Variant("3 s clip", 3, None, 1.0),
    Variant("voice-over 0 dB", 15, None, 1.0, voice=True),
    # What Chromaprint found before (issue 3's variants), through the merged answer:
    Variant("15 s clip, clean", 15, None, 1.0),
    Variant("15 s clip, mp3 64k", 15, None, 1.0, ("-c:a", "libmp3lame", "-b:a", "64k"), "mp3"),
    Variant("15 s clip, phone 8kHz", 15, "highpass=f=300,lowpass=f=3400", 1.0,
            ("-ar", "8000", "-ac", "1")),
    Variant("15 s clip, tempo +3%", 15, "atempo=1.03", 1.03),
    Variant("15 s clip, speed -3%", 15, _speed(0.97), 0.97),
]
#: Variants also run through the old Chromaprint-only path (ffmpeg variants), to
#: compare: nothing it found may be lost.
CHROMAPRINT_BASELINE = {"15 s clip, clean", "15 s clip, mp3 64k", "15 s clip, phone 8kHz",
                        "15 s clip, tempo +3%", "15 s clip, speed -3%", "5 s clip",
                        "pitch +1 st", "speed 1.10x", "tempo +10%"}  # fmt: skip


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True,
                   capture_output=True)  # fmt: skip


def reference_fingerprints(path: Path) -> tuple[AudioFingerprint, ap.PeakPrint] | None:
    """Both fingerprints of a reference track; None for one the registry refuses (a
    silent or too short track: it could not be registered either)."""
    try:
        return _fingerprints_of(path)
    except MediaError as exc:
        print(f"  not registered: {path.name}: {exc}", flush=True)
        return None


def _fingerprints_of(path: Path) -> tuple[AudioFingerprint, ap.PeakPrint]:
    CACHE.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(f"{path}:{path.stat().st_size}:v1".encode()).hexdigest()[:24]
    chroma_file, peaks_file = CACHE / f"{key}.chroma", CACHE / f"{key}.peaks"
    if chroma_file.exists() and peaks_file.exists():
        return (AudioFingerprint.from_bytes(chroma_file.read_bytes()),
                ap.PeakPrint.from_bytes(peaks_file.read_bytes()))  # fmt: skip
    # One PyAV decode for both (the app's registration runs fpcalc for Chromaprint;
    # the same algorithm on the same samples).
    x = ap.decode(path, sample_rate=SAMPLE_RATE)
    chroma = fingerprint_samples(x, speeds=())[0]
    peaks = ap.peaks_of_samples(ap.resample(x, SAMPLE_RATE, ap.SAMPLE_RATE), ap.REFERENCE)
    chroma_file.write_bytes(chroma.to_bytes())
    peaks_file.write_bytes(peaks.to_bytes())
    return chroma, peaks


def _register(url: str, refs: list[Path], jobs: int) -> float:
    t0 = time.time()
    with ProcessPoolExecutor(jobs) as pool:
        fps = list(pool.map(reference_fingerprints, refs, chunksize=4))
    seconds = time.time() - t0
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        metadata.drop_all(conn, tables=TABLES)
        metadata.create_all(conn, tables=TABLES)
        kept = [(i, fp) for i, fp in enumerate(fps) if fp is not None]
        audio_index.add_recordings(conn, [(i, c) for i, (c, _) in kept])
        peak_index.add_recordings(conn, [(i, p) for i, (_, p) in kept])
        pair_index.add_recordings(conn, [(i, p) for i, (_, p) in kept])
    audio = sum(c.duration_s for _, (c, _) in kept)
    print(f"{len(refs)} registered tracks, {audio / 3600:.1f} h, fingerprinted (or read from "
          f"the cache) in {seconds:.0f} s", flush=True)
    return audio


_ENGINE: sa.Engine | None = None


def _engine(url: str) -> sa.Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = sa.create_engine(url)
    return _ENGINE


#: Every verified peak candidate is kept (then the real rule is applied here), so the
#: table also shows what other thresholds would give (calibration).
PERMISSIVE = peak_index.LENIENT
DEFAULT = peak_index.PeakSearchParams()


#: Chromaprint thresholds tried on every query (the first is the default): the
#: table of :func:`_calibration` shows what each gives, alone and with the peaks'
#: confirmation of a weak Chromaprint stretch.
#: The third number is ``change_ref``, the held-chord rule (0: off).
CHROMA_GRID: tuple[tuple[float, float, float], ...] = (
    (0.36, 0.32, 0.0), (0.28, 0.24, 0.0), (0.28, 0.24, 0.08), (0.28, 0.24, 0.10),
    (0.28, 0.24, 0.12),
)


PAIRS = pair_index.PairSearchParams()
#: The pair stage's candidates kept for the calibration (the rule is applied here).
PAIR_KEPT = 8
#: ... and those whose soft z (``pair_index.soft_verify``) reaches this.
SOFT_KEPT = 4.0
#: Soft-z thresholds of the pair stage's calibration table (with the peak-hit rule
#: at its default).
SOFT_GRID = (5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0)


def _search(url: str, chroma: list[AudioFingerprint], peaks: ap.PeakPrint,
            dense: DensePeaks | None = None) -> tuple:  # fmt: skip
    """(the lookup's answer, every peak candidate, Chromaprint's (strong and weak),
    Chromaprint's under each rule of :data:`CHROMA_GRID`, the pair stage's
    candidates (run when the rest found nothing, as in ``audio_query.lookup``), its
    milliseconds)."""
    pair_cands: list[peak_index.PeakMatch] = []
    pair_ms = 0.0
    with _engine(url).connect() as conn:
        by_chroma = audio_index.search(conn, chroma, strict=audio_index.STRICT)
        # The lookup's own quad search: every candidate under its lenient rule (PERMISSIVE).
        candidates = quad_search(conn, peaks, confirming=any(m.strong for m in by_chroma))
        found = vote(by_chroma, candidates)
        if not found and isinstance(dense, DensePeaks):  # the fast-copy pass
            found = fast_copy_vote(conn, dense)
        if not found and dense is not None:
            t0 = time.perf_counter()
            fp = dense() if callable(dense) else dense
            spec = dense.spectrogram if isinstance(dense, DensePeaks) else None
            pair_cands = pair_index.search(
                conn, fp, spec=spec,
                keep=lambda v: v.matched >= PAIR_KEPT or pair_index.accepted(v, PAIRS) or (
                    v.soft is not None and v.soft.z >= SOFT_KEPT))
            pair_ms = 1000 * (time.perf_counter() - t0)
            found = merge_matches([], [], [m for m in pair_cands
                                           if pair_index.passes(m, PAIRS)])
        grid = [audio_index.search(conn, chroma, params=audio_index.SearchParams(
            ber_base=base, max_ber=top, change_ref=ref)) for base, top, ref in CHROMA_GRID]
    return found, candidates, by_chroma, grid, pair_cands, pair_ms


def _pair_stats(m: peak_index.PeakMatch) -> tuple:
    return (m.matched, m.considered, m.z, m.distinct_bins, m.query_end - m.query_start,
            m.soft)


def _grid_rows(grid: list, candidates: list[peak_index.PeakMatch], truth: int | None) -> list:
    """Per rule of the grid: (work, right work?, BER, items, peak stats of that work or
    None, the query stretch's item change)."""
    by_work = {m.work_id: _stats(m) for m in candidates}
    return [[(m.work_id, m.work_id == truth, m.bit_error_rate, m.aligned_items,
              by_work.get(m.work_id), m.item_change)
             for m in found] for found in grid]  # fmt: skip


def _stats(m: peak_index.PeakMatch) -> tuple:
    """What the acceptance rule reads of a candidate (kept for the calibration)."""
    return (m.matched, m.considered, m.query_end - m.query_start, m.coverage, m.distinct_bins,
            m.speed, m.pitch_semitones)  # fmt: skip


def _ok(stats: tuple, params: peak_index.PeakSearchParams) -> bool:
    matched, considered, seconds, coverage, bins, speed, pitch = stats
    return peak_index.accepted(matched, considered, seconds, coverage, params,
                               distinct_bins=bins, speed=speed, pitch_semitones=pitch)


def _voice(seed: int, seconds: float, dest: Path) -> Path:
    from audio_corpus import make_speech

    make_speech(seed, dest, int(seconds * 3))
    return dest


def _one_query(task: tuple) -> tuple:
    """(variant name, ok, located, wrong, ms, found speed, found pitch)."""
    url, v, src, work_id, start, seed = task
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"q.{v.ext}"
        cut = ["-ss", f"{start:.3f}", "-t", f"{v.seconds:.3f}", "-i", str(src)]
        if v.voice:
            speech = _voice(seed, v.seconds, Path(tmp) / "speech.wav")
            graph = ("[0:a]aformat=channel_layouts=mono,loudnorm=I=-20[m];"
                     "[1:a]aformat=channel_layouts=mono,loudnorm=I=-20,apad[s];"
                     "[m][s]amix=inputs=2:duration=first:normalize=0")  # fmt: skip
            _ffmpeg(*cut, "-i", str(speech), "-filter_complex", graph, "-ar", str(RATE), str(out))
        else:
            _ffmpeg(*cut, *(["-af", v.af] if v.af else []), *v.codec, str(out))
        t0 = time.perf_counter()
        try:
            q = fingerprint_query_file(out, LIMITS)
            found, candidates, by_chroma, grid, pcands, pms = _search(
                url, q.chromaprint, q.peaks, q.dense)
        except SilentAudio:
            # A silent stretch of the track (game music pauses): a lookup refuses it
            # with a message, nobody could find it; not counted (``_print`` says how many).
            return (v.name, None)
        except Exception as exc:  # noqa: BLE001 - reported as a miss with its reason
            print(f"  {v.name}: {exc}", flush=True)
            found, candidates, by_chroma, grid = [], [], [], [[] for _ in CHROMA_GRID]
            pcands, pms = [], 0.0
        ms = 1000 * (time.perf_counter() - t0)
        baseline = None
        if v.name in CHROMAPRINT_BASELINE:
            try:
                with _engine(url).connect() as conn:
                    old = audio_index.search(conn, fingerprint_query(out, MediaLimits(
                        min_audio_seconds=3.0)))
            except MediaError:
                old = []
            baseline = bool(old) and old[0].work_id == work_id
    ok = bool(found) and found[0].work_id == work_id
    truth = start + v.speed * found[0].query_start if found else 0.0
    located = ok and abs(found[0].work_start - truth) <= 1.0
    span = v.speed * (found[0].query_end - found[0].query_start) if found else 0.0
    repeat = ok and not located and _same_passage(url, work_id, truth, found[0].work_start, span)
    wrong = bool(found) and not ok
    # Another registered work holding the same recording at that place (a game ships
    # a theme twice: ``menu.ogg`` and ``menu_enhanced.ogg``): either is a right answer.
    duplicate = wrong and _same_passage(url, work_id, truth, found[0].work_start, span,
                                        other=found[0].work_id)  # fmt: skip
    tr = found[0].transform if ok else None
    right = [_stats(m) for m in candidates if m.work_id == work_id]
    chroma_ok = bool(by_chroma) and by_chroma[0].work_id == work_id
    others = [_stats(m) for m in candidates if m.work_id != work_id]
    chroma_wrong = bool(by_chroma) and not chroma_ok
    return (v.name, ok, located, wrong, ms, tr.speed if tr else None,
            tr.pitch_semitones if tr else None, baseline, right[0] if right else None, chroma_ok,
            others, chroma_wrong, located or repeat, _grid_rows(grid, candidates, work_id),
            duplicate, [(_pair_stats(m), m.work_id == work_id) for m in pcands], pms,
            list(found[0].found_by) if found else [])


def _same_passage(url: str, work_id: int, at: float, found: float, seconds: float,
                  other: int | None = None) -> bool:  # fmt: skip
    """Whether the recording sounds the same at ``found`` as at ``at`` (s), over
    ``seconds``: game music loops, so a clip of one repetition is rightly found at
    another. Chromaprint's raw bits of the two stretches agree on >= 85%
    (unrelated audio: about 50%; the same passage re-encoded: 90-97%). With
    ``other``, ``found`` is a time in that other registered work (searched within
    +-1 s: its match was placed from a changed copy)."""
    with _engine(url).connect() as conn:
        fp = audio_index.load_fingerprint(conn, work_id)
        ofp = fp if other is None else audio_index.load_fingerprint(conn, other)
    if fp is None or ofp is None:
        return False
    n = int(max(2.0, seconds) * ITEMS_PER_SECOND)
    a, b = int(at * ITEMS_PER_SECOND), int(found * ITEMS_PER_SECOND)
    for shift in (0,) if other is None else range(-8, 9):
        c = b + shift
        if min(a, c) < 0 or a + n > fp.items.size or c + n > ofp.items.size:
            continue
        diff = np.bitwise_xor(fp.items[a : a + n], ofp.items[c : c + n])
        if np.unpackbits(diff.astype(">u4").view(np.uint8)).mean() <= 0.15:
            return True
    return False


def _false_queries(task: tuple) -> list[tuple]:
    """Clips of one unregistered track: (length, matched?, description)."""
    url, path, lengths, per_length, seed = task
    x = ap.decode(Path(path), sample_rate=SAMPLE_RATE)
    rng = random.Random(seed)
    out = []
    for seconds in lengths:
        for _ in range(per_length):
            n = int(seconds * SAMPLE_RATE)
            if x.size <= n:
                continue
            a = rng.randrange(0, x.size - n)
            clip = x[a : a + n]
            if not np.any(np.abs(clip) > 1e-3):
                continue
            try:
                chroma = fingerprint_samples(clip)
                peaks, dense = query_peak_sets(ap.resample(clip, SAMPLE_RATE, ap.SAMPLE_RATE))
            except MediaError:  # silent or too quiet: refused, as a lookup would be
                continue
            found, candidates, _, grid, pcands, pms = _search(url, chroma, peaks, dense)
            desc = "" if not found else (
                f"{Path(path).name}@{a / SAMPLE_RATE:.0f}s -> work {found[0].work_id} "
                f"score {found[0].score:.2f} by {'+'.join(found[0].found_by)} {found[0].details}")
            best = [_stats(m) for m in candidates]
            chroma_hit = bool(found) and "chromaprint" in found[0].found_by
            out.append((seconds, bool(found), desc, best, chroma_hit,
                        _grid_rows(grid, candidates, None),
                        [_pair_stats(m) for m in pcands], pms))
    return out


def _package(path: Path) -> str:
    parts = path.parts  # /usr/share/games/<package>/... or /usr/share/<package>/...
    return parts[4] if len(parts) > 4 and parts[3] == "games" else parts[3]


def split_by_package(tracks: list[Path], refs_n: int) -> tuple[list[Path], list[Path]]:
    """Whole packages registered until there are ``refs_n`` tracks or more; the
    unregistered tracks come from the other packages only. A game reuses its themes
    across its track files (``menu.opus`` / ``menu_enhanced.opus``), so a split inside
    a package counts real shared material as false matches."""
    order = list(dict.fromkeys(_package(p) for p in tracks))
    refs: list[Path] = []
    for package in order:
        if len(refs) >= refs_n:
            break
        refs += [p for p in tracks if _package(p) == package]
    chosen = set(refs)
    return refs, [p for p in tracks if p not in chosen]


def run(refs_n: int, queries: int, false_n: int, jobs: int, url: str | None,
        false_budget: float = float("inf"), by_package: bool = False,
        only: str | None = None, seed: int = 0) -> None:
    global RAW
    if only is not None:  # a partial run keeps the last full run's outcomes
        RAW = RAW.with_name("audio_real_partial.json")
    tracks = music_files()
    if len(tracks) < refs_n + 20:
        raise SystemExit(f"need more than {refs_n + 20} tracks, have {len(tracks)}")
    if by_package:
        refs, others = split_by_package(tracks, refs_n)
    else:
        refs, others = tracks[:refs_n], tracks[refs_n:]
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/real.db"
        _register(url, refs, jobs)
        rng = random.Random(16 + 7919 * seed)
        r = audio_index.audio_recordings
        with sa.create_engine(url).connect() as conn:
            durations = dict(conn.execute(sa.select(r.c.work_id, r.c.duration_s)).all())
        tasks = []
        for v in VARIANTS:
            for k in range(queries):
                i = rng.randrange(len(refs))
                need = v.seconds + 2
                start = rng.uniform(1.0, max(1.5, durations[i] - need))
                # The same queries whatever ``only`` picks (the draws above happen).
                if only is None or only in v.name:
                    tasks.append((url, v, refs[i], i, start, k))
        t0 = time.time()
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_one_query, tasks, chunksize=2))
        print(f"{len(tasks)} transformed queries in {time.time() - t0:.0f} s", flush=True)
        _save(results, [])
        _print(results, [], len(refs), len(others))
        if false_n <= 0:
            return
        lengths = (3.0, 5.0, 10.0, 15.0)
        per_track = math.ceil(false_n / len(others))
        ftasks = [(url, str(p), lengths, per_track, 1000 + j + 100_000 * seed)
                  for j, p in enumerate(others)]
        t0 = time.time()
        fres: list[tuple] = []
        with ProcessPoolExecutor(jobs) as pool:
            for part in pool.map(_false_queries, ftasks):
                fres += part
                if time.time() - t0 > false_budget:
                    print(f"false-match budget of {false_budget:.0f} s spent", flush=True)
                    pool.shutdown(wait=False, cancel_futures=True)
                    break
        print(f"{len(fres)} unregistered clips in {time.time() - t0:.0f} s", flush=True)
    _save(results, fres)
    _print(results, fres, len(refs), len(others))
    _calibration(results, fres)
    _chroma_calibration(results, fres)
    _pair_calibration(results, fres)


def _save(results: list[tuple], fres: list[tuple]) -> None:
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps({"results": results, "false": fres}))


def _print(results: list[tuple], fres: list[tuple], n_refs: int, n_others: int) -> None:
    print()
    print(f"{'variant':<26} {'n':>3} {'top-1':>7} {'or dup':>7} {'located':>8} {'or loop':>8} "
          f"{'wrong':>5} "
          f"{'p50 ms':>7} {'speed':>6} {'pitch':>6} {'Chromaprint alone':>18}")
    print("-" * 113)
    silent = {}
    for v in VARIANTS:
        rows = [r for r in results if r[0] == v.name and r[1] is not None]
        silent[v.name] = sum(1 for r in results if r[0] == v.name and r[1] is None)
        n = len(rows)
        if not n:
            continue
        ok = sum(r[1] for r in rows)
        dup = ok + sum(bool(r[14]) for r in rows if len(r) > 14)
        loc = sum(r[2] for r in rows)
        loop = sum(r[12] for r in rows)
        wrong = sum(r[3] for r in rows)
        ms = float(np.median([r[4] for r in rows]))
        sp = [r[5] for r in rows if r[5] is not None]
        pt = [r[6] for r in rows if r[6] is not None]
        base = [r[7] for r in rows if r[7] is not None]
        base_s = f"{100 * sum(base) / len(base):.0f}%" if base else ""
        print(f"{v.name:<26} {n:>3} {100 * ok / n:>6.0f}% {100 * dup / n:>6.0f}% "
              f"{100 * loc / n:>7.0f}% "
              f"{100 * loop / n:>7.0f}% {wrong:>5} "
              f"{ms:>7.0f} {np.median(sp) if sp else float('nan'):>6.3f} "
              f"{np.median(pt) if pt else float('nan'):>6.2f} {base_s:>18}")
    print("-" * 113)
    print("or dup: or another registered work holding the same recording there; "
          "or loop: located at another repetition of the passage")
    by_pairs = {v.name: sum(1 for r in results if r[0] == v.name and len(r) > 17
                            and r[1] and "pairs" in r[17]) for v in VARIANTS}
    if any(by_pairs.values()):
        print(f"right answers found by the pair stage: "
              f"{ {k: n for k, n in by_pairs.items() if n} }")
    refused = {k: n for k, n in silent.items() if n}
    if refused:
        print(f"silent clips refused by the lookup, not counted: {refused}")
    print(f"registered: {n_refs} tracks; unregistered: {n_others} tracks")
    for seconds in sorted({r[0] for r in fres}):
        rows = [r for r in fres if r[0] == seconds]
        hits = [r for r in rows if r[1]]
        print(f"unregistered {seconds:>4.0f} s clips: {len(rows):>5}, false matches: "
              f"{len(hits)} ({100 * len(hits) / len(rows):.2f}%)")
        for r in hits[:8]:
            print(f"    {r[2]}")


def _pair_verified(stats: tuple) -> pair_index.PairVerified:
    matched, considered, z, bins, seconds = stats[:5]
    soft = stats[5] if len(stats) > 5 and stats[5] is not None else None
    return pair_index.PairVerified(0.0, matched, considered, 0.0, z, bins, 1.0, 0.0, seconds,
                                   None if soft is None else pair_index.SoftVerified(*soft))


def _pair_params(min_matched: int, min_ratio: float, min_z: float,
                 min_soft_z: float = float("nan")) -> pair_index.PairSearchParams:  # fmt: skip
    return pair_index.PairSearchParams(min_matched=min_matched, min_ratio=min_ratio,
                                       min_z=min_z, min_soft_z=min_soft_z)


def _pair_rule(stats: tuple, *rule: float) -> bool:
    return pair_index.accepted(_pair_verified(stats), _pair_params(*rule))  # type: ignore[arg-type]


def _pair_first(cands: list, rule: tuple) -> bool | None:
    """Whether the best pair candidate passing ``rule`` (``pair_index.rank``) is the
    right work."""
    params = _pair_params(*rule)
    ok = [(pair_index.rank(_pair_verified(s), params), not right) for s, right in cands
          if _pair_rule(s, *rule)]
    return not min(ok)[1] if ok else None


def _pair_right(r: tuple, rule: tuple) -> bool:
    return bool(r[1] and "pairs" not in r[17]) or _pair_first(r[15], rule) is True


def _pair_calibration(results: list[tuple], fres: list[tuple]) -> None:
    """The pair stage (the fallback): per rule, the queries whose answer is right
    (found before it, or its best passing candidate is the right work), wrong
    first answers, and the false-match rate of the unregistered clips."""
    results = [r for r in results if r[1] is not None and len(r) > 15]
    lengths = _table_head("calibration of the pair stage (found: all transformed queries; "
                          "voice: the voice-over row):",
                          f"{'min':>4} {'ratio':>5} {'z':>4} {'voice':>6}", fres)
    rules: list[tuple] = list(itertools.product((12, 16, 20), (0.15, 0.22, 0.3), (4.0, 6.0, 8.0)))
    hard = (PAIRS.min_matched, PAIRS.min_ratio, PAIRS.min_z)
    rules += [(*hard, float("nan"))] + [(*hard, soft) for soft in SOFT_GRID]
    for rule in rules:
        ok = sum(1 for r in results if _pair_right(r, rule))
        wrong = sum(1 for r in results
                    if (r[3] and "pairs" not in r[17]) or _pair_first(r[15], rule) is False)
        voice = [r for r in results if r[0].startswith("voice")]
        v_ok = sum(1 for r in voice if _pair_right(r, rule))
        fmr = []
        for seconds in lengths:
            rows = [f for f in fres if f[0] == seconds]
            bad = sum(1 for f in rows if (f[1] and not f[7]) or any(
                _pair_rule(s, *rule) for s in f[6]))
            fmr.append(f"{100 * bad / max(1, len(rows)):>8.2f}%")
        soft = f" soft z >= {rule[3]:g}" if len(rule) > 3 and rule[3] == rule[3] else ""
        print(f"{rule[0]:>4} {rule[1]:>5.2f} {rule[2]:>4.0f} {v_ok:>3}/{len(voice):<2} "
              f"{100 * ok / max(1, len(results)):>6.1f}% {wrong:>5} {' '.join(fmr)}{soft}")
    misses = [r[16] for r in results if r[16]] + [f[7] for f in fres if f[7]]
    if misses:
        print(f"pair stage on a miss: p50 {np.median(misses):.0f} ms, "
              f"p95 {np.percentile(misses, 95):.0f} ms ({len(misses)} lookups)")


def _table_head(title: str, rule_columns: str, fres: list[tuple]) -> list[float]:
    """Print a calibration table's title and column heads; the clip lengths of its columns."""
    print()
    print(title)
    lengths = sorted({r[0] for r in fres})
    head = " ".join(f"{'FMR ' + format(s, '.0f') + ' s':>9}" for s in lengths)
    print(f"{rule_columns} {'found':>7} {'wrong':>5} {head}")
    return lengths


def _calibration(results: list[tuple], fres: list[tuple]) -> None:
    """Peak acceptance thresholds against this run's own queries: the share of
    transformed queries whose right work passes, and the false-match rate of the
    unregistered clips (either fingerprint), per rule."""
    lengths = _table_head("calibration of the peak rule (ratio >= base + "
                          "slope/sqrt(considered), matched >= min):",
                          f"{'base':>5} {'min':>4} {'bins':>4} {'extra':>5}", fres)
    results = [r for r in results if r[1] is not None]
    for base, min_matched, bins, extra in itertools.product(
            (0.2, 0.25, 0.3), (12, 14, 16), (6, 8), (4, 8)):
        p = peak_index.PeakSearchParams(ratio_base=base, min_matched=min_matched,
                                        min_distinct_bins=bins, changed_extra_matched=extra)
        ok = sum(1 for r in results if r[9] or (r[8] is not None and _ok(r[8], p)))
        wrong = sum(1 for r in results if r[11] or any(_ok(b, p) for b in r[10]))
        fmr = []
        for s in lengths:
            rows = [r for r in fres if r[0] == s]
            hits = sum(1 for r in rows if r[4] or any(_ok(b, p) for b in r[3]))
            fmr.append(f"{100 * hits / len(rows):>8.2f}%")
        print(f"{base:>5.2f} {min_matched:>4} {bins:>4} {extra:>5} "
              f"{100 * ok / len(results):>6.1f}% {wrong:>5} {' '.join(fmr)}")


def _chroma_accepts(rows: list, g: int, confirm: int | None) -> list[bool]:
    """For each Chromaprint answer under the default rule (``rows[0]``): accepted
    under grid rule ``g``, or (``confirm``) weaker but with the peak fingerprint
    re-finding at least ``confirm`` peaks of the same work at any transform."""
    strict = {row[0] for row in rows[g]}
    return [row[0] in strict or (confirm is not None and row[4] is not None
                                 and row[4][0] >= confirm) for row in rows[0]]  # fmt: skip


def _chroma_calibration(results: list[tuple], fres: list[tuple]) -> None:
    """Chromaprint's thresholds (ber_base, max_ber) with and without the peaks'
    confirmation, the peak rule at its default: found / wrong / false-match rates."""
    lengths = _table_head("calibration of Chromaprint's rule (BER <= min(max_ber, base - "
                          "0.9/sqrt(items))); confirm = a weaker stretch passes when the "
                          "peaks re-find >= N peaks of that work:",
                          f"{'base':>5} {'max':>5} {'held':>5} {'confirm':>7}", fres)
    results = [r for r in results if r[1] is not None]
    for g, confirm in itertools.product(range(len(CHROMA_GRID)), (None, 6, 8, 10)):
        if g == 0 and confirm is not None:
            continue
        ok = wrong = 0
        for r in results:
            acc = _chroma_accepts(r[13], g, confirm)
            ok += any(a and row[1] for a, row in zip(acc, r[13][0], strict=True)) or (
                r[8] is not None and _ok(r[8], DEFAULT))
            wrong += any(a and not row[1] for a, row in zip(acc, r[13][0], strict=True)) or any(
                _ok(b, DEFAULT) for b in r[10])
        fmr = []
        for s in lengths:
            rows = [r for r in fres if r[0] == s]
            hits = sum(1 for r in rows if any(_chroma_accepts(r[5], g, confirm))
                       or any(_ok(b, DEFAULT) for b in r[3]))
            fmr.append(f"{100 * hits / len(rows):>8.2f}%")
        base, top, ref = CHROMA_GRID[g]
        print(f"{base:>5.2f} {top:>5.2f} {ref or '-':>5} {confirm or '-':>7} "
              f"{100 * ok / len(results):>6.1f}% "
              f"{wrong:>5} {' '.join(fmr)}")
