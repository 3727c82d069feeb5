"""The local-feature index and the merged picture search, on SQLite or PostgreSQL
(DATABASE_URL): candidates come from the index, never from a scan; added,
removed and rebuilt with the work; crops are labelled "cropped", not "rotated"."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from sqlalchemy import Connection, Engine, func, select

from registry.core import image_features as F
from registry.core.image import hash_image, load_image, query_variants
from registry.core.matching import feature_index as fx
from registry.core.matching import image_index as ix
from registry.core.matching import picture_search

IMAGES = Path(__file__).parent.parent / "fixtures" / "images"
TABLES = ix.TABLES + fx.INDEX_TABLES
OTHERS = ["features_other.jpg", "landscape.jpg", "shapes.jpg", "gradient.jpg"]


@pytest.fixture
def conn(core_engine: Engine) -> Iterator[Connection]:
    with core_engine.connect() as connection:
        ix.metadata.drop_all(connection, tables=TABLES)
        ix.metadata.create_all(connection, tables=TABLES)
        connection.commit()
        try:
            yield connection
        finally:
            connection.rollback()
            ix.metadata.drop_all(connection, tables=TABLES)
            connection.commit()


def _register(conn: Connection, work_id: int, name: str) -> None:
    path = IMAGES / name
    ix.add_image(conn, work_id, hash_image(load_image(path)))
    fx.add_features(conn, work_id, F.registration_features(path))


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=88)
    return out.getvalue()


def _lookup(conn: Connection, data: bytes) -> list[picture_search.PictureMatch]:
    loaded = load_image(io.BytesIO(data))
    return picture_search.search(conn, query_variants(loaded),
                                 lambda: F.query_features(io.BytesIO(data)),
                                 query_size=(loaded.width, loaded.height))


@pytest.fixture
def filled(conn: Connection) -> Connection:
    _register(conn, 7, "features_source.jpg")
    for i, name in enumerate(OTHERS, start=20):
        _register(conn, i, name)
    return conn


def test_keys_are_three_tables_of_sampled_bits():
    desc = np.zeros((2, 32), np.uint8)
    desc[1, 0] = 0b10000000  # bit 0 -> table 0, first key bit
    keys = fx.descriptor_keys(desc)
    assert keys.shape == (2, fx.TABLES)
    assert keys[0].tolist() == [t << fx.KEY_BITS for t in range(fx.TABLES)]
    assert keys[1, 0] == 1 << (fx.KEY_BITS - 1) and keys[1, 1] == 1 << fx.KEY_BITS


def test_candidates_come_from_the_index(filled):
    src = Image.open(IMAGES / "features_source.jpg")
    w, h = src.size
    query = F.query_features(io.BytesIO(_jpeg(src.crop((0, 0, w // 2, h // 2)))))
    counted = fx.votes(filled, query)
    assert max(counted, key=counted.get) == 7
    assert counted[7] >= fx.MIN_VOTES
    assert [m.work_id for m in fx.search(filled, query)] == [7]


def test_a_crop_is_labelled_cropped_not_rotated(filled):
    """Issue #20's defect: the result said "rotated" for a cropped copy."""
    src = Image.open(IMAGES / "features_source.jpg")
    w, h = src.size
    for box in [(int(w * .1), int(h * .1), int(w * .9), int(h * .9)),
                (int(w * .3), int(h * .05), int(w * .95), int(h * .7))]:
        found = _lookup(filled, _jpeg(src.crop(box)))
        assert found[0].work_id == 7
        assert found[0].transformation == "cropped"
        crop = found[0].transform.crop
        assert crop.x == pytest.approx(box[0] / w, abs=0.02)
        assert crop.w == pytest.approx((box[2] - box[0]) / w, abs=0.02)


def test_merged_answer_reports_region_and_transform(filled):
    src = Image.open(IMAGES / "features_source.jpg")
    canvas = Image.new("RGB", (1600, 1000), "white")
    canvas.paste(src.rotate(90, expand=True), (900, 100))
    found = _lookup(filled, _jpeg(canvas))
    assert [m.work_id for m in found] == [7]
    top = found[0]
    assert top.stage == "features"
    assert top.transform.rotation_degrees == 90.0
    assert top.transformation == "rotated"
    assert top.region.x == pytest.approx(900 / 1600, abs=0.02)
    assert top.region.w == pytest.approx(600 / 1600, abs=0.02)
    details = top.details()
    assert set(details["region"]) == {"x", "y", "w", "h"}
    assert set(details["transform"]) == {"rotation_degrees", "scale", "mirrored", "crop"}


def test_exact_copy_takes_the_fast_route(filled):
    called = []
    data = (IMAGES / "features_source.jpg").read_bytes()
    loaded = load_image(io.BytesIO(data))
    found = picture_search.search(filled, query_variants(loaded),
                                  lambda: called.append(1) or [],
                                  query_size=(loaded.width, loaded.height))
    assert found[0].work_id == 7 and found[0].stage == "hash"
    assert found[0].transformation == "identical" and not called
    assert found[0].transform.scale == pytest.approx(1.0)


def test_unregistered_pictures_find_nothing(filled):
    src = Image.open(IMAGES / "texture.jpg")
    for img in [src, src.rotate(45, expand=True), ImageOps.mirror(src)]:
        assert _lookup(filled, _jpeg(img)) == []


def test_remove_and_rebuild(filled):
    rows = filled.execute(select(func.count()).select_from(fx.image_feature_postings)).scalar()
    assert fx.rebuild(filled) == 1 + len(OTHERS)
    again = filled.execute(select(func.count()).select_from(fx.image_feature_postings)).scalar()
    assert again == rows
    assert fx.remove_features(filled, 7)
    assert not fx.remove_features(filled, 7)
    src = Image.open(IMAGES / "features_source.jpg")
    query = F.query_features(io.BytesIO(_jpeg(src.rotate(30, expand=True))))
    assert 7 not in fx.votes(filled, query)
    assert fx.search(filled, query) == []
    postings = filled.execute(select(fx.image_feature_postings.c.postings)).scalars().all()
    assert all(7 not in np.frombuffer(p, dtype=fx.ENTRY) for p in postings)
