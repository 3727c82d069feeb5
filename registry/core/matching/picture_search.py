"""One ranked answer for a picture: whole-frame hashes first, local features when needed.

1. The hash index (:mod:`image_index`) is the fast route: an exact or
   near-exact copy (a re-encoding, resize, small border) is found there in a few
   milliseconds, and when it is (:data:`FAST_SCORE`, no change but a re-encoding)
   the answer is given without computing local features.
2. Otherwise the query's local features (computed only then, through the
   ``features`` callable) go to the feature index (:mod:`feature_index`); its
   candidates, and every work the hash index proposed, are verified
   geometrically.
3. Both lists merge by work: a work verified by local features reports where
   it sits in the query (``region``) and what was done to it (``transform``),
   and its change label comes from that geometry; a work only the hashes found
   keeps its hash score, with the transform its hash window implies.

Plain Python: no Flask.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from registry.core.image import QUADRANT_WINDOWS, QueryHashes, window_region
from registry.core.image_features import WHOLE, FeatureMatch, LocalFeatures, Region, Transform
from registry.core.matching import feature_index, image_index

#: A hash match at least this good, labelled identical, ends the search (fast route).
FAST_SCORE = 0.85
#: The hash index's score above which a match means "likely the same image".
SAME_IMAGE_SCORE = 0.75
#: Score of a geometrically verified match: from VERIFIED_BASE at the fewest
#: inliers accepted, rising with the inliers, at most VERIFIED_MAX.
VERIFIED_BASE = 0.76
VERIFIED_MAX = 0.99

#: Keypoints both pictures need for their local features to refute a weak,
#: counter-rotated hash match (:func:`refuted_turns`).
REFUTING_KEYPOINTS = 200

_ROT = re.compile(r"^rot([+-][0-9.]+)/")


@dataclass
class PictureMatch:
    work_id: int
    score: float
    transformation: str | None
    region: Region
    transform: Transform | None
    distances: dict[str, int] = field(default_factory=dict)
    inliers: int = 0
    stage: str = "hash"  # "hash", "features" or "both"
    feature_match: FeatureMatch | None = None

    def details(self) -> dict[str, Any]:
        """What a stored match or an API answer carries."""
        out: dict[str, Any] = {"distances": self.distances, "transformation": self.transformation,
                               "region": self.region.to_dict(), "stage": self.stage}
        if self.transform is not None:
            out["transform"] = self.transform.to_dict()
        if self.inliers:
            out["inliers"] = self.inliers
        return out


def verified_score(inliers: int) -> float:
    from registry.core.image_features import MIN_INLIERS

    return round(min(VERIFIED_MAX, VERIFIED_BASE + 0.004 * (inliers - MIN_INLIERS)), 4)


def both_score(hash_score: float, verified: float) -> float:
    """The score of a work both routes found. The whole frame's hashes and the local
    geometry are separate pieces of evidence, so together they rank above either
    alone at the same score: 1 - (1 - a)(1 - b), at most :data:`VERIFIED_MAX`.

    Why: in a picture of repeated forms (a hexagon pattern cut into tiles), a turned
    copy's local features also fit other tiles' hexagons, at other scales, with more
    inliers than the copy's own tile; only its own tile also matches as a whole
    frame (benchmarks/README_image.md, "Session 10")."""
    return round(min(VERIFIED_MAX, 1 - (1 - hash_score) * (1 - verified)), 4)


def hash_transform(m: image_index.ImageMatch, query_size: tuple[int, int] | None,
                   ref_size: tuple[int, int] | None) -> Transform:
    """The transform a hash match implies: its window is the crop (a central crop or
    a corner quarter), its query variant the mirror or the turn."""
    box = window_region(m.reference_window)
    crop = WHOLE if box is None else Region(*box)
    rotation = 0.0
    turned = _ROT.match(m.query_variant or "")
    if turned:
        rotation = -float(turned.group(1)) + 0.0
    scale = 1.0
    if query_size and ref_size and ref_size[0]:
        scale = round(query_size[0] / (ref_size[0] * crop.w), 4)
    return Transform(rotation, scale, m.query_variant == "mirror", crop)


def search(conn: Connection, hashes: QueryHashes,
           features: Callable[[], Sequence[LocalFeatures]] | None, *,
           query_size: tuple[int, int] | None = None, limit: int = 10,
           every_variant: bool = False) -> list[PictureMatch]:
    """Registered pictures matching a query, best first (see the module's text).

    ``every_variant`` searches all hash variants at once (the registration check)
    instead of the upright ones first.
    """
    if every_variant:
        found = image_index.search(conn, hashes, limit=limit)
    else:
        found = two_pass(conn, hashes, limit)
    stored = feature_index.load_features(conn, [m.work_id for m in found])
    sizes = {wid: (f.original_width, f.original_height) for wid, f in stored.items()}
    merged: dict[int, PictureMatch] = {
        m.work_id: PictureMatch(
            m.work_id, m.score, m.transformation, WHOLE,
            hash_transform(m, query_size, sizes.get(m.work_id)), dict(m.distances))
        for m in found
    }
    fast = any(m.score >= FAST_SCORE and m.transformation == "identical" for m in found)
    if not fast and features is not None:
        feats = list(features())
        if feats:
            _merge_features(conn, merged, feats, limit)
            for wid in refuted_turns(found, feats, stored, merged):
                merged.pop(wid, None)
    ranked = sorted(merged.values(), key=lambda p: (-p.score, p.work_id))
    return ranked[:limit]


def _merge_features(conn: Connection, merged: dict[int, PictureMatch],
                    feats: Sequence[LocalFeatures], limit: int) -> None:
    """Verify the feature index's candidates and every work the hashes found; a
    verified work takes the geometry's label, region and transform."""
    hashed = list(merged)
    # every verified hash work is returned (limit + its count), so none is mistaken as refused
    for lm in feature_index.search(conn, feats, extra_candidates=hashed,
                                   limit=limit + len(hashed)):
        fm = lm.match
        score = verified_score(fm.inliers)
        current = merged.get(lm.work_id)
        merged[lm.work_id] = PictureMatch(
            lm.work_id, both_score(current.score, score) if current else score, fm.label,
            fm.region, fm.transform, current.distances if current else {}, fm.inliers,
            "both" if current else "features", fm)


def refuted_turns(found: Sequence[image_index.ImageMatch], feats: Sequence[LocalFeatures],
                  stored: dict[int, LocalFeatures],
                  merged: dict[int, PictureMatch]) -> list[int]:
    """Weak hash matches that only a counter-rotated query variant explains and that
    the local features refuse: both pictures have keypoints enough to be compared
    (:data:`REFUTING_KEYPOINTS`), the geometric verification of the work found
    nothing, and the hash score is under :data:`SAME_IMAGE_SCORE`.

    Why: the counter-rotations multiply the hash comparisons of a query (4 angles x
    2 crops against 5 windows), and so the chance of a coincidence between two plain
    pictures of similar layout (a dark disc on grey matched a pale spike on grey this
    way, pHash 18 bits apart). Local features see a turned copy directly (turned
    real photos verify: rot15 100%, rot45 90%, rot90 98% of 60 in
    benchmarks/README_image.md), so their silence is evidence."""
    if not feats or max(len(f) for f in feats) < REFUTING_KEYPOINTS:
        return []
    return [m.work_id for m in found
            if merged[m.work_id].feature_match is None and m.transformation == "rotated"
            and m.score < SAME_IMAGE_SCORE
            and len(stored.get(m.work_id, ())) >= REFUTING_KEYPOINTS]


def two_pass(conn: Connection, query: QueryHashes, limit: int) -> list[image_index.ImageMatch]:
    """Plain, mirrored and trimmed forms first; the counter-rotations only if needed.

    A corner-quarter match does not make them unneeded: a quarter is weaker evidence
    than a whole frame (an unrelated crop matched a sky quarter at score 0.76 and hid
    its own picture, found turned at 0.82; benchmarks/README_image.md, session 13)."""
    upright = QueryHashes([v for v in query.variants if v.transformation != "rotated"])
    found = image_index.search(conn, upright, limit=limit)
    whole = [m for m in found if m.reference_window not in QUADRANT_WINDOWS]
    if any(m.score >= SAME_IMAGE_SCORE for m in whole) or len(upright.variants) == len(
            query.variants):
        return found
    return image_index.search(conn, query, limit=limit)
