"""Fixtures of the API tests: accounts with tokens, and media made at test time."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def draw_image(path: Path, seed: int, size: tuple[int, int] = (640, 480)) -> Path:
    """A photo-like picture: a gradient, shapes and noise, different for each seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    x = np.linspace(0, 1, w)[None, :]
    y = np.linspace(0, 1, h)[:, None]
    base = np.stack([255 * x * np.ones_like(y), 255 * y * np.ones_like(x),
                     255 * (1 - x) * y], axis=-1)
    base += rng.normal(0, 12, base.shape)
    image = Image.fromarray(np.clip(base, 0, 255).astype("uint8"), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        x1, y1 = x0 + int(rng.integers(30, 200)), y0 + int(rng.integers(30, 200))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour, outline=(0, 0, 0), width=3)
    image.save(path, quality=92)
    return path


def render_midi(midi: Path, out: Path) -> Path:
    """MIDI → WAV with FluidSynth, as a creator's sound recording."""
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", "22050", "-F", str(out),
                    SOUNDFONT, str(midi)], check=True, capture_output=True, timeout=120)
    return out


def to_mp3(wav: Path, out: Path) -> Path:
    """Small enough (< 500 KB) that the test client keeps the upload in memory."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-ac", "1", "-b:a", "48k",
                    str(out)], check=True, timeout=120)
    return out


@dataclass(frozen=True)
class Media:
    image: Path
    image2: Path
    audio: Path
    text: Path
    empty: Path
    corrupt: Path


@pytest.fixture(scope="session")
def media(tmp_path_factory, fixtures_dir_session: Path) -> Media:
    folder = tmp_path_factory.mktemp("api-media")
    wav = render_midi(fixtures_dir_session / "audio" / "song_a.mid", folder / "song_a.wav")
    corrupt = folder / "truncated.wav"  # the header promises far more than is there
    corrupt.write_bytes(wav.read_bytes()[:60_000])
    text = folder / "notes.txt"
    text.write_text("Lyrics, second verse.\n" * 50)
    empty = folder / "empty.jpg"
    empty.write_bytes(b"")
    return Media(
        image=draw_image(folder / "photo.jpg", 1), image2=draw_image(folder / "photo2.jpg", 2),
        audio=to_mp3(wav, folder / "song_a.mp3"), text=text, empty=empty, corrupt=corrupt,
    )


@pytest.fixture(scope="session")
def fixtures_dir_session() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures"


@dataclass
class ApiAccount:
    user_id: int
    token: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_account(app, accounts):
    """Create a (confirmed) account with an API token."""

    def make(email: str = "aigerim@example.kz", name: str = "Aigerim",
             confirmed: bool = True) -> ApiAccount:
        from registry.extensions import db
        from registry.models.user import User
        from registry.services import tokens

        user_id = accounts.create(email, name=name, confirmed=confirmed)
        with app.app_context():
            created = tokens.create_token(db.session.get(User, user_id), "tests")
            db.session.commit()
            return ApiAccount(user_id, created.secret, email)

    return make


@pytest.fixture
def api_account(make_account) -> ApiAccount:
    return make_account()
