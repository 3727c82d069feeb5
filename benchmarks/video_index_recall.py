"""Picture-only recall of the frame index on the corpus of ``video_accuracy.py``.

    .venv/bin/python benchmarks/video_index_recall.py               # the 40 videos alone
    .venv/bin/python benchmarks/video_index_recall.py --hours 100   # + 100 synthetic hours

Needs a corpus built by ``benchmarks/video_accuracy.py`` (its excerpts and its
``bench.db`` with the registered videos' stored frames). The frame index is rebuilt
from those frames into its own SQLite file, optionally with synthetic one-hour
videos of random frame hashes around them, and every excerpt's picture (not its
sound) is searched with ``video_index.search`` alone: top-1, located within ±1 s,
and any match for an unregistered excerpt. Query hashes are cached in
``queries.pkl`` next to the corpus (a second run only searches).
"""

from __future__ import annotations

import argparse
import pickle
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from registry.core.matching import video_index  # noqa: E402
from registry.core.media import MediaLimits  # noqa: E402
from registry.core.sql import metadata  # noqa: E402
from registry.core.video import FrameHashes, query_frames  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "video"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="40+20x30s")
    parser.add_argument("--videos", type=int, default=40, help="registered videos")
    parser.add_argument("--hours", type=float, default=0.0, help="synthetic filler")
    args = parser.parse_args()
    corpus = CACHE / args.corpus
    cached = corpus / "queries.pkl"
    queries = pickle.loads(cached.read_bytes()) if cached.exists() else {}
    for path in sorted(corpus.glob("q*.mp4")):
        m = re.match(r"q(\d+)-(\w+?)-([\d.]+)\.mp4", path.name)
        if not m or m[2] == "silent_audio_only" or (m[2], int(m[1])) in queries:
            continue
        queries[m[2], int(m[1])] = float(m[3]), query_frames(path, MediaLimits()).frames
    cached.write_bytes(pickle.dumps(queries))
    with sa.create_engine(f"sqlite:///{corpus / 'bench.db'}").connect() as conn:
        works = [(w, FrameHashes.from_bytes(bytes(b))) for w, b in conn.execute(
            sa.select(video_index.video_works.c.work_id, video_index.video_works.c.frames))]
    engine = sa.create_engine(f"sqlite:///{corpus / 'recall.db'}")
    metadata.drop_all(engine, tables=video_index.TABLES)
    metadata.create_all(engine, tables=video_index.TABLES)
    rng = np.random.default_rng(3)
    with engine.begin() as conn:
        for work_id, frames in works:
            video_index.add_video(conn, work_id, frames)
        for k in range(int(args.hours)):
            video_index.add_raw_frames(conn, [(1000 + k, FrameHashes(
                np.arange(3600, dtype=np.float32), np.zeros(3600, dtype=np.uint8),
                rng.integers(0, 256, (3600, 32), dtype=np.uint8), 3600.0))])
    table: dict[str, list[int]] = {}
    times, misses = [], []
    with engine.connect() as conn:
        for (variant, i), (start, query) in sorted(queries.items()):
            t = time.perf_counter()
            found = video_index.search(conn, query)
            times.append(time.perf_counter() - t)
            row = table.setdefault(variant, [0, 0, 0])
            if i >= args.videos:
                row[2] += bool(found)
            elif found and found[0].work_id == i + 1:
                row[0] += 1
                row[1] += abs(found[0].work_start - start) <= 1.0
            else:
                misses.append(f"{variant} v{i:03d}: "
                              + (f"video {found[0].work_id}" if found else "nothing"))
    print(f"{len(works)} videos + {args.hours:g} synthetic hours; {len(queries)} excerpts")
    print(f"{'variant':<19}{'top-1':>8}{'±1 s':>8}{'false':>8}")
    for variant, (ok, located, false) in table.items():
        print(f"{variant:<19}{ok / args.videos:>8.1%}{located / args.videos:>8.1%}{false:>8d}")
    print(f"search p50 {statistics.median(times) * 1000:.1f} ms")
    print("misses:" if misses else "no misses", *misses, sep="\n  ")


if __name__ == "__main__":
    main()
