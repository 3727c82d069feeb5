"""What a lookup that finds nothing costs: CPU time of unregistered pictures.

    taskset -c 0 nice .venv/bin/python benchmarks/image_miss_cost.py [--refs 300] [--misses 40]
        [--modes reserve0,reserve24,screened,all-screened] [--rounds 2] [--profile MODE]

Registers ``--refs`` real photos (benchmarks/real_photos.py) as
``image_accuracy.py --real`` does (hashes and local features, SQLite in memory),
then looks up ``--misses`` unregistered pictures (other sources), each as a JPEG
(quality 90) and as an off-centre crop keeping 40 % of the area: most public
lookups are of pictures nobody registered. Every lookup is timed in CPU time of
the process (``time.process_time``: OpenCV's threads included), so a job on the
other core does not inflate it; wall time is printed too.

Modes (the same queries, alternated round by round so that drift hits all alike):

* ``reserve0``: no reserve (``feature_index.RESERVE_CANDIDATES`` = 0), the cost
  before session 10;
* ``reserve24``: the reserve verified in full (session 10);
* ``screened``: the reserve screened first (``feature_index.RESERVE_SCREEN``),
  session 11; ``screened/N/T`` with ``SCREEN_KEYPOINTS`` N and ``SCREEN_PAIRS`` T;
* ``all-screened``: the first candidates screened too
  (``feature_index.CANDIDATE_SCREEN``), session 14: the search now.

Every mode's answers are compared with ``reserve24``'s (work ids in order): a
screen that changed an answer is reported.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from image_accuracy import _split_sources, load_bytes  # noqa: E402
from image_corpus import crop_offcentre, encode  # noqa: E402
from PIL import Image  # noqa: E402
from real_photos import all_photo_files  # noqa: E402

from registry.core import image_features  # noqa: E402
from registry.core.errors import FeaturelessImage  # noqa: E402
from registry.core.image import hash_image, query_variants  # noqa: E402
from registry.core.matching import feature_index, image_index, picture_search  # noqa: E402

MODES = ("reserve0", "reserve24", "screened", "all-screened")


@contextmanager
def mode(name: str) -> Iterator[None]:
    """The search as it was (reserve0, reserve24) or is (screened; ``screened/N/T``:
    with SCREEN_KEYPOINTS N and SCREEN_PAIRS T)."""
    fx = feature_index
    saved = (fx.RESERVE_CANDIDATES, fx.RESERVE_SCREEN, fx.SCREEN_KEYPOINTS, fx.SCREEN_PAIRS,
             fx.CANDIDATE_SCREEN)
    fx.RESERVE_CANDIDATES = 0 if name == "reserve0" else saved[0]
    fx.RESERVE_SCREEN = "screened" in name
    fx.CANDIDATE_SCREEN = name == "all-screened"
    if name.startswith("screened/"):
        n, t = name.split("/")[1:]
        fx.SCREEN_KEYPOINTS, fx.SCREEN_PAIRS = int(n), int(t)
    try:
        yield
    finally:
        (fx.RESERVE_CANDIDATES, fx.RESERVE_SCREEN, fx.SCREEN_KEYPOINTS, fx.SCREEN_PAIRS,
         fx.CANDIDATE_SCREEN) = saved


def register(conn: Connection, paths: list[Path]) -> None:
    for work_id, path in enumerate(paths, start=1):
        data = path.read_bytes()
        image_index.add_image(conn, work_id, hash_image(load_bytes(data)))
        feature_index.add_features(conn, work_id, image_features.registration_features(
            io.BytesIO(data)))
    conn.commit()


def lookup(conn: Connection, data: bytes) -> list[int]:
    try:
        loaded = load_bytes(data)
    except FeaturelessImage:
        return []
    found = picture_search.search(
        conn, query_variants(loaded), lambda: image_features.query_features(io.BytesIO(data)),
        query_size=(loaded.width, loaded.height))
    return [m.work_id for m in found]


def queries(paths: list[Path]) -> list[tuple[str, bytes]]:
    out = []
    for i, path in enumerate(paths):
        img = Image.open(path).convert("RGB")
        out.append((f"{path.name}:jpeg", encode(img, quality=90)))
        out.append((f"{path.name}:crop40", crop_offcentre(img, random.Random(10_000 + i))))
    return out


def timed(conn: Connection, data: bytes) -> tuple[float, float, list[int]]:
    w0, c0 = time.perf_counter(), time.process_time()
    found = lookup(conn, data)
    return time.process_time() - c0, time.perf_counter() - w0, found


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--refs", type=int, default=300)
    parser.add_argument("--misses", type=int, default=40)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", help="profile this mode's lookups (one round) and stop")
    args = parser.parse_args()
    reg, unreg = _split_sources(all_photo_files(), args.refs, 150)
    engine = create_engine("sqlite://")
    tables = image_index.TABLES + feature_index.INDEX_TABLES
    with engine.begin() as setup:
        image_index.metadata.create_all(setup, tables=tables)
    conn = engine.connect()
    t0 = time.perf_counter()
    register(conn, reg)
    print(f"{len(reg)} registered in {time.perf_counter() - t0:.0f} s; "
          f"{args.misses} unregistered pictures x (jpeg, crop40)")
    qs = queries(unreg[: args.misses])
    for _, data in qs[:4]:  # warm-up: imports, OpenCV's first calls
        lookup(conn, data)
    if args.profile:
        run_profile(conn, qs, args.profile)
        return
    modes = args.modes.split(",")
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    wall: dict[str, list[float]] = {m: [] for m in modes}
    answers: dict[str, dict[str, list[int]]] = {m: {} for m in modes}
    for r in range(args.rounds):
        for m in modes if r % 2 == 0 else modes[::-1]:
            with mode(m):
                for name, data in qs:
                    c, w, found = timed(conn, data)
                    cpu[m].append(c)
                    wall[m].append(w)
                    answers[m][name] = found
    print("\n| mode | lookups | CPU p50 | CPU p95 | CPU mean | wall p50 | answers with a match |")
    print("|---|---|---|---|---|---|---|")
    for m in modes:
        hits = sum(bool(a) for a in answers[m].values())
        print(f"| {m} | {len(cpu[m])} | {pct(cpu[m], .5):.0f} ms | {pct(cpu[m], .95):.0f} ms "
              f"| {statistics.mean(cpu[m]) * 1000:.0f} ms | {pct(wall[m], .5):.0f} ms | {hits} |")
    if "reserve24" in answers:
        for m in modes:
            differ = [n for n in answers[m] if answers[m][n] != answers["reserve24"][n]]
            print(f"{m}: {len(differ)} answers differ from reserve24 {differ[:10]}")


def run_profile(conn: Connection, qs: list[tuple[str, bytes]], name: str) -> None:
    prof = cProfile.Profile()

    def run() -> None:
        for _, data in qs:
            lookup(conn, data)

    with mode(name):
        prof.runcall(run)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
