"""Local features of pictures: ORB keypoints, binary descriptors, geometric verification.

The second image stage. Whole-frame hashes (``registry.core.image``) cannot see
a picture that is only part of another one (a corner of a collage, the middle
of a screenshot, a meme with captions) nor one turned by any angle. Local
features can: ORB finds corner-like keypoints at several scales, each with a
256-bit descriptor that does not change when the picture is turned or scaled.

* :func:`feature_image` decodes a file to a greyscale array whose longest side
  is at most :data:`FEATURE_SIDE` (JPEGs are decoded in draft mode, EXIF
  orientation applied).
* :func:`extract` keeps the strongest keypoints, spread over the picture by a
  grid so that any quarter of it keeps its share (:data:`REGISTERED_KEYPOINTS`
  for a registration, :data:`QUERY_KEYPOINTS` for a query).
* :func:`verify` pairs the descriptors of a query and a registered picture
  (nearest neighbour with a ratio test, both ways), fits a homography with
  RANSAC and accepts the match only when at least :data:`MIN_INLIERS` pairs
  agree on one plausible transform (a turn, a scale, a mild perspective; not a
  fold, a collapse or an extreme stretch). The answer says where the
  registered picture sits in the query (``region``) and what was done to it
  (``rotation_degrees``, ``scale``, ``mirrored``, ``crop``).

A mirrored copy is found by extracting features from the mirrored query too
(:func:`query_features`); the mirror is folded back into the transform.

Everything here is plain Python (numpy, OpenCV, Pillow); nothing imports Flask.
"""

from __future__ import annotations

import math
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np
from PIL import Image

from registry.core.errors import CorruptMedia, TooManyPixels, UnsupportedMediaType
from registry.core.image import _ORIENTATION_OPS, ALLOWED_FORMATS, DEFAULT_MAX_PIXELS, _to_rgb

#: Longest side (pixels) of the picture features are computed on.
FEATURE_SIDE = 1024
#: JPEG draft decoding may stop at this fraction of FEATURE_SIDE (a 12 MP photo
#: is then decoded at 1/4 scale, 1000x750).
DRAFT_FRACTION = 0.74
#: Keypoints kept per registered picture (a corner quarter of it holds ~150:
#: with 400 it held ~100, too few for a quadrant crop; issue #17).
REGISTERED_KEYPOINTS = 600
#: Share of the registered keypoints taken from the picture at half size.
COARSE_SHARE = 0.35
#: A query smaller than this (longest side) is enlarged before extraction. 0: never.
#: It was 768: a quarter of a 512 px picture was blown up 3x by cubic
#: interpolation, which leaves few, blurred corners at scales the registered
#: keypoints do not have; quadrant crops were then mostly missed. ORB's own
#: pyramid (8 levels, x1.2) already meets a smaller copy at a coarser level of
#: the registered picture, so collages, screenshots and 25% copies need no blow-up.
MIN_QUERY_SIDE = 0
QUERY_KEYPOINTS = 2000
#: Quarters of the picture overlap by this many pixels when detecting (ORB's border).
DETECT_MARGIN = 40
#: Keypoints are spread over a GRID x GRID grid: no cell keeps more than its share.
GRID = 4
ORB_FAST_THRESHOLD = 12
#: A quarter that gives fewer corners than its share of the budget at
#: ORB_FAST_THRESHOLD is detected again at these lower thresholds in turn (a small
#: or smooth photo, or a small crop of one, has few strong corners). A registered
#: picture stops at 6: at 3 its weak corners give generic descriptors that voted
#: for every work in the candidate index (tests/core/test_feature_index.py).
QUERY_FALLBACK_THRESHOLDS = (6, 3)
#: ...but only for a query smaller than this (longest side): a crop or a small copy,
#: cheap to detect again; a large query has corners enough and would pay ~5x.
FALLBACK_QUERY_SIDE = 768
REGISTERED_FALLBACK_THRESHOLDS = (6,)
DESCRIPTOR_BYTES = 32
#: Lowe's ratio: the best descriptor distance must be below this share of the second best.
RATIO = 0.8
#: Largest descriptor distance (bits of 256) of a pair kept for RANSAC.
MAX_PAIR_DISTANCE = 72
#: Reprojection tolerance of RANSAC, as a share of the query's longest side.
RANSAC_TOLERANCE = 0.012
#: Inlier pairs needed to accept a match, and the share of the kept pairs they must be.
MIN_INLIERS = 14
MIN_INLIER_RATIO = 0.25
#: ORB keeps this many pixels from a picture's edges (its patch); a visible side
#: within SNAP pixels of the projected frame's side is taken to be that side.
EDGE = 34
#: How far past the outermost keypoints seen again the visible part may reach (x EDGE).
VISIBLE_PAD = 1.6
#: Descriptor distance under which a registered keypoint counts as seen again.
CONFIRM_DISTANCE = 50
#: Share of the homography's inliers a similarity must explain to be used instead.
SIMILARITY_SHARE = 0.9
#: Plausible transforms: the registered picture's apparent size in the query
#: (as a share of the query's size), its anisotropy and its perspective.
MIN_REGION_SHARE = 0.02
MAX_ANISOTROPY = 1.6
MAX_CORNER_ANGLE_ERROR = 35.0
#: Inliers must be spread: their bounding box in the registered picture covers
#: at least this share of its side on both axes.
MIN_INLIER_SPREAD = 0.12
#: ...or, for a similarity, a band: this share of the side on one axis, at least
#: BAND_MIN_WIDTH on the other, with at least BAND_INLIERS inliers.
BAND_SPREAD = 0.15
BAND_MIN_WIDTH = 0.02
BAND_INLIERS = 20
#: Guided matching (second pass of :func:`verify`): a similarity agreed on by at
#: least MIN_SEED_INLIERS ratio-test pairs, at a scale between these bounds (query
#: pixels per registered pixel, feature frames), places every registered keypoint
#: in the query; a query keypoint within GUIDED_RADIUS x the RANSAC tolerance with
#: a descriptor within GUIDED_DISTANCE bits pairs with it.
MIN_SEED_INLIERS = 6
MIN_GUIDED_SCALE = 0.05
MAX_GUIDED_SCALE = 20.0
GUIDED_RADIUS = 1.5
GUIDED_DISTANCE = 64
GUIDED_RATIO = 0.8
#: ...and the inliers of that pass must be at least this share of the registered
#: keypoints the guess places inside the query (a real part of the picture shows
#: many of its keypoints again: 11-24% of them on the real-photo quarters; the
#: false match this was tuned against, lettering of a screenshot, 2%).
GUIDED_COVERAGE = 0.06
#: A turn this close to a quarter turn is reported as the quarter turn exactly.
QUARTER_SNAP = 1.0
#: Labels: below this much of the registered picture kept, it was "cropped";
#: below this share of the query covered, it was "embedded" (a border, caption, collage).
CROPPED_BELOW = 0.92
EMBEDDED_BELOW = 0.85
ROTATED_FROM = 2.0


