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


# --------------------------------------------------------------------------- re-use variants
# The variants of issue #17 (crops anywhere, turns, collages, screenshots, memes,
# perspective). Each takes the registered picture and a random generator (for the
# position of a crop, the other tiles of a collage...), and returns JPEG bytes.


def _fill_pictures() -> list[Image.Image]:
    return [scene(900_000 + i, (640, 480)) for i in range(3)]


def crop_offcentre(img: Image.Image, r: random.Random, area: float = 0.4) -> bytes:
    w, h = img.size
    side = area ** 0.5
    cw, ch = int(w * side), int(h * side)
    # off-centre: towards one of the four sides, never centred
    fx, fy = r.choice([(0.1, r.uniform(0.2, 0.8)), (0.9, r.uniform(0.2, 0.8)),
                       (r.uniform(0.2, 0.8), 0.1), (r.uniform(0.2, 0.8), 0.9)])
    x, y = int((w - cw) * fx), int((h - ch) * fy)
    return encode(img.crop((x, y, x + cw, y + ch)), quality=88)


def quadrant(img: Image.Image, r: random.Random) -> bytes:
    w, h = img.size
    qx, qy = r.randrange(2), r.randrange(2)
    return encode(img.crop((qx * w // 2, qy * h // 2, (qx + 1) * w // 2, (qy + 1) * h // 2)),
                  quality=88)


def rotate(img: Image.Image, angle: float) -> bytes:
    if angle % 90 == 0:
        turned = img.rotate(angle, expand=True)
    else:
        turned = img.rotate(angle, Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    return encode(turned, quality=88)


def collage(img: Image.Image, r: random.Random, others: list[Image.Image]) -> bytes:
    cell = (800, 600)
    canvas = Image.new("RGB", (cell[0] * 2 + 12, cell[1] * 2 + 12), (245, 245, 245))
    pics = [img] + others[:3]
    slot = r.randrange(4)
    order = pics[1:slot + 1] + [img] + pics[slot + 1:]
    for i, pic in enumerate(order[:4]):
        tile = ImageOps.fit(pic, cell, Image.LANCZOS)
        canvas.paste(tile, ((i % 2) * (cell[0] + 12), (i // 2) * (cell[1] + 12)))
    return encode(canvas, quality=85)


def screenshot(img: Image.Image, r: random.Random) -> bytes:
    """A phone screenshot of a social post: header, the picture at ~50% of the
    screen's width... of its area, caption and buttons below."""
    W, H = 1080, 1920
    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.truetype(FONT, 34)
    small = ImageFont.truetype(FONT, 28)
    draw.rectangle([0, 0, W, 90], fill=(250, 250, 250))
    draw.text((30, 25), "9:41", font=small, fill=(0, 0, 0))
    draw.ellipse([30, 120, 110, 200], fill=(r.randrange(256), 120, 180))
    draw.text((130, 140), f"user_{r.randrange(10_000)}", font=font, fill=(20, 20, 20))
    pw = int(W * 0.72)
    ph = int(pw * img.height / img.width)
    if ph > 1100:
        ph = 1100
        pw = int(ph * img.width / img.height)
    pic = img.resize((pw, ph), Image.LANCZOS)
    x, y = (W - pw) // 2, 240
    canvas.paste(pic, (x, y))
    ty = y + ph + 40
    draw.text((30, ty), "♥ 1,204   💬 87   ↗", font=font, fill=(40, 40, 40))
    for i, line in enumerate(["Look what I found today! Амазинг көрініс",
                              "#photo #travel #kazakhstan", "View all 87 comments"]):
        draw.text((30, ty + 70 + i * 50), line, font=small, fill=(60, 60, 60))
    return encode(canvas, "PNG")


def meme(img: Image.Image, r: random.Random) -> bytes:
    w, h = img.size
    bar = max(40, h // 6)
    canvas = Image.new("RGB", (w, h + 2 * bar), (0, 0, 0) if r.random() < 0.5 else (255,) * 3)
    canvas.paste(img, (0, bar))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.truetype(FONT, max(14, bar // 2))
    fg = (255, 255, 255) if canvas.getpixel((0, 0)) == (0, 0, 0) else (0, 0, 0)
    draw.text((w // 10, bar // 4), "WHEN THE CODE WORKS", font=font, fill=fg)
    draw.text((w // 10, h + bar + bar // 4), "ON THE FIRST TRY", font=font, fill=fg)
    return encode(canvas, quality=85)


def perspective(img: Image.Image, r: random.Random, keystone: float = 0.10) -> bytes:
    """A photo of a screen: one side ~10% shorter (keystone), some blur and noise."""
    import cv2

    arr = np.asarray(img)
    h, w = arr.shape[:2]
    k = keystone * (w if r.random() < 0.5 else h)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    if r.random() < 0.5:
        dst = np.float32([[k / 2, 0], [w - k / 2, 0], [w, h], [0, h]])
    else:
        dst = np.float32([[0, 0], [w, k / 2], [w, h - k / 2], [0, h]])
    pad = int(0.06 * max(w, h))
    dst += pad
    M = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(arr, M, (w + 2 * pad, h + 2 * pad), flags=cv2.INTER_LINEAR,
                              borderValue=(30, 30, 30))
    rng = np.random.default_rng(r.randrange(1 << 30))
    out = cv2.GaussianBlur(out, (3, 3), 0.8).astype(np.float32)
    out = np.clip(out * 0.9 + 12 + rng.normal(0, 3, out.shape), 0, 255).astype(np.uint8)
    return encode(Image.fromarray(out), quality=85)


def small_jpeg(img: Image.Image, r: random.Random) -> bytes:
    return encode(img.resize((max(16, img.width // 4), max(16, img.height // 4)), Image.LANCZOS),
                  quality=40)


def mirror_crop(img: Image.Image, r: random.Random) -> bytes:
    return encode(_crop_frac(ImageOps.mirror(img), 0.7), quality=88)


#: name -> f(picture, rng, others) -> bytes: the variants of issue #17.
REUSE_VARIANTS: dict[str, Callable[..., bytes]] = {
    "crop40": lambda im, r, o: crop_offcentre(im, r),
    "quadrant": lambda im, r, o: quadrant(im, r),
    "rot15": lambda im, r, o: rotate(im, 15),
    "rot45": lambda im, r, o: rotate(im, 45),
    "rot90": lambda im, r, o: rotate(im, 90),
    "rot180": lambda im, r, o: rotate(im, 180),
    "collage": lambda im, r, o: collage(im, r, o),
    "screenshot": lambda im, r, o: screenshot(im, r),
    "meme": lambda im, r, o: meme(im, r),
    "perspective": lambda im, r, o: perspective(im, r),
    "small_q40": lambda im, r, o: small_jpeg(im, r),
    "mirror_crop": lambda im, r, o: mirror_crop(im, r),
}
REUSE_TARGETS = {
    "crop40": 0.95, "quadrant": 0.90, "rot15": 0.95, "rot45": 0.95, "rot90": 0.95,
    "rot180": 0.95, "collage": 0.90, "screenshot": 0.95, "meme": 0.98, "perspective": 0.90,
    "small_q40": 0.99, "mirror_crop": 0.95,
}
#: The label a correct answer carries (None: not checked).
REUSE_LABELS = {
    "crop40": "cropped", "quadrant": "cropped", "rot15": "rotated", "rot45": "rotated",
    "rot90": "rotated", "rot180": "rotated", "mirror_crop": "mirrored",
}
