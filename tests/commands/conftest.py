"""Fixtures of the command tests: a folder of generated media."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def render_song(midi: Path, out: Path) -> Path:
    wav = out.with_suffix(".render.wav")
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", "22050", "-F", str(wav),
                    SOUNDFONT, str(midi)], check=True, capture_output=True, timeout=120)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-ac", "1", "-b:a", "64k",
                    str(out)], check=True, timeout=120)
    wav.unlink()
    return out


def paint(out: Path, seed: int) -> Path:
    """Noise, blurred into blobs, with a few sharp lines: an image with real structure."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    image = Image.fromarray(noise, "RGB").resize((800, 600), Image.BICUBIC)
    image = image.filter(ImageFilter.GaussianBlur(6))
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        points = [tuple(int(v) for v in rng.integers(0, 800, 2)) for _ in range(2)]
        draw.line(points, fill=tuple(int(c) for c in rng.integers(0, 256, 3)), width=6)
    image.save(out)
    return out


@pytest.fixture(scope="session")
def songs(tmp_path_factory) -> dict[str, Path]:
    """Two rendered songs, made once per test session."""
    midi = Path(__file__).resolve().parent.parent / "fixtures" / "audio"
    folder = tmp_path_factory.mktemp("cli-songs")
    return {name: render_song(midi / f"{name}.mid", folder / f"{name}.mp3")
            for name in ("song_a", "song_b")}


@pytest.fixture
def painter():
    """``paint(path, seed)`` for tests that need images."""
    return paint