# --------------------------------------------------------------------------- decode


def feature_image(
    path: str | Path | BinaryIO, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[np.ndarray, int, int]:
    """(greyscale uint8 array at most FEATURE_SIDE on its longest side, original
    width, original height), EXIF orientation applied, alpha flattened on white."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as im:
                if im.format not in ALLOWED_FORMATS:
                    raise UnsupportedMediaType.because(
                        "image_format_refused", {"format": im.format or "?"}, format=im.format)
                if im.width * im.height > max_pixels:
                    raise TooManyPixels.because("too_many_pixels", pixels=im.width * im.height,
                                                max_pixels=max_pixels)
                orientation = im.getexif().get(0x0112, 1)
                width, height = ((im.height, im.width) if orientation in (5, 6, 7, 8)
                                 else im.size)  # fmt: skip
                if im.format in ("JPEG", "MPO"):
                    scale = FEATURE_SIDE * DRAFT_FRACTION / max(im.size)
                    if scale < 1:
                        im.draft("RGB", (max(1, int(im.width * scale)),
                                         max(1, int(im.height * scale))))  # fmt: skip
                im.seek(0)
                im.load()
                grey = _to_rgb(im).convert("L")
        except (TooManyPixels, UnsupportedMediaType):
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels.because("too_many_pixels", max_pixels=max_pixels) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptMedia.because("image_undecodable", decoder_error=str(exc)[:300]) from exc
    op = _ORIENTATION_OPS.get(orientation)
    if op is not None:
        grey = grey.transpose(op)
    return fit(np.asarray(grey)), width, height


def fit(grey: np.ndarray, side: int = FEATURE_SIDE) -> np.ndarray:
    """``grey`` reduced (area average) so that its longest side is at most ``side``."""
    scale = side / max(grey.shape[:2])
    if scale >= 1:
        return np.ascontiguousarray(grey)
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


# --------------------------------------------------------------------------- features


@dataclass(frozen=True)
class LocalFeatures:
    """Keypoints of one picture: positions in a ``width`` x ``height`` frame (the
    feature image), their descriptors, and the picture's original size.

    ``angles`` (degrees, ORB's orientation) and ``sizes`` (ORB's patch diameter,
    pixels of the feature frame) say how each keypoint was turned and scaled: a
    copy turned by t and scaled by s shows its keypoints turned by t and s times
    as large, which the candidate index uses to tell a copy's votes from chance
    (:mod:`registry.core.matching.feature_index`). Features stored before they were
    kept (format 1) have none.
    """

    width: int
    height: int
    points: np.ndarray  # (n, 2) float32, pixels of the feature image
    descriptors: np.ndarray  # (n, 32) uint8
    original_width: int = 0
    original_height: int = 0
    mirrored: bool = False  # features of the mirrored picture (query side only)
    angles: np.ndarray | None = None  # (n,) float32 degrees in [0, 360)
    sizes: np.ndarray | None = None  # (n,) float32 pixels of the feature image

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def has_geometry(self) -> bool:
        return self.angles is not None and self.sizes is not None

    def sample(self, n: int) -> LocalFeatures:
        """Every k-th keypoint, at most ``n`` (k = ceil(len / n)): a share of every
        scale. Not the first ``n``: the keypoints of :func:`extract` come out of
        ORB's ``compute`` ordered by pyramid level, finest first (the first 600 of a
        2,000-keypoint query are all of ORB's finest scale, size 31), and a copy
        shown at half size pairs mostly at the coarser ones."""
        if n >= len(self):
            return self
        k = -(-len(self) // n)
        return LocalFeatures(
            self.width, self.height, self.points[::k], self.descriptors[::k],
            self.original_width, self.original_height, self.mirrored,
            None if self.angles is None else self.angles[::k],
            None if self.sizes is None else self.sizes[::k])  # fmt: skip

    _HEAD = struct.Struct(">BHHIIH")

    def to_bytes(self) -> bytes:
        """Compact form: version, sizes, count, then per keypoint x, y as uint16 in
        1/16 pixel of the feature frame, the 32-byte descriptor, and (format 2) the
        angle in 1/256 turns and the size as 16 x log2(pixels), one byte each."""
        n = len(self)
        xy = np.round(self.points * 16).clip(0, 65535).astype(">u2")
        version = 2 if self.has_geometry else 1
        head = self._HEAD.pack(version, self.width, self.height, self.original_width,
                               self.original_height, n)  # fmt: skip
        out = head + xy.tobytes() + self.descriptors.astype(np.uint8).tobytes()
        if self.angles is not None and self.sizes is not None:
            turn = np.round(np.asarray(self.angles, np.float64) * 256 / 360).astype(np.int64) % 256
            size = np.round(16 * np.log2(np.maximum(np.asarray(self.sizes, np.float64), 1.0)))
            out += turn.astype(np.uint8).tobytes() + size.clip(0, 255).astype(np.uint8).tobytes()
        return out

    @classmethod
    def from_bytes(cls, blob: bytes) -> LocalFeatures:
        version, w, h, ow, oh, n = cls._HEAD.unpack_from(blob)
        if version not in (1, 2):
            raise ValueError(f"unknown local-feature format {version}")
        off = cls._HEAD.size
        xy = np.frombuffer(blob, dtype=">u2", count=2 * n, offset=off).reshape(n, 2)
        desc = np.frombuffer(blob, dtype=np.uint8, count=DESCRIPTOR_BYTES * n,
                             offset=off + 4 * n).reshape(n, DESCRIPTOR_BYTES)  # fmt: skip
        angles = sizes = None
        if version == 2:
            off += (4 + DESCRIPTOR_BYTES) * n
            turn = np.frombuffer(blob, dtype=np.uint8, count=n, offset=off)
            size = np.frombuffer(blob, dtype=np.uint8, count=n, offset=off + n)
            angles = (turn.astype(np.float32) * np.float32(360 / 256))
            sizes = np.exp2(size.astype(np.float32) / 16)
        return cls(w, h, xy.astype(np.float32) / 16, desc, ow, oh, angles=angles, sizes=sizes)


_orb_cache: dict[tuple[int, int], Any] = {}


def _orb(n: int, fast: int = ORB_FAST_THRESHOLD):
    if (n, fast) not in _orb_cache:
        create = cv2.ORB_create  # type: ignore[attr-defined]
        _orb_cache[n, fast] = create(nfeatures=n, scaleFactor=1.2, nlevels=8, edgeThreshold=31,
                                     patchSize=31, fastThreshold=fast)
    return _orb_cache[n, fast]


def _detect_part(part: np.ndarray, n: int, fallback: tuple[int, ...]) -> list:
    """Up to ``n`` keypoints of ``part``; when the usual threshold finds fewer, the
    ``fallback`` thresholds are tried in turn (each finds a superset)."""
    found = _orb(n).detect(part, None)
    for fast in fallback:
        if len(found) >= n:
            break
        found = _orb(n, fast).detect(part, None)
    return list(found)


def extract(grey: np.ndarray, keep: int = REGISTERED_KEYPOINTS, *, original: tuple[int, int]
            | None = None, mirrored: bool = False,
            fallback: tuple[int, ...] = ()) -> LocalFeatures:
    """The ``keep`` strongest keypoints of ``grey``, spread over a grid, with descriptors
    (``fallback``: lower FAST thresholds for quarters poor in corners)."""
    h, w = grey.shape[:2]
    keypoints = _spread(_detect(grey, keep * 3, fallback), w, h, keep)
    keypoints, desc = _orb(keep * 3).compute(grey, keypoints)
    if desc is None or not keypoints:
        pts, desc = np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
        angles, sizes = np.zeros(0, np.float32), np.zeros(0, np.float32)
    else:
        pts = np.array([k.pt for k in keypoints], dtype=np.float32)
        angles = np.array([k.angle % 360 for k in keypoints], dtype=np.float32)
        sizes = np.array([k.size for k in keypoints], dtype=np.float32)
    ow, oh = original or (w, h)
    return LocalFeatures(w, h, pts, desc, ow, oh, mirrored, angles, sizes)


def _detect(grey: np.ndarray, n: int, fallback: tuple[int, ...] = ()) -> list:
    """Keypoints detected quarter by quarter (each with a quarter of the budget), so
    that a faint part of the picture (a soft photo beside a sharp one in a
    collage) keeps its own strongest corners instead of losing them all."""
    h, w = grey.shape[:2]
    if min(h, w) < 4 * DETECT_MARGIN:
        return _detect_part(grey, n, fallback)
    out = []
    for x0, x1 in ((0, w // 2 + DETECT_MARGIN), (w // 2 - DETECT_MARGIN, w)):
        for y0, y1 in ((0, h // 2 + DETECT_MARGIN), (h // 2 - DETECT_MARGIN, h)):
            part = np.ascontiguousarray(grey[y0:y1, x0:x1])
            for k in _detect_part(part, max(1, n // 4), fallback):
                x, y = k.pt[0] + x0, k.pt[1] + y0
                # each point belongs to one quarter: drop the other quarter's margin
                if (x0 and x < w // 2) or (x1 < w and x >= w // 2) or \
                        (y0 and y < h // 2) or (y1 < h and y >= h // 2):
                    continue
                out.append(cv2.KeyPoint(x, y, k.size, k.angle, k.response, k.octave))
    return out


def _spread(keypoints, w: int, h: int, keep: int) -> list:
    """``keep`` keypoints spread evenly over a GRID x GRID grid: every cell gives its
    strongest, then its second strongest..., so no part of the picture is left out
    because another part has stronger corners."""
    if len(keypoints) <= keep:
        return list(keypoints)
    cells: dict[tuple[int, int], list] = {}
    for k in sorted(keypoints, key=lambda k: -k.response):
        cell = (min(GRID - 1, int(k.pt[0] * GRID / w)), min(GRID - 1, int(k.pt[1] * GRID / h)))
        cells.setdefault(cell, []).append(k)
    chosen: list = []
    rank = 0
    while len(chosen) < keep:
        layer = [c[rank] for c in cells.values() if len(c) > rank]
        if not layer:
            break
        chosen.extend(sorted(layer, key=lambda k: -k.response)[: keep - len(chosen)])
        rank += 1
    return chosen


def registration_features(path: str | Path | BinaryIO, *,
                          max_pixels: int = DEFAULT_MAX_PIXELS) -> LocalFeatures:
    grey, width, height = feature_image(path, max_pixels=max_pixels)
    return registration_features_of(grey, (width, height))


def registration_features_of(grey: np.ndarray, original: tuple[int, int]) -> LocalFeatures:
    """Keypoints at two resolutions: the picture as decoded, and at half size
    (:data:`COARSE_SHARE` of them), so that a copy shown much smaller (a collage
    tile, a screenshot) still meets keypoints of its own scale."""
    fine_n = round(REGISTERED_KEYPOINTS * (1 - COARSE_SHARE))
    fine = extract(grey, fine_n, original=original, fallback=REGISTERED_FALLBACK_THRESHOLDS)
    half = cv2.resize(grey, (max(1, grey.shape[1] // 2), max(1, grey.shape[0] // 2)),
                      interpolation=cv2.INTER_AREA)
    coarse = extract(half, REGISTERED_KEYPOINTS - fine_n, fallback=REGISTERED_FALLBACK_THRESHOLDS)
    sx, sy = grey.shape[1] / half.shape[1], grey.shape[0] / half.shape[0]
    # freshly extracted keypoints always carry their geometry (only old blobs lack it)
    assert fine.angles is not None and coarse.angles is not None
    assert fine.sizes is not None and coarse.sizes is not None
    points = np.vstack([fine.points, coarse.points * np.array([sx, sy], dtype=np.float32)])
    descriptors = np.vstack([fine.descriptors, coarse.descriptors])
    angles = np.concatenate([fine.angles, coarse.angles]).astype(np.float32)
    sizes = np.concatenate([fine.sizes, coarse.sizes * np.float32((sx + sy) / 2)])
    return LocalFeatures(fine.width, fine.height, points.astype(np.float32), descriptors,
                         fine.original_width, fine.original_height, angles=angles,
                         sizes=sizes.astype(np.float32))


def query_features(path: str | Path | BinaryIO, *,
                   max_pixels: int = DEFAULT_MAX_PIXELS) -> list[LocalFeatures]:
    """The query's features, upright and mirrored."""
    grey, width, height = feature_image(path, max_pixels=max_pixels)
    return query_features_of(grey, (width, height))


def query_features_of(grey: np.ndarray, original: tuple[int, int]) -> list[LocalFeatures]:
    """Upright and mirrored keypoints (a query under :data:`MIN_QUERY_SIDE`, if set,
    is first enlarged to it)."""
    if MIN_QUERY_SIDE and max(grey.shape) < MIN_QUERY_SIDE:
        scale = MIN_QUERY_SIDE / max(grey.shape)
        grey = cv2.resize(grey, (round(grey.shape[1] * scale), round(grey.shape[0] * scale)),
                          interpolation=cv2.INTER_CUBIC)
    fallback = QUERY_FALLBACK_THRESHOLDS if max(grey.shape) < FALLBACK_QUERY_SIDE else ()
    return [extract(grey, QUERY_KEYPOINTS, original=original, fallback=fallback),
            extract(np.ascontiguousarray(grey[:, ::-1]), QUERY_KEYPOINTS, original=original,
                    mirrored=True, fallback=fallback)]  # fmt: skip


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Region:
    """A rectangle as fractions of a picture's width and height."""

    x: float
    y: float
    w: float
    h: float

    def to_dict(self) -> dict[str, float]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}

    @property
    def area(self) -> float:
        return self.w * self.h


