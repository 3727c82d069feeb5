"""Test media made on the spot: songs rendered from the committed MIDI files with
fluidsynth, clips and re-encodings with ffmpeg, pictures drawn with Pillow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

FIXTURES = Path(__file__).parent / "fixtures"
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


class MediaFactory:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def song(self, name: str = "song_a", fmt: str = "mp3") -> Path:
        """A committed MIDI fixture rendered to audio (cached for the session)."""
        out = self.folder / f"{name}.{fmt}"
        if not out.exists():
            wav = self.folder / f"{name}.wav"
            if not wav.exists():
                run("fluidsynth", "-ni", "-q", "-g", "0.6", "-r", "22050", "-F", str(wav),
                    SOUNDFONT, str(FIXTURES / "audio" / f"{name}.mid"))
            if fmt != "wav":
                # 64 kbps keeps uploads under 500 kB, below the test client's temp-file size.
                run("ffmpeg", "-y", "-v", "error", "-i", str(wav), "-b:a", "64k", str(out))
        return out

    def clip(self, name: str, start: float, length: float, fmt: str = "mp3") -> Path:
        out = self.folder / f"{name}-{start:g}-{length:g}.{fmt}"
        if not out.exists():
            run("ffmpeg", "-y", "-v", "error", "-ss", str(start), "-t", str(length), "-i",
                str(self.song(name, "wav")), "-b:a", "96k", str(out))
        return out

    def picture(self, seed: int, fmt: str = "JPEG", size: tuple[int, int] = (640, 480)) -> Path:
        """A photo-like picture: gradient sky, shapes and texture, different per seed."""
        ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
        out = self.folder / f"picture-{seed}-{size[0]}x{size[1]}.{ext}"
        if not out.exists():
            draw_picture(seed, size).save(out, fmt, quality=92)
        return out


def draw_picture(seed: int, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    y = np.linspace(0, 1, h)[:, None, None]
    top, bottom = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
    sky = (top * (1 - y) + bottom * y).repeat(w, axis=1)
    image = Image.fromarray(sky.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(30, w // 2)), y0 + int(rng.integers(30, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    noise = rng.normal(0, 12, (h, w, 3))
    arr = np.clip(np.asarray(image, dtype=float) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB").filter(ImageFilter.GaussianBlur(0.8))
