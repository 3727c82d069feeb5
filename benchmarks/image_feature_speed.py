"""Local-feature stage speed: extraction, index size, lookup at scale (issue #17).

    .venv/bin/python benchmarks/image_feature_speed.py [--sizes 20000,100000] [--pg URL]
                                                       [--reuse] [--no-extraction]

``--reuse`` keeps the SQLite file of an earlier run (benchmarks/.cache/feature_speed.db)
and only adds the pictures it lacks: the synthetic fill is deterministic (each
batch of FILL_BATCH pictures seeded by its first work id), so a reused index
holds the same postings as a fresh one when the sizes are multiples of FILL_BATCH.
With ``--reuse`` an index larger than a requested size is measured at its own size.

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


def two_megapixels(img: Image.Image) -> tuple[int, int]:
    """The size of a 2 MP copy of ``img`` at its own aspect ratio. Why not a fixed
    1732 x 1155: the real photos' tiles are near square, and stretching a crop to 3:2
    changed its keypoints' descriptors beyond what ORB matches (session 15: 41 of 60
    stretched queries verified against their own picture alone, 52 of 60 unstretched)."""
    scale = (2_000_000 / (img.width * img.height)) ** 0.5
    return round(img.width * scale), round(img.height * scale)


def p50(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2] * 1000


def extraction(photos: list[Path]) -> None:
    reg, qry = [], []
    for p in photos[:8]:
        img = Image.open(p).convert("RGB")
        big = jpeg(img, (4000, 3000))
        two = jpeg(img, two_megapixels(img))
        t = time.perf_counter()
        F.registration_features(io.BytesIO(big))
        reg.append(time.perf_counter() - t)
        t = time.perf_counter()
        F.query_features(io.BytesIO(two))
        qry.append(time.perf_counter() - t)
    print(f"extraction: registration of a 12 MP JPEG p50 {p50(reg):.0f} ms (target <= 150); "
          f"query features of a 2 MP JPEG p50 {p50(qry):.0f} ms")


#: Synthetic pictures written per batch (one upsert of every posting row per batch:
#: larger batches make the 100,000-picture fill several times faster).
FILL_BATCH = 20000


def fill(conn, pool: np.ndarray, start: int, count: int) -> None:
    batch: list[tuple[int, F.LocalFeatures]] = []
    rng = np.random.default_rng([7, start])
    for wid in range(start, start + count):
        if len(batch) == FILL_BATCH:
            _write(conn, batch)
            batch = []
            rng = np.random.default_rng([7, wid])
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
    _write(conn, batch)


def _write(conn, batch: list[tuple[int, F.LocalFeatures]]) -> None:
    saved = feature_index.INSERT_BATCH
    feature_index.INSERT_BATCH = FILL_BATCH
    try:
        feature_index.add_many(conn, batch)
    finally:
        feature_index.INSERT_BATCH = saved


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
    ap.add_argument("--reuse", action="store_true",
                    help="keep the index of an earlier run and only add the pictures it lacks")
    ap.add_argument("--no-extraction", action="store_true",
                    help="skip the extraction timing of 12 MP / 2 MP JPEGs")
    args = ap.parse_args()
    photos = photo_files(120)
    if not args.no_extraction:
        extraction(photos)
    pool = np.vstack([F.registration_features(p).descriptors for p in photos[20:120]])
    real = photos[:20]
    url = args.pg or f"sqlite:///{args.db}"
    if not args.pg and not args.reuse:
        Path(args.db).unlink(missing_ok=True)
    engine = create_engine(url)
    tables = image_index.TABLES + feature_index.INDEX_TABLES
    with engine.begin() as conn:
        if not args.reuse:
            image_index.metadata.drop_all(conn, tables=tables)
        image_index.metadata.create_all(conn, tables=tables)
    with engine.connect() as conn:
        if not conn.execute(text("SELECT COUNT(*) FROM image_features WHERE work_id >= 10000000")
                            ).scalar():
            for wid, p in enumerate(real, start=10_000_000):
                data = p.read_bytes()
                image_index.add_image(conn, wid, hash_image(load_image(io.BytesIO(data))))
                feature_index.add_features(conn, wid, F.registration_features(io.BytesIO(data)))
            conn.commit()
        filled = int(conn.execute(text(
            "SELECT COALESCE(MAX(work_id), 0) FROM image_features WHERE work_id < 10000000")
        ).scalar())
        for size in [int(s) for s in args.sizes.split(",")]:
            t = time.perf_counter()
            if size > filled:
                fill(conn, pool, filled + 1, size - filled)
                conn.commit()
                filled = size
            fill_s = time.perf_counter() - t
            if conn.dialect.name == "postgresql":
                conn.execute(text("ANALYZE image_feature_postings"))
                conn.commit()
            times, index_times, right = [], [], 0
            for i, p in enumerate(real):
                img = Image.open(p).convert("RGB")
                for name in ("crop40", "collage", "rot45"):
                    variant = Image.open(io.BytesIO(REUSE_VARIANTS[name](
                        img, random.Random(i), [img.rotate(180)] * 3))).convert("RGB")
                    data = jpeg(variant, two_megapixels(variant))
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
            print(f"{engine.dialect.name} {filled + len(real):>7,} pictures: fill {fill_s:.0f} s; "
                  f"lookup p50 {p50(times):.0f} ms (of which index + verification "
                  f"{p50(index_times):.0f} ms); right {right}/{len(times)}; "
                  f"{size_per_picture(conn, filled + len(real)) / 1024:.1f} KiB/picture")


if __name__ == "__main__":
    main()