WHOLE = Region(0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class Transform:
    """What was done to the registered picture to make (its part of) the query."""

    rotation_degrees: float  # counter-clockwise, as seen; (-180, 180]
    scale: float  # query pixels per registered pixel (original sizes)
    mirrored: bool
    crop: Region  # the part of the registered picture that is visible

    def to_dict(self) -> dict[str, Any]:
        return {"rotation_degrees": self.rotation_degrees, "scale": self.scale,
                "mirrored": self.mirrored, "crop": self.crop.to_dict()}  # fmt: skip


@dataclass(frozen=True)
class FeatureMatch:
    """An accepted geometric match of a query against one registered picture."""

    inliers: int
    pairs: int
    score: float
    region: Region  # where the registered picture sits in the query
    transform: Transform
    label: str | None
    homography: np.ndarray  # registered feature frame -> query feature frame (3x3)
    inlier_points: np.ndarray  # (k, 4): query x, y, registered x, y (feature frames)


def _pairs(query: LocalFeatures, ref: LocalFeatures) -> tuple[np.ndarray, np.ndarray]:
    """(query indexes, registered indexes) of mutual ratio-test pairs.

    The two nearest registered descriptors of every query descriptor come from
    ``cv2.batchDistance`` (what ``BFMatcher.knnMatch`` runs, returned as arrays
    instead of 4,000 ``DMatch`` objects read in a Python loop)."""
    if len(query) < 2 or len(ref) < 2:
        return np.zeros(0, int), np.zeros(0, int)
    dist, nearest = cv2.batchDistance(query.descriptors, ref.descriptors, cv2.CV_32S, K=2,
                                      normType=cv2.NORM_HAMMING)
    best, second = dist[:, 0], dist[:, 1]
    kept = (best <= MAX_PAIR_DISTANCE) & (best < RATIO * second)
    qi_a = np.flatnonzero(kept)
    if not qi_a.size:
        return np.zeros(0, int), np.zeros(0, int)
    ri_a = nearest[kept, 0].astype(np.int64)
    # one query keypoint per registered keypoint (the first, i.e. any: ratio already applied)
    _, first = np.unique(ri_a, return_index=True)
    return qi_a[first], ri_a[first]


#: Cells of :func:`agreeing_pair_count`: the turn (degrees) and the log2 scale
#: from a registered keypoint to its query keypoint.
AGREE_TURN_BIN = 30.0
AGREE_SCALE_BIN = 0.5


def agreeing_pair_count(query: LocalFeatures, ref: LocalFeatures) -> int:
    """The most ratio-test pairs (those :func:`verify` starts from) that agree on one
    turn and one scale (cells of AGREE_TURN_BIN and AGREE_SCALE_BIN, and the grids
    shifted by half a cell): a copy's pairs agree, chance pairs scatter. All the
    pairs when either side has no keypoint geometry (features of format 1).

    A sample of the query (:meth:`LocalFeatures.sample`) pairs no more registered
    keypoints than the whole query: a query keypoint's two nearest registered
    descriptors do not depend on the other query keypoints."""
    qi, ri = _pairs(query, ref)
    if not qi.size or query.angles is None or query.sizes is None \
            or ref.angles is None or ref.sizes is None:
        return int(qi.size)
    turn = (query.angles[qi].astype(np.float64) - ref.angles[ri]) % 360.0
    log_scale = np.log2(np.maximum(query.sizes[qi], 1e-3) / np.maximum(ref.sizes[ri], 1e-3))
    bins = round(360 / AGREE_TURN_BIN)
    best = 0
    for shift_turn, shift_scale in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)):
        a = np.floor(turn / AGREE_TURN_BIN + shift_turn).astype(np.int64) % bins
        s = np.floor(log_scale / AGREE_SCALE_BIN + shift_scale).astype(np.int64)
        best = max(best, int(np.unique(a * 4096 + s, return_counts=True)[1].max()))
    return best


