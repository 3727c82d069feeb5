"""Uniform borders around a video picture are trimmed before hashing (core, no Flask)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from registry.core.video import trim_borders

PICTURE = Path(__file__).resolve().parents[1] / "fixtures" / "images" / "texture.jpg"


def _picture(w: int, h: int) -> np.ndarray:
    with Image.open(PICTURE) as im:
        return np.asarray(im.convert("RGB").resize((w, h)))


def test_screen_recording_frame_with_a_title_bar_is_cut_to_the_picture() -> None:
    """The picture at 60 % inside a grey frame whose title bar spans the whole width:
    the side borders are not uniform columns until the bar is cut off."""
    frame = np.full((270, 480, 3), (0x2B, 0x2D, 0x31), dtype=np.uint8)
    frame[:20] = (0x3C, 0x40, 0x43)
    frame[54:216, 96:384] = _picture(288, 162)
    inner = trim_borders(frame)
    assert inner is not None
    assert inner.shape[:2] == (162, 288)
    assert np.array_equal(inner, frame[54:216, 96:384])


def test_letterbox_is_cut_and_a_full_frame_is_left_alone() -> None:
    frame = np.zeros((270, 480, 3), dtype=np.uint8)
    frame[27:243] = _picture(480, 216)
    inner = trim_borders(frame)
    assert inner is not None and inner.shape[:2] == (216, 480)
    assert trim_borders(_picture(480, 270)) is None
