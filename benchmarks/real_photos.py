"""A corpus of real photographs from Debian packages, for the image and video benchmarks.

    from real_photos import photo_files, source_of
    paths = photo_files(450)          # list[Path] of JPEGs under benchmarks/.cache/real_photos/

Where the pictures come from: the wallpaper packages of Debian 12
(:data:`PACKAGES`: GNOME, MATE, KDE Plasma, UKUI, sway and the Lomiri/Ubuntu
Touch sets). Together they ship about 90 distinct pictures (photographs of
landscapes, animals, plants and cities, plus some renders), far fewer than the
450 the benchmarks need. The count is made up honestly as follows, and nothing
else is invented:

* one *source* per distinct picture: exact duplicates (same SHA-256), the
  400-px preview "screenshot" files, a picture shipped again at another
  resolution or as a dark/light or portrait twin of the same design (one per
  wallpaper folder, one per ``-d``/``-l`` pair, one per name stem), and
  pictures under 1,000 px are dropped; so is a picture with the layout of a
  larger one in other colours (:func:`_one_per_design`);
* each source is cut into **distinct, non-overlapping tiles** (a grid of
  whole cells, each at least :data:`MIN_TILE` px on its short side, at most
  :data:`MAX_TILES` per source); a small source stays whole;
* a tile with little texture (flat sky, a plain gradient: fewer than
  :data:`MIN_KEYPOINTS` ORB keypoints at 1024 px, or grey deviation under 18)
  is dropped, since no recogniser can tell such tiles apart from one another;
* a tile that is a copy of an earlier tile of its source (a mirror-symmetric
  painting, a pattern of repeated motifs: :func:`_repeats`) is dropped too.

With :data:`MAX_TILES` 48 this gives 479 tiles of 91 sources, enough for issue
#17's 300 registered and 150 unregistered pictures from disjoint sources.

Tiles of one source are different pictures (no pixel is shared) but look
alike (same light, same scene), which makes the corpus *harder* for false
matches, not easier. :func:`source_of` tells a tile's source, so a benchmark
can keep registered and unregistered pictures from different sources.

The packages are installed by :func:`ensure_packages` only when the benchmark
runs as root outside CI (``CI`` unset); tests never call this module.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

PACKAGES = (
    "gnome-backgrounds", "mate-backgrounds", "plasma-workspace-wallpapers", "ukui-wallpapers",
    "sway-backgrounds", "lomiri-wallpapers", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04",
)  # fmt: skip
ROOTS = ("/usr/share/backgrounds", "/usr/share/wallpapers")
CACHE = Path(__file__).parent / ".cache" / "real_photos"
MIN_SOURCE_SIDE = 1000
MIN_TILE = 512
MAX_TILES = 48  # 24 gave 436 tiles, fewer than #17's 300 registered + 150 unregistered
MIN_KEYPOINTS = 80
VERSION = 11
DESIGN_DISTANCE = 64  # bits of 256: see _one_per_design


def ensure_packages() -> None:
    """Install the wallpaper packages when missing (root, outside CI, only from benchmarks)."""
    missing = [p for p in PACKAGES if subprocess.run(
        ["dpkg", "-s", p], capture_output=True).returncode != 0]  # fmt: skip
    if not missing:
        return
    if os.geteuid() != 0 or os.environ.get("CI"):
        print(f"real_photos: missing {' '.join(missing)} (install them as root); using what exists")
        return
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                   check=False, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _family(path: Path) -> str:
    """Pictures that are one design at several sizes or variants share a family."""
    parts = path.parts
    if "wallpapers" in parts and "contents" in parts:  # Plasma: one folder per wallpaper
        return "plasma:" + parts[parts.index("contents") - 1]
    stem = re.sub(r"(_\d+x\d+)?(_Portrait)?$", "", path.stem)
    stem = re.sub(r"-(d|l)$", "", stem)
    if "sway" in parts:
        return "sway"
    return f"{path.parent.name}:{stem}"


def source_pictures() -> list[Path]:
    """One file per distinct picture (the largest of its family), sorted by path."""
    files: list[Path] = []
    for root in ROOTS:
        base = Path(root)
        if base.is_dir():
            files += [p for p in base.rglob("*")
                      if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
                      and "screenshot" not in p.name and p.is_file()]  # fmt: skip
    best: dict[str, tuple[int, Path]] = {}
    seen: set[str] = set()
    for path in sorted(files):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        try:
            with Image.open(path) as im:
                w, h = im.size
        except OSError:
            continue
        if min(w, h) < MIN_SOURCE_SIDE:
            continue
        fam = _family(path)
        if fam not in best or w * h > best[fam][0]:
            best[fam] = (w * h, path)
    return _one_per_design(sorted(best.values(), key=lambda kept: -kept[0]))


def _design_hash(path: Path):
    import imagehash
    from PIL import ImageOps

    with Image.open(path) as im:
        grey = ImageOps.equalize(im.convert("L").resize((256, 256)))
    return imagehash.phash(grey, hash_size=16)


def _one_per_design(sized: list[tuple[int, Path]]) -> list[Path]:
    """Drop a picture whose design another one already has: the same layout in other
    colours (MATE's Ubuntu-Mate Cold, Warm and Radioactive) is one picture for a
    matcher, so it would be a "false" match between registered and unregistered
    sources. Judged on the equalised greyscale (the colours differ): unrelated
    pictures are 90-130 bits apart of 256, such twins 28-46."""
    kept: list[tuple[Path, Any]] = []
    for _, path in sized:  # largest first: the one kept is the largest
        h = _design_hash(path)
        if all(h - other > DESIGN_DISTANCE for _, other in kept):
            kept.append((path, h))
    return sorted(p for p, _ in kept)


def _grid(w: int, h: int) -> tuple[int, int]:
    cols, rows = max(1, w // MIN_TILE), max(1, h // MIN_TILE)
    while cols * rows > MAX_TILES:
        if cols >= rows:
            cols -= 1
        else:
            rows -= 1
    return cols, rows


def _textured(tile: Image.Image) -> bool:
    import cv2

    grey = np.asarray(tile.convert("L"))
    if float(grey.std()) < 18:
        return False
    scale = 1024 / max(grey.shape)
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return len(cv2.ORB_create(nfeatures=2000).detect(grey, None)) >= MIN_KEYPOINTS


def _repeats(tile: Image.Image, kept: list) -> bool:
    """Whether an earlier tile of the same source holds this one (or its mirror): a
    mirror-symmetric painting (MATE's Elephants) or a pattern of repeated motifs
    (GNOME's pixels) gives tiles that are copies of each other, not distinct
    pictures. Judged by the engine's own geometric verification; the tile's
    features are added to ``kept`` when it is new."""
    from registry.core import image_features as imf

    grey = imf.fit(np.asarray(tile.convert("L")))
    size = (tile.width, tile.height)
    queries = imf.query_features_of(grey, size)
    if any(imf.verify(q, ref) is not None for ref in kept for q in queries):
        return True
    kept.append(imf.registration_features_of(grey, size))
    return False


def _build() -> list[Path]:
    ensure_packages()
    CACHE.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for si, src in enumerate(source_pictures()):
        with Image.open(src) as im:
            picture = im.convert("RGB")
        w, h = picture.size
        cols, rows = _grid(w, h)
        tw, th = w // cols, h // rows
        kept: list = []  # registration features of this source's tiles so far
        for r in range(rows):
            for c in range(cols):
                tile = picture.crop((c * tw, r * th, (c + 1) * tw, (r + 1) * th))
                if not _textured(tile) or _repeats(tile, kept):
                    continue
                path = CACHE / f"s{si:03d}_t{r * cols + c:02d}.jpg"
                tile.save(path, "JPEG", quality=94)
                out.append(path)
    (CACHE / "manifest.txt").write_text(
        f"v{VERSION}\n" + "\n".join(p.name for p in out) + "\n", encoding="utf-8")
    return out


def all_photo_files() -> list[Path]:
    """Every tile of the corpus (built once, then read from the cache)."""
    manifest = CACHE / "manifest.txt"
    if manifest.exists():
        lines = manifest.read_text(encoding="utf-8").split()
        if lines and lines[0] == f"v{VERSION}":
            paths = [CACHE / name for name in lines[1:]]
            if all(p.exists() for p in paths):
                return paths
    return _build()


def source_of(path: Path) -> str:
    """The source picture a tile was cut from (tiles of one source look alike)."""
    return path.name.split("_")[0]


def photo_files(n: int) -> list[Path]:
    """``n`` distinct real-photo JPEGs, deterministic, spread over the sources:
    tiles are taken round-robin (first tile of every source, then the second...),
    so a small ``n`` still covers many different scenes. Raises if fewer exist."""
    paths = all_photo_files()
    by_source: dict[str, list[Path]] = {}
    for p in paths:
        by_source.setdefault(source_of(p), []).append(p)
    ordered: list[Path] = []
    depth = 0
    while len(ordered) < len(paths):
        for tiles in by_source.values():
            if depth < len(tiles):
                ordered.append(tiles[depth])
        depth += 1
    if n > len(ordered):
        raise ValueError(f"only {len(ordered)} real photos available, {n} asked")
    return ordered[:n]


if __name__ == "__main__":
    files = all_photo_files()
    print(f"{len(source_pictures())} source pictures, {len(files)} tiles in {CACHE}")