def verify(query: LocalFeatures, ref: LocalFeatures) -> FeatureMatch | None:
    """The geometric match of ``query`` with ``ref``, or None if not enough agree.

    First pass: ratio-test pairs and a MAGSAC homography. When that is refused
    (a small or smooth part of the picture gives few pairs that pass the ratio
    test), a second pass fits a similarity to the pairs (a few agreeing ones are
    enough to guess it), then looks for every registered keypoint next to where
    that guess puts it in the query, with a close descriptor (guided matching),
    and fits the homography again on those pairs. The acceptance rules are the
    same for both passes: a wrong guess finds no keypoints of its own to agree
    with it, so it is refused as before."""
    qi, ri = _pairs(query, ref)
    if qi.size < MIN_SEED_INLIERS:
        return None
    tol = RANSAC_TOLERANCE * max(query.width, query.height)
    if qi.size >= MIN_INLIERS:
        fitted = _fit(query.points[qi], ref.points[ri], tol)
        if fitted is not None:
            m = _accept(query, ref, *fitted, pairs=int(qi.size), tol=tol)
            if m is not None:
                return m
    guessed = _guided_pairs(query, ref, qi, ri, tol)
    if guessed is None:
        return None
    gqi, gri, shown = guessed
    least = max(MIN_INLIERS, math.ceil(GUIDED_COVERAGE * shown))
    if gqi.size < least:
        return None
    fitted = _fit(query.points[gqi], ref.points[gri], tol)
    if fitted is None:
        return None
    return _accept(query, ref, *fitted, pairs=int(gqi.size), tol=tol, least=least)


