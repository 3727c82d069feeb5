"""A visitor uploads a clip cut from a registered recording and sees where it sits."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.registration import register_file

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _close_live_connections(live_app):
    """The live app's pooled connections are closed here, not left to the garbage collector."""
    yield
    from registry.extensions import db

    with live_app.app_context():
        db.engine.dispose()


def _registered_song(live_app, media) -> str:
    from registry.extensions import db
    from registry.services import accounts

    with live_app.app_context():
        user = accounts.register_account("singer@example.kz", "steppe wind melody", "Ақжан")
        accounts.confirm_email_now(user)
        db.session.commit()
    return register_file(live_app, media.song("song_a"), title="Таңғы әуен",
                         work_type="sound_recording", email="singer@example.kz", name="Ақжан")


def _check_clip(page, live_server, clip) -> None:
    page.goto(f"{live_server}/lookup")
    page.locator("input[type=file]").set_input_files(str(clip))
    page.locator("form.lookup-form button[type=submit]").click()
    page.wait_for_selector(".match-card")


def test_clip_lookup_shows_timeline_in_english_and_kazakh(page, live_server, live_app, media):
    number = _registered_song(live_app, media)
    clip = media.clip("song_a", 20, 12)

    _check_clip(page, live_server, clip)
    card = page.locator(".match-card")
    assert number in card.inner_text() and "Таңғы әуен" in card.inner_text()
    assert page.locator(".timeline .tl-seg").first.is_visible()
    caption = page.locator(".timeline figcaption").inner_text()
    assert "0:20" in caption or "0:19" in caption or "0:21" in caption
    assert "not stored" in page.content()
    page.screenshot(path=str(ARTIFACTS / "lookup-clip-en.png"), full_page=True)

    page.get_by_role("button", name="Қазақша").click()
    page.wait_for_load_state()
    _check_clip(page, live_server, clip)
    assert page.locator("html").get_attribute("lang") == "kk"
    assert number in page.locator(".match-card").inner_text()
    assert page.locator(".timeline .tl-seg").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "lookup-clip-kk.png"), full_page=True)


def test_search_box_in_header_finds_work_typed_in_latin(page, live_server, live_app, media):
    number = _registered_song(live_app, media)
    page.goto(f"{live_server}/")
    page.locator(".header-search input[name=q]").fill("Tañğy äuen")
    page.locator(".header-search button").click()
    page.wait_for_selector(".search-hit")
    assert number in page.locator(".search-hit").inner_text()
    page.screenshot(path=str(ARTIFACTS / "search-latin-en.png"), full_page=True)


def test_mirrored_picture_side_by_side_and_no_match(page, live_server, live_app, media, tmp_path):
    from PIL import Image, ImageOps

    with live_app.app_context():
        from registry.extensions import db
        from registry.services import accounts

        user = accounts.register_account("photo@example.kz", "steppe wind melody", "Ерлан")
        accounts.confirm_email_now(user)
        db.session.commit()
    number = register_file(live_app, media.picture(5), title="Көл жағасы", work_type="photograph",
                           email="photo@example.kz", name="Ерлан")
    mirrored = tmp_path / "mirrored.jpg"
    ImageOps.mirror(Image.open(media.picture(5))).save(mirrored, quality=70)
    _check_clip(page, live_server, mirrored)
    assert number in page.locator(".match-card").inner_text()
    assert page.locator(".side-by-side img").count() == 2
    assert "mirrored" in page.locator(".match-card").inner_text()
    page.screenshot(path=str(ARTIFACTS / "lookup-image-en.png"), full_page=True)

    page.goto(f"{live_server}/lookup")
    page.locator("input[type=file]").set_input_files(str(media.picture(9)))
    page.locator("form.lookup-form button[type=submit]").click()
    page.wait_for_selector(".checked-box")
    assert "No registered work matches" in page.content()
    assert "compared with 1 registered picture" in page.content()
    page.screenshot(path=str(ARTIFACTS / "lookup-nomatch-en.png"), full_page=True)


def test_collage_tile_is_boxed_on_the_query_and_the_registered_picture(page, live_server,
                                                                       live_app, tmp_path):
    """Issue #17: a registered picture found as one tile of a collage, cropped: the
    result page draws where it sits in the query and which part of it is shown."""
    from pathlib import Path

    from PIL import Image, ImageOps

    fixtures = Path(__file__).parent.parent / "fixtures" / "images"
    with live_app.app_context():
        from registry.extensions import db
        from registry.services import accounts

        user = accounts.register_account("collage@example.kz", "steppe wind melody", "Айгүл")
        accounts.confirm_email_now(user)
        db.session.commit()
    number = register_file(live_app, fixtures / "features_source.jpg", title="Тау бейнесі",
                           work_type="photograph", email="collage@example.kz", name="Айгүл")
    source = Image.open(fixtures / "features_source.jpg").convert("RGB")
    other = Image.open(fixtures / "features_other.jpg").convert("RGB")
    canvas = Image.new("RGB", (1212, 912), (245, 245, 245))
    canvas.paste(ImageOps.fit(other, (600, 450)), (0, 0))
    canvas.paste(ImageOps.fit(ImageOps.mirror(other), (600, 450)), (612, 462))
    canvas.paste(ImageOps.fit(other.rotate(180), (600, 450)), (0, 462))
    canvas.paste(source.crop((100, 75, 700, 525)), (612, 0))  # the middle 56% of it
    query = tmp_path / "collage.jpg"
    canvas.save(query, quality=85)

    _check_clip(page, live_server, query)
    card = page.locator(".match-card")
    assert number in card.inner_text()
    assert "cropped" in card.inner_text()
    box = page.locator(".match-box[data-box=query]")
    img = page.locator(".side-by-side figure").first.locator("img")
    b, i = box.bounding_box(), img.bounding_box()
    drawn = ((b["x"] - i["x"]) / i["width"], (b["y"] - i["y"]) / i["height"],
             b["width"] / i["width"], b["height"] / i["height"])
    assert _iou(drawn, (612 / 1212, 0, 600 / 1212, 450 / 912)) >= 0.8, drawn
    c, r = (page.locator(".match-box[data-box=registered]").bounding_box(),
            page.locator(".side-by-side figure").nth(1).locator("img").bounding_box())
    shown = ((c["x"] - r["x"]) / r["width"], (c["y"] - r["y"]) / r["height"],
             c["width"] / r["width"], c["height"] / r["height"])
    assert _iou(shown, (0.125, 0.125, 0.75, 0.75)) >= 0.75, shown
    assert "Turned by 0.0°" in card.inner_text()
    page.screenshot(path=str(ARTIFACTS / "lookup-image-collage-en.png"), full_page=True)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    w = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)
