"""Corner-quadrant probe (issue #17): local features alone, no index.

Every third tile of the real-photo corpus (benchmarks/real_photos.py) is
registered (``registration_features``) and one random corner quarter of it
(``image_corpus.quadrant``, JPEG q88) is verified against it with
``best_match``. Counts the quarters found. ``--set NAME=VALUE`` overrides a
constant of ``registry.core.image_features`` (to compare settings in one run):

    .venv/bin/python benchmarks/image_quadrant.py --n 40
    .venv/bin/python benchmarks/image_quadrant.py --n 146 --why   # every third tile; why each miss
    .venv/bin/python benchmarks/image_quadrant.py --n 146 --set GUIDED_COVERAGE=2.0 \
        --set BAND_INLIERS=1000000000          # without the guided pass and the band rule
    .venv/bin/python benchmarks/image_quadrant.py --n 40 --set REGISTERED_KEYPOINTS=400 \
        --set MIN_QUERY_SIDE=768 --set QUERY_FALLBACK_THRESHOLDS=() \
        --set REGISTERED_FALLBACK_THRESHOLDS=()        # the settings before the fix
"""

from __future__ import annotations

import argparse
import ast
import io
import random
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from image_corpus import quadrant  # noqa: E402
from PIL import Image  # noqa: E402
from real_photos import all_photo_files  # noqa: E402

from registry.core import image_features as F  # noqa: E402


def _why(query: F.LocalFeatures, ref: F.LocalFeatures) -> str:
    """Query keypoints, ratio-test pairs and homography inliers of the upright query."""
    import cv2
    import numpy as np

    qi, ri = F._pairs(query, ref)
    out = f"{len(query)} query keypoints, {qi.size} pairs"
    if qi.size >= 4:
        tol = F.RANSAC_TOLERANCE * max(query.width, query.height)
        _, mask = cv2.findHomography(ref.points[ri], query.points[qi], cv2.USAC_MAGSAC, tol)
        if mask is not None:
            r_in = ref.points[ri][mask.ravel().astype(bool)]
            spread = np.ptp(r_in, axis=0) / [ref.width, ref.height] if len(r_in) else [0, 0]
            out += f", {int(mask.sum())} inliers spread {spread[0]:.2f} x {spread[1]:.2f}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--why", action="store_true", help="print why each miss was refused")
    args = parser.parse_args()
    for item in args.set:
        name, value = item.split("=", 1)
        if not hasattr(F, name):
            parser.error(f"image_features has no {name}")
        setattr(F, name, ast.literal_eval(value))
    paths = all_photo_files()[::3][: args.n]
    found, inliers, t0 = 0, [], time.perf_counter()
    for work_id, path in enumerate(paths, start=1):
        ref = F.registration_features(io.BytesIO(path.read_bytes()))
        query = quadrant(Image.open(path).convert("RGB"), random.Random(work_id))
        m = F.best_match(F.query_features(io.BytesIO(query)), ref)
        if m is not None:
            found += 1
            inliers.append(m.inliers)
        elif args.why:
            print(f"missed {path.name}: {_why(F.query_features(io.BytesIO(query))[0], ref)}")
    inliers.sort()
    print(f"settings {args.set or 'as committed'}: quadrant found {found}/{len(paths)} "
          f"({found / len(paths):.1%}); median inliers "
          f"{inliers[len(inliers) // 2] if inliers else 0}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