def _fit(q_pts: np.ndarray, r_pts: np.ndarray,
         tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(homography registered -> query, query inlier points, registered inlier points)."""
    H, mask = cv2.findHomography(r_pts, q_pts, cv2.USAC_MAGSAC, tol, maxIters=2000,
                                 confidence=0.999)  # fmt: skip
    if H is None or mask is None:
        return None
    inl = mask.ravel().astype(bool)
    return H, q_pts[inl], r_pts[inl]


def _accept(query: LocalFeatures, ref: LocalFeatures, H: np.ndarray, q_in: np.ndarray,
            r_in: np.ndarray, *, pairs: int, tol: float,
            least: int = MIN_INLIERS) -> FeatureMatch | None:
    """The match a fitted homography gives, if it passes every rule (at least
    ``least`` inliers, their share of the pairs and their spread, a plausible frame)."""
    n_in = len(r_in)
    if n_in < least or n_in < MIN_INLIER_RATIO * pairs:
        return None
    H, similar = _simplest(H, r_in, q_in, tol)
    if not _spread_enough(r_in, ref, similar):
        return None
    if query.mirrored:  # back to the real query's frame: x -> W - x
        flip = np.array([[-1.0, 0, query.width], [0, 1, 0], [0, 0, 1]])
        H = flip @ H
    q_in = q_in.copy()
    if query.mirrored:
        q_in[:, 0] = query.width - q_in[:, 0]
    geometry = _geometry(H, query, ref, _confirmed(H, query, ref, r_in.astype(np.float64)))
    if geometry is None:
        return None
    region, transform = geometry
    score = round(min(1.0, 0.5 + n_in / 80.0), 4)
    return FeatureMatch(n_in, pairs, score, region, transform, label_of(region, transform),
                        H, np.hstack([q_in, r_in]).astype(np.float32))


def _spread_enough(r_in: np.ndarray, ref: LocalFeatures, similar: bool) -> bool:
    """Inliers spread over the registered picture: MIN_INLIER_SPREAD of its side on
    both axes. A similarity (4 degrees of freedom) is well fixed by points along
    one band too (a horizon, a shoreline: common in a quarter of a landscape), so
    when one explains the inliers, a band suffices if it is long and well
    populated (:data:`BAND_SPREAD`, :data:`BAND_INLIERS`)."""
    spread = np.ptp(r_in, axis=0) / np.array([ref.width, ref.height], np.float32)
    if min(spread) >= MIN_INLIER_SPREAD:
        return True
    return (similar and len(r_in) >= BAND_INLIERS and max(spread) >= BAND_SPREAD
            and min(spread) >= BAND_MIN_WIDTH)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _guided_pairs(query: LocalFeatures, ref: LocalFeatures, qi: np.ndarray, ri: np.ndarray,
                  tol: float) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(query indexes, registered indexes, registered keypoints placed inside the
    query) of pairs found next to where a similarity guessed from the ratio-test
    pairs puts each registered keypoint: the closest descriptor within
    GUIDED_DISTANCE among the query keypoints within GUIDED_RADIUS x tol of it,
    one pair per query keypoint. None when no guess has MIN_SEED_INLIERS pairs
    agreeing or it is not a plausible scale."""
    S, mask = cv2.estimateAffinePartial2D(ref.points[ri], query.points[qi], method=cv2.RANSAC,
                                          ransacReprojThreshold=tol, maxIters=2000,
                                          confidence=0.999)  # fmt: skip
    if S is None or mask is None or int(mask.sum()) < MIN_SEED_INLIERS:
        return None
    scale = math.sqrt(abs(float(np.linalg.det(S[:, :2]))))
    if not MIN_GUIDED_SCALE <= scale <= MAX_GUIDED_SCALE:
        return None
    projected = ref.points.astype(np.float64) @ S[:, :2].T + S[:, 2]
    q_pts = query.points.astype(np.float64)
    radius = GUIDED_RADIUS * tol
    inside = ((projected[:, 0] > -radius) & (projected[:, 0] < query.width + radius)
              & (projected[:, 1] > -radius) & (projected[:, 1] < query.height + radius))
    r_idx = np.nonzero(inside)[0]
    if not r_idx.size:
        return None
    near = (np.abs(projected[r_idx, None, 0] - q_pts[None, :, 0]) <= radius) & (
        np.abs(projected[r_idx, None, 1] - q_pts[None, :, 1]) <= radius)
    rr, qq = np.nonzero(near)
    if not rr.size:
        return None
    rr = r_idx[rr]
    dist = _POPCOUNT[np.bitwise_xor(ref.descriptors[rr], query.descriptors[qq])].sum(axis=1)
    # the closest descriptor per registered keypoint, kept only if clearly closer than
    # the next one around it (GUIDED_RATIO: lettering and repeated patterns offer
    # many look-alike corners within the radius; a real match has one)
    order = np.lexsort((dist, rr))
    rr, qq, dist = rr[order], qq[order], dist[order]
    first = np.r_[True, rr[1:] != rr[:-1]]
    second = np.r_[first[1:] == 0, False] & first  # the group has a second candidate
    runner_up = np.full(rr.size, np.inf)
    runner_up[second] = dist[np.nonzero(second)[0] + 1]
    keep = first & (dist <= GUIDED_DISTANCE) & (dist < GUIDED_RATIO * runner_up)
    rr, qq, dist = rr[keep], qq[keep], dist[keep]
    if not rr.size:
        return None
    # one registered keypoint per query keypoint
    order = np.lexsort((dist, qq))
    rr, qq = rr[order], qq[order]
    first = np.r_[True, qq[1:] != qq[:-1]]
    return qq[first], rr[first], int(r_idx.size)


def _simplest(H: np.ndarray, r_in: np.ndarray, q_in: np.ndarray,
              tol: float) -> tuple[np.ndarray, bool]:
    """A similarity (turn, scale, shift) instead of the homography when it explains
    the inliers as well: it extrapolates to the picture's corners far better.
    Returns (the transform, whether it is the similarity)."""
    S, _ = cv2.estimateAffinePartial2D(r_in, q_in, method=cv2.LMEDS)
    if S is None:
        return H, False
    residual = np.linalg.norm(r_in @ S[:, :2].T + S[:, 2] - q_in, axis=1)
    if np.mean(residual <= tol) >= SIMILARITY_SHARE:
        return np.vstack([S, [0.0, 0.0, 1.0]]), True
    return H, False


def _project(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = np.hstack([pts, np.ones((len(pts), 1))]) @ H.T
    return p[:, :2] / p[:, 2:3]


def _geometry(H: np.ndarray, query: LocalFeatures, ref: LocalFeatures,
              r_seen: np.ndarray) -> tuple[Region, Transform] | None:
    """Region and transform of a homography, or None if it is implausible."""
    rw, rh, qw, qh = ref.width, ref.height, query.width, query.height
    corners = np.array([[0, 0], [rw, 0], [rw, rh], [0, rh]], dtype=np.float64)
    denom = np.hstack([corners, np.ones((4, 1))]) @ H[2]
    if np.any(denom <= 1e-6):  # the frame folds through the horizon
        return None
    quad = _project(H, corners)
    if not _plausible_quad(quad):
        return None
    # Jacobian at the registered picture's centre, in original pixels.
    c = np.array([[rw / 2, rh / 2]])
    eps = 1.0
    p0 = _project(H, c)[0]
    jx = (_project(H, c + [[eps, 0]])[0] - p0) / eps
    jy = (_project(H, c + [[0, eps]])[0] - p0) / eps
    J = np.column_stack([jx, jy])
    sq = np.diag([query.original_width / qw if qw else 1, query.original_height / qh if qh else 1])
    sr = np.diag([rw / ref.original_width if ref.original_width else 1,
                  rh / ref.original_height if ref.original_height else 1])  # fmt: skip
    A = sq @ J @ sr
    det = float(np.linalg.det(A))
    if abs(det) < 1e-12:
        return None
    sv = np.linalg.svd(A, compute_uv=False)
    if sv[0] / sv[1] > MAX_ANISOTROPY:
        return None
    mirrored = det < 0
    B = A @ np.diag([-1.0, 1.0]) if mirrored else A
    # y points down: a picture turned counter-clockwise by t maps x to (cos t, -sin t).
    rotation = math.degrees(math.atan2(-B[1, 0], B[0, 0]))
    rotation = _snap(rotation)
    scale = round(math.sqrt(abs(det)), 4)
    # the visible part, in the registered frame (a crop is a rectangle there)
    feature_scale = math.sqrt(abs(float(np.linalg.det(J))))
    x0, y0, x1, y1 = _visible_box(r_seen, rw, rh, EDGE / max(feature_scale, 1e-6))
    try:  # the query's own frame seen from the registered picture bounds it too
        back = _project(np.linalg.inv(H), np.array([[0, 0], [qw, 0], [qw, qh], [0, qh]],
                                                   dtype=np.float64))
    except np.linalg.LinAlgError:
        return None
    x0, y0 = max(x0, float(back[:, 0].min())), max(y0, float(back[:, 1].min()))
    x1, y1 = min(x1, float(back[:, 0].max())), min(y1, float(back[:, 1].max()))
    if x1 <= x0 or y1 <= y0:
        return None
    crop = _clip(x0 / rw, y0 / rh, x1 / rw, y1 / rh)
    box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    shown = _project(H, box)
    sx0, sy0 = shown.min(axis=0)
    sx1, sy1 = shown.max(axis=0)
    region = _clip(sx0 / qw, sy0 / qh, sx1 / qw, sy1 / qh)
    if region.area < MIN_REGION_SHARE:
        return None
    return region, Transform(rotation, scale, mirrored, crop)


def _confirmed(H: np.ndarray, query: LocalFeatures, ref: LocalFeatures,
               r_in: np.ndarray) -> np.ndarray:
    """Registered-frame positions of the registered keypoints seen again: projected by
    ``H`` next to a query keypoint (``H`` maps into the real, unmirrored query
    frame) with a close descriptor. They cover the visible part of the picture far
    better than the inliers of the ratio test alone."""
    projected = _project(H, ref.points.astype(np.float64))
    q_pts = query.points.astype(np.float64)
    if query.mirrored:
        q_pts = q_pts.copy()
        q_pts[:, 0] = query.width - q_pts[:, 0]
    radius = RANSAC_TOLERANCE * max(query.width, query.height)
    near = (np.abs(projected[:, None, 0] - q_pts[None, :, 0]) <= radius) & (
        np.abs(projected[:, None, 1] - q_pts[None, :, 1]) <= radius)
    ri, qi = np.nonzero(near)
    if not ri.size:
        return r_in
    xor = np.bitwise_xor(ref.descriptors[ri], query.descriptors[qi])
    dist = np.unpackbits(xor, axis=1).sum(axis=1)
    seen = ref.points[np.unique(ri[dist <= CONFIRM_DISTANCE])].astype(np.float64)
    return np.vstack([r_in, seen]) if seen.size else r_in


def _visible_box(r_seen: np.ndarray, rw: int, rh: int, margin: float) -> tuple[float, ...]:
    """The part of the registered picture visible in the query: (x0, y0, x1, y1)
    pixels of the registered frame.

    The registered keypoints seen again (``r_seen``) understate it: ORB keeps
    EDGE pixels away from a picture's edges (``margin``: the query's border in
    registered pixels). So each side is the points' side pushed out by that
    border, or the registered picture's own edge when within SNAP of it; the
    single most extreme point on each side is ignored (a seam can fake one).
    """
    if len(r_seen) >= 20:
        ordered = np.sort(r_seen, axis=0)
        lo, hi = ordered[1], ordered[-2]
    else:
        lo, hi = r_seen.min(axis=0), r_seen.max(axis=0)
    pad = VISIBLE_PAD * max(margin, EDGE)  # generous: the query's frame trims it exactly
    x0 = 0.0 if lo[0] <= 2 * pad else lo[0] - pad
    y0 = 0.0 if lo[1] <= 2 * pad else lo[1] - pad
    x1 = float(rw) if rw - hi[0] <= 2 * pad else hi[0] + pad
    y1 = float(rh) if rh - hi[1] <= 2 * pad else hi[1] + pad
    return max(0.0, x0), max(0.0, y0), min(float(rw), x1), min(float(rh), y1)


def _plausible_quad(quad: np.ndarray) -> bool:
    """Convex, same orientation at every corner, corners not far from right angles."""
    crosses, angles = [], []
    for i in range(4):
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        u, v = a - b, c - b
        crosses.append(u[0] * v[1] - u[1] * v[0])
        nu, nv = np.linalg.norm(u), np.linalg.norm(v)
        if nu < 1e-6 or nv < 1e-6:
            return False
        cosine = float(u @ v) / float(nu * nv)
        angles.append(math.degrees(math.acos(max(-1.0, min(1.0, cosine)))))
    if not (all(x > 0 for x in crosses) or all(x < 0 for x in crosses)):
        return False
    return max(abs(a - 90.0) for a in angles) <= MAX_CORNER_ANGLE_ERROR


def _snap(rotation: float) -> float:
    for quarter in (-180.0, -90.0, 0.0, 90.0, 180.0):
        if abs(rotation - quarter) <= QUARTER_SNAP:
            rotation = quarter
            break
    rotation = round(rotation, 1)
    if rotation <= -180.0:
        rotation += 360.0
    return rotation + 0.0  # no -0.0


def _clip(x0: float, y0: float, x1: float, y1: float) -> Region:
    x0, y0 = max(0.0, min(1.0, x0)), max(0.0, min(1.0, y0))
    x1, y1 = max(0.0, min(1.0, x1)), max(0.0, min(1.0, y1))
    return Region(round(x0, 4), round(y0, 4), round(max(0.0, x1 - x0), 4),
                  round(max(0.0, y1 - y0), 4))  # fmt: skip


def label_of(region: Region, transform: Transform) -> str | None:
    """The one change label shown to people: a turn first, then a mirror, a crop,
    an embedding (border, caption, collage, screenshot); else identical."""
    r = abs(transform.rotation_degrees)
    if min(r, 360 - r) >= ROTATED_FROM:
        return "rotated"
    if transform.mirrored:
        return "mirrored"
    if transform.crop.area < CROPPED_BELOW:
        return "cropped"
    if region.area < EMBEDDED_BELOW:
        return "bordered"
    return "identical"


def best_match(queries: list[LocalFeatures], ref: LocalFeatures) -> FeatureMatch | None:
    """The better of the upright and mirrored queries' matches with ``ref``."""
    best: FeatureMatch | None = None
    for q in queries:
        m = verify(q, ref)
        if m is not None and (best is None or m.inliers > best.inliers):
            best = m
    return best
