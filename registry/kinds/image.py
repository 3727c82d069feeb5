"""The image kind: perceptual hashes in the multi-index-hashing image index.

Tracks it fills and searches: ``"image"`` — a :class:`QueryHashes` (the
query variants of a picture: mirrored, trimmed, turned). A registered picture
also carries its :class:`ImageHashes` (what goes into the index) in
``Fingerprinted.extra["hashes"]``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection

from registry.core import evidence as core
from registry.core import image_features, iscc
from registry.core.errors import MediaError
from registry.core.image import (
    QUERY_FEATURELESS_STD,
    ImageHashes,
    QueryHashes,
    hash_image,
    load_image,
    quadrant_windows,
    query_variants,
)
from registry.core.image import thumbnail as make_thumbnail
from registry.core.image_features import WHOLE, LocalFeatures
from registry.core.matching import feature_index, image_index, picture_search
from registry.core.media import MediaLimits, sniff
from registry.kinds import (
    WEAK_SIMILARITY,
    Fingerprinted,
    Fraction,
    Hit,
    IndexSpec,
    MediaKind,
    Query,
    Segment,
    count_rows,
)

LIKELY_SAME_IMAGE = "likely_same_image"
SAME_IMAGE_SCORE = 0.75
TRACK = "image"
#: The local-feature track: a :class:`LazyFeatures` (computed only if the hashes
#: do not already find an exact or near-exact copy).
FEATURES = "features"
IDENTITY = {"rotation_degrees": 0.0, "scale": 1.0, "mirrored": False, "crop": WHOLE.to_dict()}


class LazyFeatures:
    """A query picture's local features, extracted on first use from its bytes
    (the uploaded file itself is deleted before the search runs)."""

    def __init__(self, data: bytes, max_pixels: int) -> None:
        self._data, self._max_pixels = data, max_pixels
        self._features: list[LocalFeatures] | None = None
        self.seconds = 0.0

    def __call__(self) -> list[LocalFeatures]:
        if self._features is None:
            started = time.perf_counter()
            self._features = image_features.query_features(io.BytesIO(self._data),
                                                           max_pixels=self._max_pixels)
            self.seconds = time.perf_counter() - started
        return self._features


def meaning(score: float) -> str:
    return LIKELY_SAME_IMAGE if score >= SAME_IMAGE_SCORE else WEAK_SIMILARITY


class ImageKind(MediaKind):
    name = "image"
    fingerprint_name = "imagehash"
    meanings = (LIKELY_SAME_IMAGE, WEAK_SIMILARITY)
    indexes = (IndexSpec("image", lambda conn, progress: rebuild_hashes(conn, progress)),
               IndexSpec("image_features", lambda conn, progress: rebuild_features(conn, progress)))
    magic = frozenset({"image"})
    match_label = _l("same image")
    meaning_labels = {LIKELY_SAME_IMAGE: _l("Likely the same image")}
    default_work_type = "photograph"
    exclusive_work_types = frozenset({"photograph", "artwork"})
    wrong_file_message = _l("A photograph or artwork needs an image file.")

    def check_upload(self, path: Path, limits: MediaLimits) -> None:
        load_image(path, max_pixels=limits.max_pixels)

    def fingerprint(self, path: Path, limits: MediaLimits, *,
                    progress: Fraction | None = None) -> Fingerprinted:
        loaded = load_image(path, max_pixels=limits.max_pixels)
        hashes = hash_image(loaded)
        code = iscc.image_content_code(loaded.image)
        grey, width, height = image_features.feature_image(path, max_pixels=limits.max_pixels)
        registered = image_features.registration_features_of(grey, (width, height))
        queried = image_features.query_features_of(grey, (width, height))
        query = Query(self.name, {TRACK: query_variants(loaded), FEATURES: lambda: queried},
                      {"registration": True, "width": loaded.width, "height": loaded.height})
        return Fingerprinted(hashes.digest(), code, query,
                             attributes={"width": loaded.width, "height": loaded.height},
                             thumbnail=make_thumbnail(loaded),
                             extra={"hashes": hashes, "features": registered})

    def query(self, path: Path, limits: MediaLimits, *, want_thumbnail: bool = False,
              max_seconds: float | None = None) -> Query:
        started = time.perf_counter()
        sniff(path)  # no subprocess for pictures
        loaded = load_image(path, max_pixels=limits.max_pixels, min_std=QUERY_FEATURELESS_STD)
        decoded = time.perf_counter() - started
        lazy = LazyFeatures(path.read_bytes(), limits.max_pixels)
        still = loaded.image.copy()
        still.thumbnail((256, 256))  # pixels for kinds that match pictures differently (video)
        return Query(self.name, {TRACK: query_variants(loaded), FEATURES: lazy,
                                 "still": np.asarray(still)},
                     {"width": loaded.width, "height": loaded.height},
                     thumbnail=make_thumbnail(loaded, 320) if want_thumbnail else None,
                     timings={"decode": decoded})

    # index ---------------------------------------------------------------------------
    def add(self, conn: Connection, work_id: int, fp: Fingerprinted) -> None:
        image_index.add_image(conn, work_id, fp.extra["hashes"])
        if fp.extra.get("features") is not None:
            feature_index.add_features(conn, work_id, fp.extra["features"])

    def remove(self, conn: Connection, work_id: int) -> bool:
        removed = image_index.remove_image(conn, work_id)
        return feature_index.remove_features(conn, work_id) or removed

    def count(self, conn: Connection) -> int:
        return count_rows(conn, image_index.image_works)

    def search(self, conn: Connection, query: Query, *, limit: int = 10) -> list[Hit]:
        """Hash matches and local-feature matches, merged into one ranked list
        (:mod:`registry.core.matching.picture_search`); the registration check
        searches every hash variant at once."""
        hashes = query.tracks.get(TRACK)
        if hashes is None:
            return []
        size = (query.measured.get("width"), query.measured.get("height"))
        found = picture_search.search(
            conn, hashes, query.tracks.get(FEATURES), limit=limit,
            query_size=size if all(size) else None,
            every_variant=bool(query.measured.get("registration")))
        lazy = query.tracks.get(FEATURES)
        if isinstance(lazy, LazyFeatures) and lazy.seconds:
            query.timings["features"] = lazy.seconds
        return [Hit(m.work_id, m.score, self.name, meaning(m.score), m.details())
                for m in found]

    # serialise ------------------------------------------------------------------------
    def media_fields(self, work: Any) -> dict[str, Any]:
        return {"width": work.width, "height": work.height}

    def match_fields(self, details: dict[str, Any], segment: Segment | None) -> dict[str, Any]:
        return {"distance": distance(details), "region": details.get("region") or WHOLE.to_dict(),
                "transform": details.get("transform") or IDENTITY,
                "transformation": details.get("transformation")}

    def stored_match_fields(self, details: dict[str, Any]) -> dict[str, Any]:
        """Region and transform of a registration check's match (kept since image_01)."""
        return {k: details[k] for k in ("region", "transform", "transformation") if k in details}

    def identical(self, measured: dict[str, Any]) -> tuple[dict[str, Any], Segment | None]:
        return {"distances": {"phash": 0}, "transformation": "identical",
                "region": WHOLE.to_dict(), "transform": IDENTITY}, None

    # compare ---------------------------------------------------------------------------
    def compare(self, conn: Connection, query: Query | int, work_id: int,
                numbers: tuple[str | None, str]) -> dict[str, Any]:
        hashes: ImageHashes | QueryHashes | None
        if isinstance(query, int):
            hashes = image_index.registered_hashes(conn, query)
        else:
            hashes = query.tracks.get(TRACK)
        work_hashes = image_index.registered_hashes(conn, work_id)
        if hashes is None or work_hashes is None:
            return {}
        result = compare_hashes(hashes, work_hashes, numbers)
        local = self._compare_features(conn, query, work_id)
        if local is not None:  # the geometry names the change and where it is
            result["image"] |= {"transformation": local.label, "region": local.region.to_dict(),
                                "transform": local.transform.to_dict(),
                                "inliers": local.inliers}
            result["similarity"] = max(result["similarity"],
                                       picture_search.verified_score(local.inliers))
        return result

    @staticmethod
    def _compare_features(conn: Connection, query: Query | int,
                          work_id: int) -> image_features.FeatureMatch | None:
        ref = feature_index.stored_features(conn, work_id)
        if ref is None:
            return None
        if isinstance(query, int):
            other = feature_index.stored_features(conn, query)
            queries = [other] if other is not None else []
        else:
            lazy = query.tracks.get(FEATURES)
            queries = list(lazy()) if lazy is not None else []
        return image_features.best_match(queries, ref) if queries else None

    def bundle_side(self, conn: Connection, work_id: int) -> dict[str, Any]:
        hashes = image_index.registered_hashes(conn, work_id)
        return {"hashes": hashes.to_dict()} if hashes is not None else {}


