"""Image intake: accepted formats, limits and typed errors, normalisation, hashes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from registry.core.errors import (
    CorruptMedia,
    FeaturelessImage,
    ImageTooSmall,
    TooManyPixels,
    UnsupportedMediaType,
)
from registry.core.image import (
    NORMAL_SIDE,
    ImageHashes,
    compare,
    hash_image,
    load_image,
    query_variants,
    score_distances,
    thumbnail,
    trim_borders,
)

IMAGES = Path(__file__).parent.parent / "fixtures" / "images"


def photo(size: tuple[int, int] = (200, 150), seed: int = 1) -> Image.Image:
    """A small noisy picture with structure (not featureless)."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (w + h)], axis=-1)
    noise = rng.normal(0, 12, (h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def save(img: Image.Image, path: Path, fmt: str, **opts: object) -> Path:
    img.save(path, fmt, **opts)
    return path


@pytest.mark.parametrize(
    ("fmt", "suffix", "expected"),
    [
        ("JPEG", ".jpg", "jpeg"),
        ("PNG", ".png", "png"),
        ("WEBP", ".webp", "webp"),
        ("GIF", ".gif", "gif"),
        ("BMP", ".bmp", "bmp"),
        ("TIFF", ".tif", "tiff"),
        ("HEIF", ".heic", "heif"),
        ("AVIF", ".avif", "avif"),
    ],
)
def test_accepted_formats_load_as_rgb(tmp_path: Path, fmt: str, suffix: str, expected: str) -> None:
    # A misleading extension proves the type comes from the content.
    path = save(photo(), tmp_path / f"upload{suffix}.txt", fmt)
    loaded = load_image(path, max_pixels=1_000_000)
    assert loaded.format == expected
    assert loaded.image.mode == "RGB"
    assert (loaded.width, loaded.height) == (200, 150)
    assert loaded.animated is False


def test_animated_gif_uses_first_frame_and_is_flagged(tmp_path: Path) -> None:
    first, second = photo(seed=1), photo(seed=2).rotate(180)
    path = tmp_path / "anim.gif"
    first.save(path, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    loaded = load_image(path, max_pixels=1_000_000)
    assert loaded.animated is True
    still = load_image(save(first, tmp_path / "still.gif", "GIF"), max_pixels=1_000_000)
    assert compare(hash_image(loaded), hash_image(still)).score == 1.0


def test_unsupported_types(tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("just some text, not a picture")
    with pytest.raises(UnsupportedMediaType):
        load_image(text, max_pixels=1_000_000)
    ppm = save(photo(), tmp_path / "pic.png", "PPM")  # Pillow reads it; we do not accept it
    with pytest.raises(UnsupportedMediaType) as info:
        load_image(ppm, max_pixels=1_000_000)
    assert info.value.code == "unsupported_type"


def test_truncated_and_garbled_files_are_corrupt(tmp_path: Path) -> None:
    data = io.BytesIO()
    photo((400, 300)).save(data, "JPEG", quality=90)
    raw = data.getvalue()
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(CorruptMedia):
        load_image(truncated, max_pixels=1_000_000)
    png = io.BytesIO()
    photo().save(png, "PNG")
    garbled = bytearray(png.getvalue())
    garbled[100:400] = bytes(300)
    path = tmp_path / "garbled.png"
    path.write_bytes(bytes(garbled))
    with pytest.raises(CorruptMedia) as info:
        load_image(path, max_pixels=1_000_000)
    assert info.value.code == "corrupt"


def test_pixel_limit_is_checked_from_the_header(tmp_path: Path) -> None:
    path = save(photo((400, 300)), tmp_path / "big.png", "PNG")
    with pytest.raises(TooManyPixels) as info:
        load_image(path, max_pixels=100_000)
    assert info.value.details["pixels"] == 120_000
    assert load_image(path, max_pixels=120_000).width == 400


def test_decompression_bomb_warning_becomes_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(photo((400, 300)), tmp_path / "bomb.png", "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # warning zone: 100k..200k
    with pytest.raises(TooManyPixels):
        load_image(path, max_pixels=10_000_000)


@pytest.mark.parametrize("size", [(1, 1), (10, 400), (400, 15)])
def test_tiny_pictures_are_rejected(tmp_path: Path, size: tuple[int, int]) -> None:
    path = save(Image.new("RGB", size, (200, 10, 10)), tmp_path / "tiny.png", "PNG")
    with pytest.raises(ImageTooSmall):
        load_image(path, max_pixels=1_000_000)


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (30, 120, 200)])
def test_flat_colour_is_featureless(tmp_path: Path, colour: tuple[int, int, int]) -> None:
    path = save(Image.new("RGB", (300, 200), colour), tmp_path / "flat.jpg", "JPEG")
    with pytest.raises(FeaturelessImage) as info:
        load_image(path, max_pixels=1_000_000)
    assert info.value.code == "featureless"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = photo((300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, displayed rotated 90 degrees clockwise
    path = tmp_path / "rotated.jpg"
    img.save(path, "JPEG", quality=95, exif=exif.tobytes())
    loaded = load_image(path, max_pixels=1_000_000)
    assert (loaded.width, loaded.height) == (200, 300)
    assert loaded.image.size == (200, 300)
    got = small(loaded.image)
    upright = small(img.transpose(Image.Transpose.ROTATE_270))
    wrong = small(img.transpose(Image.Transpose.ROTATE_90))
    assert np.abs(got - upright).mean() < 6 < 30 < np.abs(got - wrong).mean()


def small(img: Image.Image) -> np.ndarray:
    return np.asarray(img.resize((20, 30), Image.Resampling.BOX), dtype=np.float32)


def test_transparency_is_flattened_on_white(tmp_path: Path) -> None:
    rgba = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    rgba.paste(photo((100, 100)).convert("RGBA"), (50, 50))
    loaded = load_image(save(rgba, tmp_path / "alpha.png", "PNG"), max_pixels=1_000_000)
    assert loaded.image.getpixel((5, 5)) == (255, 255, 255)
    assert loaded.image.getpixel((100, 100)) != (255, 255, 255)


def test_large_jpeg_is_draft_decoded_and_normalised(tmp_path: Path) -> None:
    path = save(photo((4000, 3000)), tmp_path / "large.jpg", "JPEG", quality=85)
    loaded = load_image(path, max_pixels=80_000_000)
    assert (loaded.width, loaded.height) == (4000, 3000)
    # Draft decoding stops at 1/8 scale (500x375), never above NORMAL_SIDE.
    assert loaded.image.size == (500, 375)
    assert max(loaded.image.size) <= NORMAL_SIDE
    huge = save(photo((1200, 200)), tmp_path / "wide.png", "PNG")
    assert load_image(huge, max_pixels=80_000_000).image.size == (NORMAL_SIDE, 85)


def test_16_bit_greyscale_png(tmp_path: Path) -> None:
    arr = (np.asarray(photo().convert("L"), dtype=np.uint16) * 200).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(arr).save(path, "PNG")
    loaded = load_image(path, max_pixels=1_000_000)
    assert loaded.image.mode == "RGB"
    assert np.asarray(loaded.image).std() > 10


def test_hashes_round_trip_and_digest() -> None:
    loaded = load_image(IMAGES / "landscape.jpg", max_pixels=10**7)
    hashes = hash_image(loaded)
    assert {"full", "mirror", "c80", "c60", "bright"} <= set(hashes.windows)
    data = json.loads(json.dumps(hashes.to_dict()))
    again = ImageHashes.from_dict(data)
    assert again.windows == hashes.windows and again.search_windows == {}
    assert again.digest() == hashes.digest()  # the search windows are not fingerprint
    assert "search_windows" not in hashes.canonical_json()
    stored = ImageHashes.from_dict(json.loads(hashes.stored_json()))
    assert stored == hashes and set(stored.search_windows) == {"q_tl", "q_tr", "q_bl", "q_br"}
    assert len(hashes.digest()) == 64
    assert all(len(v) == 16 for v in data["windows"]["full"].values())
    other = hash_image(load_image(IMAGES / "texture.jpg", max_pixels=10**7))
    assert other.digest() != hashes.digest()
    assert hashes.phash == hashes.windows["full"].phash
    assert hashes.mirrored_phash != hashes.phash


def test_compare_identical_and_unrelated() -> None:
    a = hash_image(load_image(IMAGES / "landscape.jpg", max_pixels=10**7))
    b = hash_image(load_image(IMAGES / "other_shapes.jpg", max_pixels=10**7))
    same = compare(a, a)
    assert same.matched and same.score == 1.0 and same.transformation == "identical"
    assert set(same.distances) == {"phash", "dhash", "whash"}
    different = compare(b, a)
    assert not different.matched and different.transformation is None
    assert different.score < 0.6


def test_query_variants_cover_mirror_and_rotations() -> None:
    loaded = load_image(IMAGES / "shapes.jpg", max_pixels=10**7)
    names = {v.name: v.transformation for v in query_variants(loaded).variants}
    assert names["base"] is None
    assert names["mirror"] == "mirrored"
    assert sum(1 for t in names.values() if t == "rotated") >= 4


def test_trim_borders_finds_letterbox_only() -> None:
    img = photo((300, 200))
    boxed = Image.new("RGB", (300, 260), (0, 0, 0))
    boxed.paste(img, (0, 30))
    trimmed = trim_borders(boxed)
    assert trimmed is not None
    assert abs(trimmed.size[1] - 200) <= 2 and trimmed.size[0] == 300
    assert trim_borders(img) is None


def test_thumbnail_is_a_small_jpeg() -> None:
    loaded = load_image(IMAGES / "gradient.jpg", max_pixels=10**7)
    data = thumbnail(loaded, max_side=160)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        assert max(im.size) == 160


@pytest.mark.parametrize(
    ("p", "d", "w", "accepted"),
    [
        (0, 0, 0, True),
        (8, 6, 4, True),
        (12, 2, 2, True),  # pHash out of radius, wHash near: still found and verified
        (11, 9, 11, False),  # neither indexed hash within the radius
        (16, 13, 6, False),  # mean 11.7 but pHash + dHash too far: unrelated layout twin
        (10, 16, 12, False),  # mean above 12
    ],
)
def test_acceptance_rule(p: int, d: int, w: int, accepted: bool) -> None:
    score, ok = score_distances({"phash": p, "dhash": d, "whash": w})
    assert ok is accepted
    assert score == round(1 - (p + d + w) / 3 / 32, 4)
