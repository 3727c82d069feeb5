"""Image engine accuracy: top-1 per transformation and false matches on distractors.

    .venv/bin/python benchmarks/image_accuracy.py [--quick] [--refs N] [--distractors N]

References are procedurally drawn photo-like scenes (plus sample pictures that
installed packages ship); they are registered in a SQLite index through the
public API. Every reference is then transformed in every way the issue lists
and searched; distractors (never registered) are searched the same way and
any match they get is a false match.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from image_corpus import TARGETS, TRANSFORMS, encode, sample_pictures, scene  # noqa: E402

from registry.core.image import (  # noqa: E402
    INDEXED_WINDOWS,
    PHASH_RADIUS,
    ImageHashes,
    QueryHashes,
    hash_image,
    load_image,
    query_variants,
    window_distances,
)
from registry.core.matching import image_index  # noqa: E402


def load_bytes(data: bytes):
    return load_image(io.BytesIO(data), max_pixels=80_000_000)


def _best_mean(query: QueryHashes, ref: ImageHashes) -> float:
    """Smallest mean distance over the (variant, window) pairs the index would find."""
    best = 99.0
    for v in query.variants:
        for name in INDEXED_WINDOWS:
            w = ref.windows.get(name)
            if w is None:
                continue
            d = window_distances(v.hashes, w)
            if min(d["phash"], d["whash"]) <= PHASH_RADIUS:
                best = min(best, sum(d.values()) / 3)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--refs", type=int)
    parser.add_argument("--distractors", type=int)
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--only", help="comma-separated transformations to run")
    parser.add_argument("--margins", action="store_true", help="print distractor margins")
    args = parser.parse_args()
    transforms = TRANSFORMS
    if args.only:
        transforms = {k: TRANSFORMS[k] for k in args.only.split(",")}
    n_refs = args.refs or (40 if args.quick else 110)
    n_dis = args.distractors or (20 if args.quick else 50)

    refs = [scene(seed) for seed in range(n_refs)]
    refs += sample_pictures(limit=6 if args.quick else 15)
    distractors = [scene(100_000 + seed) for seed in range(n_dis)]
    print(f"{len(refs)} references, {len(distractors)} distractors, {len(TRANSFORMS)} transforms")

    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        image_index.metadata.create_all(conn, tables=image_index.TABLES)
        t0 = time.perf_counter()
        registered: list[ImageHashes] = []
        dis_best: list[float] = []
        for work_id, img in enumerate(refs, start=1):
            loaded = load_bytes(encode(img, quality=92))
            registered.append(hash_image(loaded))
            image_index.add_image(conn, work_id, registered[-1])
        reg_ms = (time.perf_counter() - t0) * 1000 / len(refs)

        correct: Counter[str] = Counter()
        labels: dict[str, Counter[str]] = defaultdict(Counter)
        wrong_hits = 0
        wrong_lines: list[tuple] = []
        failures = []
        query_ms = []
        for work_id, img in enumerate(refs, start=1):
            for name, transform in transforms.items():
                t1 = time.perf_counter()
                matches = image_index.search(conn, query_variants(load_bytes(transform(img))))
                query_ms.append((time.perf_counter() - t1) * 1000)
                top = matches[0] if matches else None
                if top is not None and top.work_id == work_id:
                    correct[name] += 1
                    labels[name][str(top.transformation)] += 1
                else:
                    failures.append((name, work_id, top))
                wrong = [m for m in matches if m.work_id != work_id]
                wrong_hits += len(wrong)
                wrong_lines.extend((name, work_id, m) for m in wrong)

        dis_queries = dis_false = 0
        dis_lines: list[tuple] = []
        for img in distractors:
            for transform in [lambda im: encode(im, quality=90), *transforms.values()]:
                query = query_variants(load_bytes(transform(img)))
                matches = image_index.search(conn, query)
                if args.margins:
                    dis_best.append(min(_best_mean(query, h) for h in registered))
                dis_queries += 1
                dis_false += bool(matches)
                dis_lines.extend(("distractor", m) for m in matches)

    n = len(refs)
    print(f"\nregistration: {reg_ms:.1f} ms/picture (decode + hash + index)")
    query_ms.sort()
    print(f"query (decode + variants + search): p50 {query_ms[len(query_ms) // 2]:.1f} ms")
    print(f"\n{'transformation':<14} {'top-1':>7} {'target':>7}  ok  labels")
    for name in transforms:
        acc = correct[name] / n
        ok = "yes" if acc >= TARGETS[name] else "NO"
        lab = ", ".join(f"{k}:{v}" for k, v in labels[name].most_common(3))
        print(f"{name:<14} {acc:7.1%} {TARGETS[name]:7.0%}  {ok:<3} {lab}")
    print(f"\ndistractor queries: {dis_queries}, with any match: {dis_false} "
          f"({dis_false / dis_queries:.2%}, target <= 0.5%)")
    total_ref_queries = n * len(transforms)
    print(f"wrong works returned beside reference queries: {wrong_hits} "
          f"in {total_ref_queries} queries ({wrong_hits / total_ref_queries:.2%})")
    if dis_best:
        dis_best.sort()
        print("closest distractor pairs (mean distance, index-near only):", dis_best[:15])
    if args.show_failures:
        for name, work_id, top in failures:
            print("FAIL", name, work_id, top)
        for line in wrong_lines + dis_lines:
            print("WRONG", *line)


if __name__ == "__main__":
    main()
