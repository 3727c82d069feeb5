"""Local-feature stage speed: extraction, index size, lookup at scale (issue #17).

    .venv/bin/python benchmarks/image_feature_speed.py [--sizes 20000,100000] [--pg URL]

* Extraction: ``registration_features`` of a 12 MP JPEG and ``query_features``
  (upright + mirrored) of a 2 MP JPEG, made from real photos (real_photos.py).
* The index is filled with *real-looking* pictures: each synthetic picture gets
  REGISTERED_KEYPOINTS descriptors drawn at random from the keypoints of real
  photographs (so the bit statistics, and so the LSH buckets, are those of real
  pictures), each with a few random bit flips, at random positions, turns and
  ORB sizes (the geometry the candidate votes are counted by). Then 20 real photos are
  registered for real and looked up under re-use variants.
* ``lookup`` is the in-process pipeline a ``POST /api/v1/lookup`` runs for a
  2 MP JPEG (decode, hashes, hash index, features, feature index, verification),
  without HTTP and without the hash index filled to the same size.
* Size: bytes of ``image_features`` + ``image_feature_postings`` per picture.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from image_corpus import REUSE_VARIANTS  # noqa: E402
from PIL import Image  # noqa: E402
from real_photos import photo_files  # noqa: E402

from registry.core import image_features as F  # noqa: E402
from registry.core.errors import FeaturelessImage  # noqa: E402
from registry.core.image import hash_image, load_image, query_variants  # noqa: E402
from registry.core.matching import feature_index, image_index, picture_search  # noqa: E402


def jpeg(img: Image.Image, size: tuple[int, int], quality: int = 90) -> bytes:
    out = io.BytesIO()
    img.resize(size, Image.Resampling.LANCZOS).save(out, "JPEG", quality=quality)
    return out.getvalue()


def p50(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2] * 1000


def extraction(photos: list[Path]) -> None:
    reg, qry = [], []
    for p in photos[:8]:
        img = Image.open(p).convert("RGB")
        big = jpeg(img, (4000, 3000))
        two = jpeg(img, (1732, 1155))
        t = time.perf_counter()
        F.registration_features(io.BytesIO(big))
        reg.append(time.perf_counter() - t)
        t = time.perf_counter()
        F.query_features(io.BytesIO(two))
        qry.append(time.perf_counter() - t)
    print(f"extraction: registration of a 12 MP JPEG p50 {p50(reg):.0f} ms (target <= 150); "
          f"query features of a 2 MP JPEG p50 {p50(qry):.0f} ms")


def fill(conn, pool: np.ndarray, start: int, count: int, rng: np.random.Generator) -> None:
    batch = []
    for wid in range(start, start + count):
        desc = pool[rng.integers(0, len(pool), F.REGISTERED_KEYPOINTS)].copy()
        flips = rng.integers(0, 256, (len(desc), 6))
        for j in range(flips.shape[1]):
            bit = (1 << (flips[:, j] % 8)).astype(np.uint8)
            desc[np.arange(len(desc)), flips[:, j] // 8] ^= bit
        pts = rng.uniform(0, [1024, 768], (len(desc), 2)).astype(np.float32)
        # orientation and size as ORB gives them: any turn, 8 levels x1.2, 35% at half size
        angles = rng.uniform(0, 360, len(desc)).astype(np.float32)
        sizes = 31 * 1.2 ** rng.integers(0, 8, len(desc)) * np.where(
            rng.random(len(desc)) < F.COARSE_SHARE, 2, 1)
        batch.append((wid, F.LocalFeatures(1024, 768, pts, desc, 4000, 3000, angles=angles,
                                           sizes=sizes.astype(np.float32))))
        if len(batch) == 2000:
            feature_index.add_many(conn, batch)
            batch = []
    feature_index.add_many(conn, batch)


def size_per_picture(conn, n: int) -> float:
    if conn.dialect.name == "postgresql":
        total = conn.execute(text(
            "SELECT pg_total_relation_size('image_features') + "
            "pg_total_relation_size('image_feature_postings')")).scalar()
    else:
        total = conn.execute(text(
            "SELECT SUM(pgsize) FROM dbstat WHERE name IN ('image_features', "
            "'image_feature_postings') OR name LIKE 'sqlite_autoindex_image_feature%'")).scalar()
    return float(total) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="20000,100000")
    ap.add_argument("--pg")
    ap.add_argument("--db", default=str(Path(__file__).parent / ".cache" / "feature_speed.db"))
    args = ap.parse_args()
    photos = photo_files(120)
    extraction(photos)
    pool = np.vstack([F.registration_features(p).descriptors for p in photos[20:120]])
    real = photos[:20]
    url = args.pg or f"sqlite:///{args.db}"
    if not args.pg:
        Path(args.db).unlink(missing_ok=True)
    engine = create_engine(url)
    tables = image_index.TABLES + feature_index.INDEX_TABLES
    with engine.begin() as conn:
        image_index.metadata.drop_all(conn, tables=tables)
        image_index.metadata.create_all(conn, tables=tables)
    rng = np.random.default_rng(7)
    filled = 0
    with engine.connect() as conn:
        for wid, p in enumerate(real, start=10_000_000):
            data = p.read_bytes()
            image_index.add_image(conn, wid, hash_image(load_image(io.BytesIO(data))))
            feature_index.add_features(conn, wid, F.registration_features(io.BytesIO(data)))
        conn.commit()
        for size in [int(s) for s in args.sizes.split(",")]:
            t = time.perf_counter()
            fill(conn, pool, filled + 1, size - filled, rng)
            conn.commit()
            fill_s = time.perf_counter() - t
            filled = size
            if conn.dialect.name == "postgresql":
                conn.execute(text("ANALYZE image_feature_postings"))
                conn.commit()
            times, index_times, right = [], [], 0
            for i, p in enumerate(real):
                img = Image.open(p).convert("RGB")
                for name in ("crop40", "collage", "rot45"):
                    variant = Image.open(io.BytesIO(REUSE_VARIANTS[name](
                        img, random.Random(i), [img.rotate(180)] * 3))).convert("RGB")
                    data = jpeg(variant, (1732, 1155))
                    t = time.perf_counter()
                    try:
                        loaded = load_image(io.BytesIO(data))
                    except FeaturelessImage:  # a flat crop: refused, as the API does
                        continue
                    feats = F.query_features(io.BytesIO(data))
                    t_index = time.perf_counter()
                    found = picture_search.search(conn, query_variants(loaded), lambda f=feats: f,
                                                  query_size=(loaded.width, loaded.height))
                    done = time.perf_counter()
                    times.append(done - t)
                    index_times.append(done - t_index)
                    right += bool(found) and found[0].work_id == 10_000_000 + i
            print(f"{engine.dialect.name} {size + len(real):>7,} pictures: fill {fill_s:.0f} s; "
                  f"lookup p50 {p50(times):.0f} ms (of which index + verification "
                  f"{p50(index_times):.0f} ms); right {right}/{len(times)}; "
                  f"{size_per_picture(conn, size + len(real)) / 1024:.1f} KiB/picture")


if __name__ == "__main__":
    main()
