"""Procedural photo-like pictures and the transformations the image engine must survive.

Shared by ``image_accuracy.py`` and ``image_speed.py``. Nothing is downloaded:
scenes are drawn with Pillow and numpy (fractal noise, gradients, shapes,
grain, varied palettes), and a few sample pictures that installed packages
ship are added when present.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

CACHE = Path(__file__).parent / ".cache" / "images"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SAMPLE_GLOBS = [
    "/usr/share/icons/Adwaita/512x512/*/*.png",
    "/usr/lib/rabbitmq/lib/*/plugins/*/priv/bunny.png",
    "/usr/share/doc/*/html/images/*.png",
]
ASPECTS = [(4, 3), (3, 2), (16, 9), (1, 1), (3, 4), (2, 3)]


def fractal_noise(rng: np.random.Generator, h: int, w: int, octaves: int = 6) -> np.ndarray:
    """Sum of upsampled random grids: a cheap Perlin-like texture in [0, 1]."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    persistence = rng.uniform(0.4, 0.7)
    for o in range(octaves):
        cells = 2 ** (o + 1) + 1
        grid = rng.random((cells, cells)).astype(np.float32)
        layer = Image.fromarray((grid * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)
        out += amp * np.asarray(layer, np.float32) / 255
        total += amp
        amp *= persistence
    out /= total
    return (out - out.min()) / (np.ptp(out) + 1e-6)


def palette(rng: np.random.Generator, n: int = 4) -> np.ndarray:
    base = rng.random(3)
    cols = [np.clip(base + rng.normal(0, 0.35, 3), 0, 1) for _ in range(n)]
    return np.array(sorted(cols, key=lambda c: c.sum())) * 255


def colourise(values: np.ndarray, pal: np.ndarray) -> np.ndarray:
    xs = np.linspace(0, 1, len(pal))
    return np.stack([np.interp(values, xs, pal[:, k]) for k in range(3)], axis=-1)


def scene(seed: int, size: tuple[int, int] | None = None) -> Image.Image:
    """One photo-like picture; the seed decides everything."""
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    if size is None:
        aw, ah = ASPECTS[seed % len(ASPECTS)]
        long_side = r.randint(640, 1400)
        size = (long_side, long_side * ah // aw) if aw >= ah else (long_side * aw // ah, long_side)
    w, h = size
    kind = seed % 4
    if kind == 0:
        arr = _landscape(rng, h, w)
    elif kind == 1:
        arr = colourise(fractal_noise(rng, h, w), palette(rng, 5))
    else:
        arr = _gradient_field(rng, h, w)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    if kind in (2, 3, 0):
        _draw_shapes(img, r, rng, many=kind == 3)
    img = img.filter(ImageFilter.GaussianBlur(r.uniform(0.5, 1.8)))
    grain = rng.normal(0, r.uniform(2, 7), (h, w, 1)).astype(np.float32)
    return Image.fromarray(np.clip(np.asarray(img, np.float32) + grain, 0, 255).astype(np.uint8))


def _landscape(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    sky = palette(rng, 2)
    ys = np.linspace(0, 1, h)[:, None, None]
    arr = sky[0] * (1 - ys) + sky[1] * ys + np.zeros((h, w, 3))
    ridge = fractal_noise(rng, 1, w, 5)[0] if w > 0 else np.zeros(w)
    horizon = (rng.uniform(0.35, 0.65) + (ridge - 0.5) * rng.uniform(0.2, 0.5)) * h
    ground = colourise(fractal_noise(rng, h, w), palette(rng, 4))
    mask = (np.arange(h)[:, None] > horizon[None, :])[..., None]
    return np.where(mask, ground, arr)


def _gradient_field(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    t = (xx * np.cos(angle) + yy * np.sin(angle)) / (w + h)
    t = (t - t.min()) / (np.ptp(t) + 1e-6)
    base = colourise(t, palette(rng, 3))
    tex = fractal_noise(rng, h, w)[..., None]
    return base * (0.7 + 0.6 * tex)


def _draw_shapes(img: Image.Image, r: random.Random, rng: np.random.Generator, many: bool) -> None:
    draw = ImageDraw.Draw(img, "RGBA")
    w, h = img.size
    for _ in range(r.randint(12, 30) if many else r.randint(3, 9)):
        col = tuple(int(c) for c in rng.integers(0, 256, 3)) + (r.randint(120, 255),)
        x0, y0 = r.uniform(-0.1, 1) * w, r.uniform(-0.1, 1) * h
        sw, sh = r.uniform(0.05, 0.45) * w, r.uniform(0.05, 0.45) * h
        shape = r.randrange(3)
        if shape == 0:
            draw.ellipse([x0, y0, x0 + sw, y0 + sh], fill=col)
        elif shape == 1:
            draw.rectangle([x0, y0, x0 + sw, y0 + sh], fill=col)
        else:
            pts = [(x0 + r.uniform(0, sw), y0 + r.uniform(0, sh)) for _ in range(r.randint(3, 7))]
            draw.polygon(pts, fill=col)


def sample_pictures(limit: int = 20) -> list[Image.Image]:
    """Pictures shipped by installed packages (icons, logos), flattened on white."""
    from glob import glob

    out, seen = [], set()
    for pattern in SAMPLE_GLOBS:
        for path in sorted(glob(pattern)):
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            if digest in seen:  # the same file shipped twice (RabbitMQ's bunny)
                continue
            seen.add(digest)
            try:
                with Image.open(path) as im:
                    if min(im.size) < 200:
                        continue
                    rgba = im.convert("RGBA")
            except OSError:
                continue
            canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            canvas.alpha_composite(rgba)
            out.append(canvas.convert("RGB"))
            if len(out) >= limit:
                return out
    return out


# --------------------------------------------------------------------------- transforms


def encode(img: Image.Image, fmt: str = "JPEG", **opts: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **opts)
    return out.getvalue()


def _watermark(img: Image.Image) -> Image.Image:
    w, h = img.size
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.truetype(FONT, max(12, w // 12))
    text = "(c) Tamga 2026"
    box = draw.textbbox((0, 0), text, font=font)
    x, y = (w - (box[2] - box[0])) // 2, int(h * 0.7)
    draw.text((x, y), text, font=font, fill=(255, 255, 255, 140), stroke_width=2,
              stroke_fill=(0, 0, 0, 140))
    return Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")


def _letterbox(img: Image.Image, frac: float = 0.15, colour: int = 0) -> Image.Image:
    w, h = img.size
    pad = int(h * frac)
    return ImageOps.expand(img, border=(0, pad, 0, pad), fill=(colour,) * 3)


def _pad(img: Image.Image, frac: float = 0.15, colour: int = 255) -> Image.Image:
    w, h = img.size
    return ImageOps.expand(img, border=(int(w * frac), int(h * frac)), fill=(colour,) * 3)


def _crop_frac(img: Image.Image, keep: float) -> Image.Image:
    w, h = img.size
    dx, dy = w * (1 - keep) / 2, h * (1 - keep) / 2
    return img.crop((round(dx), round(dy), round(w - dx), round(h - dy)))


def _rotate_inscribed(img: Image.Image, angle: float) -> Image.Image:
    """Rotate and crop to the largest axis-aligned rectangle without corners."""
    w, h = img.size
    rot = img.rotate(angle, Image.BICUBIC, expand=False)
    a = abs(np.radians(angle))
    scale = 1 / (np.cos(a) + np.sin(a) * max(w / h, h / w))
    return _crop_frac(rot, scale)


#: name -> (transform to bytes, expected transformation label family)
TRANSFORMS: dict[str, Callable[[Image.Image], bytes]] = {
    "resize25": lambda im: encode(
        im.resize((max(16, im.width // 4), max(16, im.height // 4)), Image.LANCZOS), quality=90
    ),
    "jpeg20": lambda im: encode(im, quality=20),
    "webp": lambda im: encode(im, "WEBP", quality=75),
    "bright+40": lambda im: encode(ImageEnhance.Brightness(im).enhance(1.4), quality=90),
    "bright-40": lambda im: encode(ImageEnhance.Brightness(im).enhance(0.6), quality=90),
    "contrast+40": lambda im: encode(ImageEnhance.Contrast(im).enhance(1.4), quality=90),
    "contrast-40": lambda im: encode(ImageEnhance.Contrast(im).enhance(0.6), quality=90),
    "grayscale": lambda im: encode(ImageOps.grayscale(im), quality=90),
    "watermark": lambda im: encode(_watermark(im), quality=90),
    "flip": lambda im: encode(ImageOps.mirror(im), quality=90),
    "letterbox15": lambda im: encode(_letterbox(im), quality=90),
    "pad15white": lambda im: encode(_pad(im), quality=90),
    "crop10": lambda im: encode(_crop_frac(im, 0.8), quality=90),
    "crop60": lambda im: encode(_crop_frac(im, 0.6), quality=90),
    "rot5": lambda im: encode(im.rotate(5, Image.BICUBIC), quality=90),
    "rot-3": lambda im: encode(im.rotate(-3, Image.BICUBIC), quality=90),
    "rot5expand": lambda im: encode(im.rotate(-5, Image.BICUBIC, expand=True), quality=90),
    "rot5crop": lambda im: encode(_rotate_inscribed(im, 5), quality=90),
}

#: transformation name -> the target top-1 accuracy from the issue.
TARGETS = {
    "resize25": 0.99, "jpeg20": 0.99, "webp": 0.99, "bright+40": 0.99, "bright-40": 0.99,
    "contrast+40": 0.99, "contrast-40": 0.99, "grayscale": 0.99, "watermark": 0.99,
    "flip": 0.99, "letterbox15": 0.95, "pad15white": 0.95, "crop10": 0.95, "crop60": 0.90,
    "rot5": 0.90, "rot-3": 0.90, "rot5expand": 0.90, "rot5crop": 0.90,
}
