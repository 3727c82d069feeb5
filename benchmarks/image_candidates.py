"""Candidate stage of the local-feature index: where the right work ranks.

    .venv/bin/python benchmarks/image_candidates.py [--refs 60] [--fill 0]
        [--only quadrant,crop40,rot15,collage,screenshot]

The real-photo corpus (benchmarks/real_photos.py) is registered in an in-memory
SQLite feature index (``--fill`` more registered tiles of the same sources as
extra works that no query is about); every registered picture is then re-used
as each variant and its query features go through the index. Per variant:
how many queries have the right work among the ``CANDIDATES`` verified (and in
the top 3, and first), ranked by the Hough-cell votes (:func:`feature_index.votes`)
and by the raw votes of before (``votes(..., geometric=False)``). No
verification runs: this isolates the ranking.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from pathlib import Path

import cv2
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from image_accuracy import _split_sources  # noqa: E402
from image_corpus import REUSE_VARIANTS  # noqa: E402
from real_photos import all_photo_files  # noqa: E402

from registry.core import image_features  # noqa: E402
from registry.core.matching import feature_index  # noqa: E402


def rank(counted: dict[int, int], work_id: int) -> int:
    """1-based rank of ``work_id`` as ``search`` orders candidates (no vote: past the end)."""
    mine = counted.get(work_id, 0)
    if mine < feature_index.MIN_VOTES:
        return 10**6
    return 1 + sum(1 for w, v in counted.items() if v > mine or (v == mine and w < work_id))


def main() -> None:
    from PIL import Image

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--refs", type=int, default=60)
    parser.add_argument("--fill", type=int, default=0)
    parser.add_argument("--only", default="quadrant,crop40,rot15,collage,screenshot")
    parser.add_argument("--show", action="store_true",
                        help="print the queries whose right work is not a candidate")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    registered, unregistered = _split_sources(all_photo_files(), 10**6, 30)
    paths = registered[: args.refs + args.fill]
    engine = create_engine("sqlite://")
    conn = engine.connect()
    feature_index.metadata.create_all(conn, tables=feature_index.INDEX_TABLES)
    for work_id, path in enumerate(paths, start=1):
        feats = image_features.registration_features(io.BytesIO(path.read_bytes()))
        feature_index.add_features(conn, work_id, feats)
    conn.commit()
    fill = [Image.open(p).convert("RGB") for p in unregistered[-3:]]
    names = args.only.split(",")
    stats: dict[str, dict[str, list[int]]] = {n: {"hough": [], "raw": []} for n in names}
    seconds: list[float] = []
    for work_id, path in enumerate(paths[: args.refs], start=1):
        img = Image.open(path).convert("RGB")
        r = random.Random(work_id)  # the same variants as image_accuracy.py --real
        for name, fn in REUSE_VARIANTS.items():
            data = fn(img, r, fill)
            if name not in stats:
                continue
            query = image_features.query_features(io.BytesIO(data))
            t0 = time.perf_counter()
            counted = feature_index.votes(conn, query)
            seconds.append(time.perf_counter() - t0)
            stats[name]["hough"].append(rank(counted, work_id))
            if args.show and stats[name]["hough"][-1] > feature_index.CANDIDATES:
                best = sorted(counted.values(), reverse=True)[:3]
                print(f"{name} {path.name}: rank {stats[name]['hough'][-1]}, "
                      f"{counted.get(work_id, 0)} votes; best {best}")
            plain = feature_index.votes(conn, query, geometric=False)
            stats[name]["raw"].append(rank(plain, work_id))
    conn.close()
    top = feature_index.CANDIDATES
    print(f"{args.refs} queried works, {len(paths)} registered; right work among the "
          f"{top} candidates / top 3 / first")
    print(f"votes() p50 {sorted(seconds)[len(seconds) // 2] * 1000:.1f} ms (SQLite in memory)")
    print("\n| variant | raw votes | Hough cells |\n|---|---|---|")
    for name in names:
        cols = []
        for how in ("raw", "hough"):
            ranks = stats[name][how]
            cols.append(f"{sum(x <= top for x in ranks)} / {sum(x <= 3 for x in ranks)} / "
                        f"{sum(x == 1 for x in ranks)} of {len(ranks)}")
        print(f"| {name} | {cols[0]} | {cols[1]} |")


if __name__ == "__main__":
    main()
