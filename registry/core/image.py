"""Image intake and perceptual hashing.

``load_image`` turns a file into a normalised RGB picture (type from content,
pixel limit checked from the header before decoding, EXIF orientation applied,
alpha flattened on white, colour profile ignored, JPEGs decoded in draft mode).

``hash_image`` computes the registration hashes: a 64-bit pHash, dHash and wHash
(imagehash) for several *windows* of the picture -- the whole frame, central
crops at 80% and 60%, the frame with uniform borders trimmed, and the mirrored
frame; the four corner quarters are hashed too, as *search windows* kept out of
the fingerprint digest (a query that is one corner of a registered picture is
found by them). ``query_variants`` computes the query side: the whole query, its
trimmed and mirrored forms and counter-rotations of a few degrees. A query
variant matched against a registered window tells what was done to the picture
(cropped, bordered, mirrored, rotated).

Everything here is plain Python (Pillow, numpy, imagehash); nothing imports Flask.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import imagehash
import numpy as np
from PIL import Image, ImageEnhance, ImageOps, UnidentifiedImageError

from registry.core.errors import (
    CorruptMedia,
    FeaturelessImage,
    ImageTooSmall,
    TooManyPixels,
    UnsupportedMediaType,
)

try:  # HEIF/HEIC and AVIF decoding
    import pillow_heif

    pillow_heif.register_heif_opener()
    if hasattr(pillow_heif, "register_avif_opener"):
        pillow_heif.register_avif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    pillow_heif = None  # type: ignore[assignment]

#: Pillow format names accepted, mapped to the names reported to callers.
ALLOWED_FORMATS: dict[str, str] = {
    "JPEG": "jpeg",
    "MPO": "jpeg",  # multi-picture JPEG straight out of many cameras
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "BMP": "bmp",
    "TIFF": "tiff",
    "HEIF": "heif",
    "AVIF": "avif",
}

DEFAULT_MAX_PIXELS = 80_000_000
#: Longest side of the normalised picture (it also feeds thumbnails).
NORMAL_SIDE = 512
#: JPEG draft decoding may stop at this fraction of NORMAL_SIDE: a 12 MP photo
#: is then decoded at 1/8 scale (500x375), which is most of the speed-up.
DRAFT_FRACTION = 0.7
#: Longest side of the picture the hashes are computed on. pHash looks at a
#: 32x32 reduction and wHash at 64x64, so more resolution only costs time.
WORK_SIDE = 256
MIN_SIDE = 16
#: Standard deviation (0-255 grey levels) under which a picture is "flat".
FEATURELESS_STD = 2.0
#: The same for a *query*: a corner of a smooth photo (a sky, a soft gradient) often
#: has a grey deviation of 0.5-2 and is still found by the quarter's search window
#: (pHash ignores contrast); a lookup is refused only when flatter than this.
QUERY_FEATURELESS_STD = 0.5

#: Radius used to find candidates in the index (pHash or wHash, bits of 64).
PHASH_RADIUS = 10
#: Hash kinds written to the index, each for every indexed window.
INDEXED_KINDS: tuple[str, ...] = ("phash", "whash")
#: Largest mean of the (pHash, dHash, wHash) distances accepted as a match.
ACCEPT_MEAN_DISTANCE = 12.0
#: Largest pHash + dHash distance accepted. wHash (block means) is the least
#: discriminating of the three; this keeps a near wHash alone from carrying a
#: match between unrelated pictures of similar layout.
ACCEPT_PD_SUM = 26
#: Largest pHash distance accepted, whatever the other two say. A smooth picture
#: (a blurred background, a grey sky) has dHash and wHash of few meaningful bits,
#: so two unrelated smooth corners came within 2-4 of each other at pHash 18-20 and
#: were accepted. On 899 hash matches of real photos under the transforms found
#: before issue #17, pHash was at most 12 (benchmarks/README_image.md, "Session 9").
ACCEPT_MAX_PHASH = 16
#: Central crops stored as extra windows (fraction of each side kept).
CROP_WINDOWS: dict[str, float] = {"c80": 0.80, "c60": 0.60}
#: Angles (degrees) the query is counter-rotated by to undo small rotations.
QUERY_ANGLES: tuple[float, ...] = (-4.0, -2.0, 2.0, 4.0)
#: Central fractions kept from each counter-rotated query (see ``_derotated``).
ROTATION_CROPS: tuple[float, ...] = (0.8, 0.9)
#: Windows written to the search index (the mirror is searched from the query side).
INDEXED_WINDOWS: tuple[str, ...] = ("full", "trim", "c80", "c60", "bright")
#: Corner quarters of the registered picture, indexed as *search windows* (issue
#: #17: a user crops one corner of a photo): name -> (left, top) of the quarter, as
#: fractions of the width and height. They are kept apart from the fingerprint
#: (``ImageHashes.search_windows``): the digest a ledger entry quotes stays that of
#: ``windows``, so works registered before them still verify, and ``flask index
#: rebuild`` can add them to old works from the stored file.
QUADRANT_WINDOWS: dict[str, tuple[float, float]] = {
    "q_tl": (0.0, 0.0), "q_tr": (0.5, 0.0), "q_bl": (0.0, 0.5), "q_br": (0.5, 0.5),
}
#: Acceptance of a query against a quadrant window, stricter than for a whole frame:
#: a quarter of a smooth photo (sky, a gradient) is generic, and the query side is
#: any picture at all. On real photos (benchmarks/README_image.md, session 13) the
#: right quarter's mean distance was at most 7 for 97.7 % of 1,192 quarters; an
#: unrelated crop came within pHash 2, dHash 1 of a sky quarter (wHash 20, mean 7.7),
#: and the nearest wrong quarters were at mean 8.3.
QUADRANT_MAX_PHASH = 8
QUADRANT_MAX_PD_SUM = 16
QUADRANT_MAX_MEAN = 7.0
#: Query variants tried against quadrant windows: the query as it is.
QUADRANT_VARIANTS: tuple[str, ...] = ("base",)
#: Gain of the ``bright`` window: a brightened copy (colour channels clipped as
#: an editor would), so that a query whose highlights were clipped by a
#: brightness increase still finds its original.
BRIGHT_GAIN = 1.4


# --------------------------------------------------------------------------- intake


@dataclass(frozen=True)
class LoadedImage:
    """A decoded picture, normalised for hashing.

    ``image`` is RGB, at most ``NORMAL_SIDE`` pixels on its longest side;
    ``width``/``height`` are the original dimensions (after EXIF orientation).
    """

    image: Image.Image
    format: str
    width: int
    height: int
    animated: bool = False


def load_image(
    path: str | Path | BinaryIO, *, max_pixels: int = DEFAULT_MAX_PIXELS,
    min_std: float = FEATURELESS_STD,
) -> LoadedImage:
    """Open, check and normalise the picture at ``path`` (or an open binary file).

    Raises UnsupportedMediaType, TooManyPixels, CorruptMedia, ImageTooSmall or
    FeaturelessImage (grey deviation under ``min_std``: a query passes
    :data:`QUERY_FEATURELESS_STD`) with a clear reason.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=None) as im:
                fmt = _check_format(im)
                _check_header_size(im, max_pixels)
                animated = bool(getattr(im, "is_animated", False))
                picture, width, height = _decode(im)
        except (TooManyPixels, UnsupportedMediaType):
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels.because("too_many_pixels", max_pixels=max_pixels) from exc
        except UnidentifiedImageError as exc:
            raise UnsupportedMediaType.because("image_type_refused") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptMedia.because("image_undecodable", decoder_error=str(exc)[:300]) from exc
    _check_content(picture, min_std)
    return LoadedImage(picture, fmt, width, height, animated)