def _stored_files(conn: Connection) -> dict[int, str]:
    """Storage key of the main file of every indexed picture."""
    files = sa.text(
        "SELECT f.work_id, f.storage_key FROM work_files f JOIN image_works i "
        "ON i.work_id = f.work_id WHERE f.role = 'main' ORDER BY f.work_id")
    return {int(work_id): str(key) for work_id, key in conn.execute(files).all()}


def rebuild_hashes(conn: Connection, progress: Any = None) -> int:
    """Hash the corner quarters (search windows) of pictures indexed before they
    existed, from the stored files, then rewrite every posting row. The works'
    fingerprints (and digests) are not touched."""
    from flask import current_app

    settings = current_app.extensions["tamga.settings"]
    keys = _stored_files(conn)
    for work_id in image_index.works_without_search_windows(conn):
        if work_id not in keys:
            continue
        try:
            loaded = load_image(settings.store.path(keys[work_id]),
                                max_pixels=settings.limits.max_pixels)
        except (OSError, MediaError):
            continue  # the file is gone or no longer decodes: the work is still found whole
        image_index.add_search_windows(conn, work_id, quadrant_windows(loaded))
    return image_index.rebuild(conn, progress)


def rebuild_features(conn: Connection, progress: Any = None) -> int:
    """Extract the keypoints of indexed pictures registered before the feature
    index existed, or stored without orientation and size (before migration
    image_02), from the stored files; then rewrite every posting row."""
    from flask import current_app

    store = current_app.extensions["tamga.settings"].store
    limits = current_app.extensions["tamga.settings"].limits
    stale = set(feature_index.works_without_geometry(conn))
    indexed = set(conn.execute(sa.select(feature_index.image_features.c.work_id)).scalars())
    for work_id, key in _stored_files(conn).items():
        if work_id in indexed and work_id not in stale:
            continue
        try:
            feats = image_features.registration_features(store.path(key),
                                                         max_pixels=limits.max_pixels)
        except (OSError, MediaError):
            continue  # the file is gone or no longer decodes: the hashes still match it
        feature_index.add_features(conn, work_id, feats)
    return feature_index.rebuild(conn, progress)


def distance(details: dict[str, Any]) -> int:
    """The pHash distance a match is shown with (0: identical)."""
    return int((details.get("distances") or {}).get("phash", 0))


def compare_hashes(query: ImageHashes | QueryHashes, work_hashes: ImageHashes,
                   numbers: tuple[str | None, str]) -> dict[str, Any]:
    """The ``image`` section of a comparison (distances, change) and its fingerprints."""
    query_side = core.image_side(query, numbers[0], "query")
    work_side = core.image_side(work_hashes, numbers[1], "work")
    result, section = core.compare_images(query, work_hashes, query_side, work_side)
    return {"similarity": result.score,
            "image": {"distances": section["pair"]["distances"],
                      "transformation": result.transformation},
            "fingerprints": {"image": section}}
