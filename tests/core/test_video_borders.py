"""Uniform borders around a video picture are trimmed before hashing (core, no Flask)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from registry.core.matching.video_index import MATCH_BITS
from registry.core.video import WINDOWS, query_hashes, registration_hashes, trim_borders

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


def test_a_vertical_crop_of_a_frame_with_a_flat_sky_matches_a_registered_window() -> None:
    """Rows as flat as a letterbox (a clear sky, dark ground) are trimmed from the
    registered frame; a vertical re-upload crops the frame as it is, sky included, so
    the centre column of the untrimmed frame is registered too (``v916_frame``)."""
    frame = _picture(480, 270).copy()
    frame[:70] = (120, 170, 225)  # sky
    frame[225:] = (40, 35, 30)  # ground
    assert trim_borders(frame) is not None
    windows, _, _ = registration_hashes(frame)
    codes = dict(windows)
    assert set(codes) == {WINDOWS["full"], WINDOWS["v916"], WINDOWS["v916_frame"]}
    x = (480 - 152) // 2
    vertical = np.asarray(Image.fromarray(frame[:, x:x + 152]).resize((360, 640)))
    queried = [bits for _, bits in query_hashes(vertical)]

    def nearest(code: int) -> int:
        return min(int(np.unpackbits(codes[code] ^ q).sum()) for q in queried)

    assert nearest(WINDOWS["v916_frame"]) <= 40
    assert nearest(WINDOWS["v916"]) > MATCH_BITS  # the trimmed picture's column alone misses
    assert set(dict(registration_hashes(_picture(480, 270))[0])) == {
        WINDOWS["full"], WINDOWS["v916"]}  # nothing trimmed: no third window