def _check_format(im: Image.Image) -> str:
    fmt = ALLOWED_FORMATS.get(im.format or "")
    if fmt is None:
        raise UnsupportedMediaType.because(
            "image_format_refused", {"format": im.format or "?"}, format=im.format
        )
    return fmt


def _check_header_size(im: Image.Image, max_pixels: int) -> None:
    width, height = im.size
    if width * height > max_pixels:
        raise TooManyPixels.because(
            "too_many_pixels_limit",
            {"pixels": f"{width * height:,}", "limit": f"{max_pixels:,}"},
            pixels=width * height,
            max_pixels=max_pixels,
        )
    if min(width, height) < MIN_SIDE:
        raise ImageTooSmall.because(
            "image_too_small", {"width": width, "height": height, "minimum": MIN_SIDE},
            width=width,
            height=height,
        )


_ORIENTATION_OPS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _decode(im: Image.Image) -> tuple[Image.Image, int, int]:
    """Decode the first frame to normalised RGB; return it and the oriented size."""
    orientation = im.getexif().get(0x0112, 1)
    op = _ORIENTATION_OPS.get(orientation)
    swapped = orientation in (5, 6, 7, 8)
    width, height = (im.height, im.width) if swapped else im.size
    if im.format in ("JPEG", "MPO"):
        scale = NORMAL_SIDE * DRAFT_FRACTION / max(im.size)
        if scale < 1:
            im.draft("RGB", (max(1, int(im.width * scale)), max(1, int(im.height * scale))))
    im.seek(0)
    im.load()
    picture = _to_rgb(im)
    if max(picture.size) > NORMAL_SIDE:
        picture.thumbnail((NORMAL_SIDE, NORMAL_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    if op is not None:
        picture = picture.transpose(op)
    return picture, width, height


def _to_rgb(im: Image.Image) -> Image.Image:
    """RGB with any transparency composited on white; ICC profiles are ignored."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        hi = float(arr.max()) or 1.0
        im = Image.fromarray(np.clip(arr * (255.0 / hi), 0, 255).astype(np.uint8), "L")
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (
        im.mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return im.convert("RGB")


def _check_content(picture: Image.Image, min_std: float) -> None:
    grey = np.asarray(picture.convert("L"), dtype=np.float32)
    if float(grey.std()) < min_std:
        raise FeaturelessImage.because("featureless", std=round(float(grey.std()), 3))


# --------------------------------------------------------------------------- hashes


@dataclass(frozen=True)
class WindowHash:
    """pHash, dHash and wHash of one window of a picture, as unsigned 64-bit ints."""

    phash: int
    dhash: int
    whash: int

    def to_dict(self) -> dict[str, str]:
        return {"phash": _hex(self.phash), "dhash": _hex(self.dhash), "whash": _hex(self.whash)}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> WindowHash:
        return cls(int(data["phash"], 16), int(data["dhash"], 16), int(data["whash"], 16))


@dataclass(frozen=True)
class ImageHashes:
    """The registration hashes of a picture.

    ``windows`` maps a window name to its hashes: ``full`` (the whole frame),
    ``trim`` (uniform borders removed, only when there were some), ``c80`` and
    ``c60`` (central crops), ``bright`` (the whole frame brightened by
    ``BRIGHT_GAIN`` with clipping) and ``mirror`` (the whole frame flipped left-right).
    ``colorhash`` is imagehash's colour histogram hash (hex), informative only.

    ``search_windows`` (the corner quarters, :data:`QUADRANT_WINDOWS`) are index
    data, not fingerprint: ``to_dict``, ``canonical_json`` and ``digest`` leave them
    out, ``stored_json`` (what the index keeps) has them.
    """

    windows: dict[str, WindowHash]
    colorhash: str = ""
    version: int = 1
    search_windows: dict[str, WindowHash] = field(default_factory=dict)

    @property
    def phash(self) -> int:
        return self.windows["full"].phash

    @property
    def dhash(self) -> int:
        return self.windows["full"].dhash

    @property
    def whash(self) -> int:
        return self.windows["full"].whash

    @property
    def mirrored_phash(self) -> int:
        return self.windows["mirror"].phash

    def indexed(self) -> Iterator[tuple[str, str, int]]:
        """(kind, window, value) triples that belong in the search index."""
        for name in INDEXED_WINDOWS:
            if name in self.windows:
                for kind in INDEXED_KINDS:
                    yield kind, name, getattr(self.windows[name], kind)
        for name in QUADRANT_WINDOWS:
            if name in self.search_windows:
                for kind in INDEXED_KINDS:
                    yield kind, name, getattr(self.search_windows[name], kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "colorhash": self.colorhash,
            "windows": {name: w.to_dict() for name, w in sorted(self.windows.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageHashes:
        windows = {name: WindowHash.from_dict(w) for name, w in data["windows"].items()}
        search = {name: WindowHash.from_dict(w)
                  for name, w in data.get("search_windows", {}).items()}
        return cls(windows, str(data.get("colorhash", "")), int(data.get("version", 1)), search)

    def with_search_windows(self, search_windows: dict[str, WindowHash]) -> ImageHashes:
        """The same fingerprint with these search windows (an old work's, added later)."""
        return ImageHashes(self.windows, self.colorhash, self.version, dict(search_windows))

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def stored_json(self) -> str:
        """The fingerprint plus the search windows: what the index keeps of a work."""
        data = self.to_dict()
        if self.search_windows:
            data["search_windows"] = {
                name: w.to_dict() for name, w in sorted(self.search_windows.items())
            }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """SHA-256 (hex) of the canonical JSON form: what a certificate can quote."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class QueryVariant:
    """One form of a query picture and the transformation it would undo."""

    name: str
    transformation: str | None
    hashes: WindowHash


@dataclass(frozen=True)
class QueryHashes:
    variants: list[QueryVariant] = field(default_factory=list)

    def phashes(self) -> list[int]:
        return sorted({v.hashes.phash for v in self.variants})

    def index_values(self) -> list[int]:
        """Every value to look up in the index (all indexed kinds of all variants)."""
        return sorted({getattr(v.hashes, k) for v in self.variants for k in INDEXED_KINDS})


def _hex(value: int) -> str:
    return f"{value:016x}"


def _bits_to_int(h: imagehash.ImageHash) -> int:
    return int.from_bytes(np.packbits(np.asarray(h.hash, dtype=bool).ravel()).tobytes(), "big")


def window_hash(grey: Image.Image) -> WindowHash:
    """pHash, dHash and wHash of a greyscale ("L") picture."""
    small = grey.resize((64, 64), Image.Resampling.BOX) if min(grey.size) > 64 else grey
    return WindowHash(
        _bits_to_int(imagehash.phash(grey)),
        _bits_to_int(imagehash.dhash(grey)),
        _bits_to_int(imagehash.whash(small, image_scale=64 if min(small.size) >= 64 else 16)),
    )


def central_crop(picture: Image.Image, fraction: float) -> Image.Image:
    width, height = picture.size
    dx, dy = width * (1 - fraction) / 2, height * (1 - fraction) / 2
    box = (round(dx), round(dy), round(width - dx), round(height - dy))
    return picture.crop(box)


def trim_borders(picture: Image.Image, *, max_fraction: float = 0.4) -> Image.Image | None:
    """The picture without uniform bars on its edges, or None if there are none.

    A bar is a run of edge rows (or columns) each of nearly one colour, close
    to the colour of the outermost line -- letterboxing, passe-partout or the
    canvas of a rotated picture.
    """
    arr = np.asarray(picture.convert("L"), dtype=np.int16)
    height, width = arr.shape
    top = _uniform_run(arr, max_fraction)
    bottom = _uniform_run(arr[::-1], max_fraction)
    left = _uniform_run(arr.T, max_fraction)
    right = _uniform_run(arr.T[::-1], max_fraction)
    if max(top, bottom, left, right) < max(2, 0.02 * min(height, width)):
        return None
    box = (left, top, width - right, height - bottom)
    if box[2] - box[0] < MIN_SIDE or box[3] - box[1] < MIN_SIDE:
        return None
    return picture.crop(box)


def _uniform_run(arr: np.ndarray, max_fraction: float) -> int:
    """How many leading rows of ``arr`` form a uniform bar (plus a 1-line margin)."""
    limit = int(arr.shape[0] * max_fraction)
    edge = arr[0]
    if float(edge.std()) > 6.0:
        return 0
    colour = float(np.median(edge))
    rows = arr[:limit]
    dev = np.abs(rows - colour)
    ok = (np.percentile(dev, 90, axis=1) <= 14) & (rows.std(axis=1) <= 8.0)
    bad = np.flatnonzero(~ok)
    run = int(bad[0]) if bad.size else limit
    return run + 1 if 0 < run < limit else run


def _working(loaded: LoadedImage) -> Image.Image:
    """The picture reduced to WORK_SIDE (area average), RGB."""
    return _working_of(loaded.image)


def _working_of(picture: Image.Image) -> Image.Image:
    scale = WORK_SIDE / max(picture.size)
    if scale >= 1:
        return picture
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return picture.resize(size, Image.Resampling.BOX)


def hash_image(loaded: LoadedImage) -> ImageHashes:
    """The registration hashes of a loaded picture."""
    work = _working(loaded)
    grey = work.convert("L")
    windows = {"full": window_hash(grey), "mirror": window_hash(ImageOps.mirror(grey))}
    trimmed = trim_borders(work)
    if trimmed is not None:
        windows["trim"] = window_hash(trimmed.convert("L"))
    for name, fraction in CROP_WINDOWS.items():
        windows[name] = window_hash(central_crop(grey, fraction))
    brighter = ImageEnhance.Brightness(work).enhance(BRIGHT_GAIN)
    windows["bright"] = window_hash(brighter.convert("L"))
    colour = imagehash.colorhash(work.resize((64, 64), Image.Resampling.BOX))
    return ImageHashes(windows, str(colour), search_windows=quadrant_windows(loaded))


def quadrant_windows(loaded: LoadedImage) -> dict[str, WindowHash]:
    """Hashes of the four corner quarters (:data:`QUADRANT_WINDOWS`).

    Each quarter is cut from the normalised picture (up to ``NORMAL_SIDE``) and
    then reduced to ``WORK_SIDE``, as a query that *is* that quarter would be:
    cutting the already reduced working picture would hash a quarter at half the
    query's resolution."""
    picture = loaded.image
    width, height = picture.size
    out = {}
    for name, (left, top) in QUADRANT_WINDOWS.items():
        box = (round(left * width), round(top * height),
               round((left + 0.5) * width), round((top + 0.5) * height))
        quarter = picture.crop(box)
        out[name] = window_hash(_working_of(quarter).convert("L"))
    return out


def window_region(name: str) -> tuple[float, float, float, float] | None:
    """(x, y, w, h) of the registered picture a cropping window shows, as fractions;
    None for a window of the whole frame."""
    if name in CROP_WINDOWS:
        side = CROP_WINDOWS[name]
        margin = round((1 - side) / 2, 4)
        return margin, margin, side, side
    if name in QUADRANT_WINDOWS:
        left, top = QUADRANT_WINDOWS[name]
        return left, top, 0.5, 0.5
    return None


def query_variants(loaded: LoadedImage) -> QueryHashes:
    """The forms a query is searched under, each tagged with what it undoes."""
    picture = _working(loaded)
    grey = picture.convert("L")
    variants = [
        QueryVariant("base", None, window_hash(grey)),
        QueryVariant("mirror", "mirrored", window_hash(ImageOps.mirror(grey))),
    ]
    trimmed = trim_borders(picture)
    if trimmed is not None:
        variants.append(QueryVariant("trim", "bordered", window_hash(trimmed.convert("L"))))
    for angle in QUERY_ANGLES:
        for keep in ROTATION_CROPS:
            variants.append(
                QueryVariant(f"rot{angle:+g}/{keep:g}", "rotated", _derotated(grey, angle, keep))
            )
    return QueryHashes(variants)


def _derotated(grey: Image.Image, angle: float, keep: float) -> WindowHash:
    """Hash of the query turned by ``angle`` degrees, canvas trimmed, centre kept.

    Turning back a rotated picture leaves dark corners (or a dark frame when it
    was rotated with an expanded canvas); the frame is trimmed and the central
    ``keep`` fraction kept. 0.8 lines up with the registered ``c80`` window
    when the rotated picture kept its frame; 0.9 does when it was cropped to
    the largest rectangle without corners (about 0.9 of the frame at 5 deg).
    """
    turned = grey.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=0)
    trimmed = trim_borders(turned.convert("RGB"))
    base = trimmed.convert("L") if trimmed is not None else turned
    return window_hash(central_crop(base, keep))


# --------------------------------------------------------------------------- compare


@dataclass(frozen=True)
class ImageComparison:
    """How a query relates to a registered picture.

    ``score`` is 1 for identical hashes and falls to 0 at the distance two
    unrelated pictures typically have; ``matched`` says whether it is within
    the acceptance thresholds.
    """

    score: float
    distances: dict[str, int]
    transformation: str | None
    matched: bool
    query_variant: str = ""
    reference_window: str = ""


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def window_distances(a: WindowHash, b: WindowHash) -> dict[str, int]:
    return {
        "phash": hamming(a.phash, b.phash),
        "dhash": hamming(a.dhash, b.dhash),
        "whash": hamming(a.whash, b.whash),
    }


def score_distances(distances: Mapping[str, int]) -> tuple[float, bool]:
    """(score 0-1, accepted) for one pair of windows."""
    mean = (distances["phash"] + distances["dhash"] + distances["whash"]) / 3
    near = min(distances["phash"], distances["whash"]) <= PHASH_RADIUS
    structure = distances["phash"] + distances["dhash"] <= ACCEPT_PD_SUM
    accepted = (near and structure and mean <= ACCEPT_MEAN_DISTANCE
                and distances["phash"] <= ACCEPT_MAX_PHASH)  # fmt: skip
    return round(max(0.0, 1.0 - mean / 32.0), 4), accepted


def _transformation(variant: QueryVariant, window: str, distances: Mapping[str, int]) -> str | None:
    if variant.transformation in ("mirrored", "rotated"):
        return variant.transformation
    if window in CROP_WINDOWS:
        return "cropped"
    if (variant.transformation == "bordered") != (window == "trim"):
        return "bordered"  # borders were trimmed on one side only
    if max(distances.values()) <= 4:
        return "identical"
    return None


def _as_variants(query: QueryHashes | ImageHashes) -> list[QueryVariant]:
    if isinstance(query, QueryHashes):
        return query.variants
    names = {
        "full": ("base", None), "mirror": ("mirror", "mirrored"), "trim": ("trim", "bordered")
    }
    return [
        QueryVariant(names[n][0], names[n][1], w) for n, w in query.windows.items() if n in names
    ]


#: Ranking handicap of explanations that need a counter-rotation: a picture that
#: was merely re-encoded also matches its 2-degree turn, and should be called
#: identical, not rotated.
ROTATION_HANDICAP = 0.08


def _rank(c: ImageComparison) -> tuple[bool, float]:
    return c.matched, c.score - (ROTATION_HANDICAP if c.transformation == "rotated" else 0.0)


def compare_windows(
    variants: Iterable[QueryVariant], reference: ImageHashes, windows: Iterable[str] | None = None
) -> ImageComparison:
    """Best pairing of query variants with reference windows."""
    best: ImageComparison | None = None
    names = list(windows) if windows is not None else list(INDEXED_WINDOWS)
    for variant in variants:
        for name in names:
            ref = reference.windows.get(name)
            if ref is None:
                continue
            distances = window_distances(variant.hashes, ref)
            score, accepted = score_distances(distances)
            candidate = ImageComparison(
                score, distances, _transformation(variant, name, distances), accepted,
                variant.name, name,
            )
            if best is None or _rank(candidate) > _rank(best):
                best = candidate
    if best is None:
        return ImageComparison(0.0, {}, None, False)
    return best if best.matched else ImageComparison(
        best.score, best.distances, None, False, best.query_variant, best.reference_window
    )


def quadrant_accepted(distances: Mapping[str, int]) -> bool:
    """Whether a query is accepted as one corner quarter of a registered picture
    (stricter than :func:`score_distances`; see :data:`QUADRANT_MAX_PHASH`)."""
    phash, dhash, whash = distances["phash"], distances["dhash"], distances["whash"]
    return (phash <= QUADRANT_MAX_PHASH and phash + dhash <= QUADRANT_MAX_PD_SUM
            and (phash + dhash + whash) / 3 <= QUADRANT_MAX_MEAN)  # fmt: skip


def compare_quadrants(variants: Iterable[QueryVariant], reference: ImageHashes) -> ImageComparison:
    """Best pairing of the query as it is with the reference's corner quarters
    (its search windows); ``matched`` under :func:`quadrant_accepted` only."""
    best: ImageComparison | None = None
    for variant in variants:
        if variant.name not in QUADRANT_VARIANTS:
            continue
        for name, ref in sorted(reference.search_windows.items()):
            distances = window_distances(variant.hashes, ref)
            score, _ = score_distances(distances)
            accepted = quadrant_accepted(distances)
            candidate = ImageComparison(score, distances, "cropped" if accepted else None,
                                        accepted, variant.name, name)
            if best is None or _rank(candidate) > _rank(best):
                best = candidate
    return best if best is not None else ImageComparison(0.0, {}, None, False)


def compare(query: QueryHashes | ImageHashes, reference: ImageHashes) -> ImageComparison:
    """Compare a query (its variants, or another registration) to registered hashes:
    the whole-frame comparison, or failing it the query as one of the reference's
    corner quarters (its search windows, :func:`compare_quadrants`). The index's
    search, a comparison page and an evidence bundle all use this, so a copy the
    lookup found by a quarter is shown and reported as found.

    Pure function of the stored hashes, so a dispute can recompute it later.
    """
    variants = _as_variants(query)
    whole = compare_windows(variants, reference)
    if whole.matched or not reference.search_windows:
        return whole
    quarter = compare_quadrants(variants, reference)
    return quarter if quarter.matched else whole


# --------------------------------------------------------------------------- thumbnail


def thumbnail(loaded: LoadedImage, max_side: int = 320, *, quality: int = 82) -> bytes:
    """A JPEG thumbnail for public pages (no metadata carried over)."""
    picture = loaded.image.copy()
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
