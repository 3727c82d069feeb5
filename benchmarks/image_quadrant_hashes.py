"""Corner-quadrant search windows (issue #17): hash distances, right against wrong.

The real-photo split of ``image_accuracy.py --real`` (registered and unregistered
pictures from disjoint sources). Every registered picture's four corner quarters
(JPEG q88, as ``image_corpus.quadrant`` makes them) are hashed as queries; each is
compared with its own quadrant window (right) and with every other work's quadrant
windows (wrong); the unregistered pictures, under every re-use variant, are
compared with all quadrant windows (wrong). Prints, for each acceptance rule
given, how many right quarters it accepts and how many wrong queries it lets
through (the nearest wrong window of each query, among the index-near ones):

    .venv/bin/python benchmarks/image_quadrant_hashes.py [--refs 300] [--distractors 150]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from image_accuracy import _split_sources, load_bytes  # noqa: E402
from image_corpus import REUSE_VARIANTS, encode  # noqa: E402
from PIL import Image  # noqa: E402
from real_photos import all_photo_files  # noqa: E402

from registry.core import image  # noqa: E402
from registry.core.errors import FeaturelessImage  # noqa: E402
from registry.core.image import (  # noqa: E402
    PHASH_RADIUS,
    QUADRANT_WINDOWS,
    hash_image,
    query_variants,
)

#: (max pHash, max pHash + dHash, max mean) rules to compare.
RULES = [(16, 26, 12.0), (12, 22, 10.0), (10, 20, 9.0), (9, 19, 8.5), (8, 18, 8.0),
         (8, 16, 7.0), (6, 14, 6.0), (6, 12, 5.0)]


def _bits(values: np.ndarray, q: int) -> np.ndarray:
    return np.bitwise_count(values ^ np.uint64(q)).astype(np.int32)


def distances(table: np.ndarray, q: tuple[int, int, int]) -> np.ndarray:
    """(rows, 3) pHash, dHash, wHash distances of one query to every window."""
    return np.stack([_bits(table[:, k], q[k]) for k in range(3)], axis=1)


def accepted(d: np.ndarray, rule: tuple[int, int, float]) -> np.ndarray:
    near = np.minimum(d[:, 0], d[:, 2]) <= PHASH_RADIUS
    return (near & (d[:, 0] <= rule[0]) & (d[:, 0] + d[:, 1] <= rule[1])
            & (d.sum(axis=1) / 3 <= rule[2]))


def quarters(img: Image.Image) -> dict[str, bytes]:
    w, h = img.size
    out = {}
    for name, (left, top) in QUADRANT_WINDOWS.items():
        x, y = int(left * 2) * w // 2, int(top * 2) * h // 2
        out[name] = encode(img.crop((x, y, x + w // 2, y + h // 2)), quality=88)
    return out


def base_hash(data: bytes, min_std: float) -> tuple[int, int, int] | None:
    try:
        loaded = image.load_image(io.BytesIO(data), max_pixels=80_000_000, min_std=min_std)
        v = query_variants(loaded).variants[0].hashes
    except FeaturelessImage:
        return None
    return v.phash, v.dhash, v.whash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--refs", type=int, default=300)
    parser.add_argument("--distractors", type=int, default=150)
    parser.add_argument("--featureless-std", type=float,
                        help="flat-query refusal (default: image.QUERY_FEATURELESS_STD)")
    args = parser.parse_args()
    min_std = image.QUERY_FEATURELESS_STD if args.featureless_std is None else args.featureless_std
    reg, unreg = _split_sources(all_photo_files(), args.refs, args.distractors)
    rows, owners, names = [], [], []
    for work_id, path in enumerate(reg, start=1):
        hashes = hash_image(load_bytes(path.read_bytes()))
        for name, w in sorted(hashes.search_windows.items()):
            rows.append((w.phash, w.dhash, w.whash))
            owners.append(work_id)
            names.append(name)
    table = np.array(rows, dtype=np.uint64)
    owner = np.array(owners)
    right: list[np.ndarray] = []  # the right window's distances
    wrong: list[np.ndarray] = []  # (rows, 3) distances of every wrong window of a query
    featureless = 0
    for work_id, path in enumerate(reg, start=1):
        img = Image.open(path).convert("RGB")
        for name, data in quarters(img).items():
            q = base_hash(data, min_std)
            if q is None:
                featureless += 1
                continue
            d = distances(table, q)
            mine = (owner == work_id) & (np.array(names) == name)
            right.append(d[mine][0])
            grey = Image.open(io.BytesIO(data)).convert("L")
            std = float(np.asarray(grey, dtype=np.float32).std())
            if std < 4.0:
                print(f"smooth quarter {path.name} {name}: grey std {std:.2f}, right "
                      f"{d[mine][0].tolist()}, nearest wrong "
                      f"{d[owner != work_id][np.argmin(d[owner != work_id].sum(axis=1))].tolist()}")
            wrong.append(d[owner != work_id])
    fill = [Image.open(p).convert("RGB") for p in unreg[-3:]]
    for i, path in enumerate(unreg):
        img = Image.open(path).convert("RGB")
        r = random.Random(10_000 + i)
        for data in [encode(img, quality=90)] + [fn(img, r, fill) for fn in
                                                  REUSE_VARIANTS.values()]:
            q = base_hash(data, min_std)
            if q is not None:
                wrong.append(distances(table, q))
    report(np.array(right), wrong, featureless)


def report(right: np.ndarray, wrong: list[np.ndarray], featureless: int) -> None:
    n_reg_q = len(right)
    print(f"{n_reg_q} registered quarters as queries ({featureless} refused as featureless), "
          f"{len(wrong)} queries compared with wrong windows")
    for label, col in (("pHash", 0), ("dHash", 1), ("wHash", 2)):
        print(f"right {label}: percentiles 50/80/90/95/99 "
              f"{np.percentile(right[:, col], [50, 80, 90, 95, 99]).round(1).tolist()}")
    best_wrong = np.array([d[np.argmin(d.sum(axis=1))] for d in wrong])
    print("wrong (nearest by sum): pHash smallest 10",
          np.sort(best_wrong[:, 0])[:10].tolist(), "mean smallest 10",
          np.sort(best_wrong.sum(axis=1) / 3)[:10].round(1).tolist())
    pairs = sum(len(d) for d in wrong)
    print("\n| rule (pHash, pHash+dHash, mean) | right quarters accepted | queries with a wrong "
          f"window accepted | wrong (query, window) pairs accepted, of {pairs:,} |")
    print("|---|---|---|---|")
    for rule in RULES:
        ok = int(accepted(right, rule).sum())
        hits = [int(accepted(d, rule).sum()) for d in wrong]
        bad = sum(h > 0 for h in hits)
        print(f"| {rule} | {ok}/{n_reg_q} ({ok / n_reg_q:.1%}) | {bad}/{len(wrong)} "
              f"| {sum(hits)} |")


if __name__ == "__main__":
    main()
