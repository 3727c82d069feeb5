"""The local-feature search alone, in process, on ``lookup_speed.py``'s database.

    CI= .venv/bin/python benchmarks/lookup_speed.py --db sqlite --pictures 100000 --recordings 0
    taskset -c 0 .venv/bin/python benchmarks/image_search_stage.py [--db sqlite|postgres]
        [--rounds 4] [--modes screened,all-screened] [--profile MODE]

Reads the 2 MP JPEG queries ``lookup_speed.py --pictures`` made (crops, collages,
screenshots and quadrants of its 8 registered real photos, and 4 real photos that are
not registered) from ``benchmarks/.cache/lookup/``, extracts their query features
once, and times ``feature_index.search`` on the 100,000-picture index, the part of
an HTTP lookup that grows with the index. Modes alternate round by round:

* ``screened``: the first candidates verified in full, the reserve screened
  (sessions 11-13);
* ``all-screened``: the first candidates screened too
  (``feature_index.CANDIDATE_SCREEN``, session 14); ``all-screened/T`` with
  ``CANDIDATE_SCREEN_PAIRS`` T.

Prints, per query, the p50 wall time of each mode and whether the answers (work
ids and inliers) are the same.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402

import registry  # noqa: E402,F401  (numpy's settings for this processor, before numpy loads)
from registry.core import image_features  # noqa: E402
from registry.core.matching import feature_index  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "lookup"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/lookup_bench"
MODES = {"screened": False, "all-screened": True}
PAIRS = feature_index.CANDIDATE_SCREEN_PAIRS


def use(mode: str) -> None:
    """Set the search as ``mode`` has it."""
    name, _, pairs = mode.partition("/")
    feature_index.CANDIDATE_SCREEN = MODES[name]
    feature_index.CANDIDATE_SCREEN_PAIRS = int(pairs) if pairs else PAIRS


def queries() -> dict[str, list[image_features.LocalFeatures]]:
    files = sorted(CACHE.glob("photo[0-9]_*.jpg")) + sorted(CACHE.glob("unregistered_photo*.jpg"))
    if not files:
        sys.exit("no queries: run lookup_speed.py --pictures 100000 first")
    return {f.stem: image_features.query_features(io.BytesIO(f.read_bytes())) for f in files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default=PG_DEFAULT)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--profile", help="cProfile one round of this mode")
    args = parser.parse_args()
    url = (f"sqlite:///{CACHE / 'instance-sqlite' / 'tamga.db'}" if args.db == "sqlite"
           else args.pg)
    qs = queries()
    modes = args.modes.split(",")
    times: dict[tuple[str, str], list[float]] = {}
    answers: dict[tuple[str, str], set[str]] = {}
    with create_engine(url).connect() as conn:
        for q in qs.values():  # warm the caches
            feature_index.search(conn, q)
        if args.profile:
            use(args.profile)
            prof = cProfile.Profile()
            prof.runcall(lambda: [feature_index.search(conn, q) for q in qs.values()])
            pstats.Stats(prof).sort_stats("tottime").print_stats(20)
            return
        for r in range(args.rounds):
            for mode in modes if r % 2 == 0 else modes[::-1]:
                use(mode)
                for name, q in qs.items():
                    t0 = time.perf_counter()
                    found = feature_index.search(conn, q)
                    times.setdefault((name, mode), []).append(time.perf_counter() - t0)
                    answers.setdefault((name, mode), set()).add(
                        str([(m.work_id, m.match.inliers) for m in found]))
    print(f"feature_index.search on {args.db}, {args.rounds} rounds, p50 wall ms")
    print("| query | " + " | ".join(modes) + " | same answers | answer |")
    print("|---|" + "---|" * (len(modes) + 2))
    for name in qs:
        cells = [f"{statistics.median(times[(name, m)]) * 1000:.0f}" for m in modes]
        same = all(answers[(name, m)] == answers[(name, modes[0])] for m in modes)
        print(f"| {name} | " + " | ".join(cells)
              + f" | {'yes' if same else 'NO'} | {sorted(answers[(name, modes[0])])[0]} |")


if __name__ == "__main__":
    main()
