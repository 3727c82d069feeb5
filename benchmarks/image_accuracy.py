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

from registry.core.image import hash_image, load_image, query_variants  # noqa: E402
from registry.core.matching import image_index  # noqa: E402


def load_bytes(data: bytes):
    return load_image(io.BytesIO(data), max_pixels=80_000_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--refs", type=int)
    parser.add_argument("--distractors", type=int)
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
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
        for work_id, img in enumerate(refs, start=1):
            loaded = load_bytes(encode(img, quality=92))
            image_index.add_image(conn, work_id, hash_image(loaded))
        reg_ms = (time.perf_counter() - t0) * 1000 / len(refs)

        correct: Counter[str] = Counter()
        labels: dict[str, Counter[str]] = defaultdict(Counter)
        wrong_hits = 0
        failures = []
        query_ms = []
        for work_id, img in enumerate(refs, start=1):
            for name, transform in TRANSFORMS.items():
                t1 = time.perf_counter()
                matches = image_index.search(conn, query_variants(load_bytes(transform(img))))
                query_ms.append((time.perf_counter() - t1) * 1000)
                top = matches[0] if matches else None
                if top is not None and top.work_id == work_id:
                    correct[name] += 1
                    labels[name][str(top.transformation)] += 1
                else:
                    failures.append((name, work_id, top))
                wrong_hits += sum(1 for m in matches if m.work_id != work_id)

        dis_queries = dis_false = 0
        for img in distractors:
            for transform in [lambda im: encode(im, quality=90), *TRANSFORMS.values()]:
                matches = image_index.search(conn, query_variants(load_bytes(transform(img))))
                dis_queries += 1
                dis_false += bool(matches)

    n = len(refs)
    print(f"\nregistration: {reg_ms:.1f} ms/picture (decode + hash + index)")
    query_ms.sort()
    print(f"query (decode + variants + search): p50 {query_ms[len(query_ms) // 2]:.1f} ms")
    print(f"\n{'transformation':<14} {'top-1':>7} {'target':>7}  ok  labels")
    for name in TRANSFORMS:
        acc = correct[name] / n
        ok = "yes" if acc >= TARGETS[name] else "NO"
        lab = ", ".join(f"{k}:{v}" for k, v in labels[name].most_common(3))
        print(f"{name:<14} {acc:7.1%} {TARGETS[name]:7.0%}  {ok:<3} {lab}")
    print(f"\ndistractor queries: {dis_queries}, with any match: {dis_false} "
          f"({dis_false / dis_queries:.2%}, target <= 0.5%)")
    total_ref_queries = n * len(TRANSFORMS)
    print(f"wrong works returned beside reference queries: {wrong_hits} "
          f"in {total_ref_queries} queries ({wrong_hits / total_ref_queries:.2%})")
    if args.show_failures:
        for name, work_id, top in failures:
            print("FAIL", name, work_id, top)


if __name__ == "__main__":
    main()
