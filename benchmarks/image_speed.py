"""Image engine speed: hashing per picture size, index queries on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/image_speed.py [--quick] [--pg URL] [--sizes 10000,100000]

1. Decode + hash time for JPEGs of 2, 12 and 24 megapixels (median of runs).
2. Index query latency: the index is filled with random 64-bit rows (one row
   per registered picture window) up to each size; the queries are real
   pHashes of corpus pictures (also registered, so there are hits). Each
   radius-10 ``hamming_within`` is timed beside a brute-force numpy scan of
   the same values, and a full ``search`` (all query variants, pHash and
   wHash) is timed too.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from image_corpus import CACHE, encode, scene  # noqa: E402

from registry.core.image import (  # noqa: E402
    hash_image,
    load_image,
    query_variants,
)
from registry.core.matching import image_index as ix  # noqa: E402
from registry.core.sql import use_sqlite_pragmas  # noqa: E402

MEGAPIXEL_SIZES = {2: (1632, 1224), 12: (4000, 3000), 24: (6000, 4000)}


def big_jpeg(mp: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"photo_{mp}mp.jpg"
    if not path.exists():
        w, h = MEGAPIXEL_SIZES[mp]
        small = scene(7, (w // 4, h // 4)).resize((w, h))
        rng = np.random.default_rng(mp)
        arr = np.asarray(small, np.float32) + rng.normal(0, 4, (h, w, 1)).astype(np.float32)
        from PIL import Image

        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, quality=90)
    return path


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def hashing_table(runs: int) -> None:
    print("\n## Hashing time per picture (JPEG, median of", runs, "runs)\n")
    print(f"{'size':>6} {'pixels':>11} {'load ms':>8} {'hash ms':>8} {'total ms':>9} "
          f"{'variants ms':>12}")
    for mp in MEGAPIXEL_SIZES:
        path = big_jpeg(mp)
        loads, hashes, variants = [], [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            loaded = load_image(path, max_pixels=80_000_000)
            t1 = time.perf_counter()
            hash_image(loaded)
            t2 = time.perf_counter()
            query_variants(loaded)
            t3 = time.perf_counter()
            loads.append((t1 - t0) * 1000)
            hashes.append((t2 - t1) * 1000)
            variants.append((t3 - t2) * 1000)
        lo, ha = statistics.median(loads), statistics.median(hashes)
        w, h = MEGAPIXEL_SIZES[mp]
        print(f"{mp:>4}MP {w * h:>11,} {lo:8.1f} {ha:8.1f} {lo + ha:9.1f} "
              f"{statistics.median(variants):12.1f}")


def real_queries(n: int) -> list:
    out = []
    for seed in range(n):
        img = scene(50_000 + seed)
        import io

        loaded = load_image(io.BytesIO(encode(img, quality=90)), max_pixels=80_000_000)
        out.append((hash_image(loaded), query_variants(loaded)))
    return out


def fill(engine: Engine, start: int, stop: int, rng: random.Random) -> tuple[float, list[int]]:
    """Index random values for rows ``start..stop``; (seconds, the values)."""
    t0 = time.perf_counter()
    batch = 100_000
    values: list[int] = []
    with engine.begin() as conn:
        for lo in range(start, stop, batch):
            hi = min(stop, lo + batch)
            rows = [(1_000_000_000 + i, 0, rng.getrandbits(64)) for i in range(lo, hi)]
            ix.add_raw_hashes(conn, rows)
            values += [v for _, _, v in rows]
    return time.perf_counter() - t0, values


def index_table(name: str, engine: Engine, sizes: list[int], queries: list, n_runs: int) -> None:
    print(f"\n## Index on {name}: radius-10 query, one value, real pHash queries\n")
    print(f"{'rows':>10} {'fill s':>7} {'p50 ms':>7} {'p95 ms':>7} {'numpy p50':>10} "
          f"{'ratio':>6} {'hits':>5} {'search p50':>11} {'search p95':>11}")
    with engine.begin() as conn:
        ix.metadata.drop_all(conn, tables=ix.TABLES)
        ix.metadata.create_all(conn, tables=ix.TABLES)
        for i, (hashes, _) in enumerate(queries):
            ix.add_image(conn, i + 1, hashes)
    rng = random.Random(7)
    indexed = [value for hashes, _ in queries for _, _, value in hashes.indexed()]
    present = len(indexed)
    filled = 0
    for size in sizes:
        fill_s, added = fill(engine, filled, size, rng)
        filled = size
        indexed += added
        if engine.dialect.name == "postgresql":
            # What autovacuum does after a bulk load: statistics, dead versions.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE image_chunk_postings"))
        values = np.array(indexed, dtype=np.uint64)
        times, np_times, search_times, hits = [], [], [], 0
        with engine.connect() as conn:
            for _ in range(n_runs):
                for hashes, variants in queries:
                    q = hashes.phash
                    t0 = time.perf_counter()
                    found = ix.hamming_within(conn, q, 10)
                    t1 = time.perf_counter()
                    brute = np.flatnonzero(np.bitwise_count(values ^ np.uint64(q)) <= 10)
                    t2 = time.perf_counter()
                    ix.search(conn, variants)
                    t3 = time.perf_counter()
                    assert len(found) == len(brute), (len(found), len(brute))
                    hits += len(found)
                    times.append((t1 - t0) * 1000)
                    np_times.append((t2 - t1) * 1000)
                    search_times.append((t3 - t2) * 1000)
        p50, np50 = pct(times, 0.5), pct(np_times, 0.5)
        print(f"{size + present:>10,} {fill_s:7.1f} {p50:7.2f} {pct(times, 0.95):7.2f} "
              f"{np50:10.2f} {p50 / np50:6.2f} {hits / len(times):5.1f} "
              f"{pct(search_times, 0.5):11.1f} {pct(search_times, 0.95):11.1f}")
    with engine.begin() as conn:
        ix.metadata.drop_all(conn, tables=ix.TABLES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/image_eng")
    parser.add_argument("--sizes", help="comma-separated random fill sizes")
    parser.add_argument("--skip-hash", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    if not args.skip_hash:
        hashing_table(3 if args.quick else 7)
    queries = real_queries(10 if args.quick else 25)
    n_runs = 2 if args.quick else 4
    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / "image_speed.sqlite"
    db.unlink(missing_ok=True)
    engines = [] if args.skip_sqlite else [("SQLite", create_engine(f"sqlite:///{db}"))]
    for _, engine in engines:
        use_sqlite_pragmas(engine)  # as the application opens it
    if not args.skip_pg:
        engines.append(("PostgreSQL", create_engine(args.pg)))
    for name, engine in engines:
        index_table(name, engine, sizes, queries, n_runs)
        engine.dispose()
    db.unlink(missing_ok=True)
    print("\nrows = random fill + the registered corpus rows; ratio = index p50 / numpy p50;")
    print("search = all query variants (pHash + wHash), probe + verification.")


if __name__ == "__main__":
    main()
