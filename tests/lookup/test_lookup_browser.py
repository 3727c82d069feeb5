"""A visitor uploads a clip cut from a registered recording and sees where it sits."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.lookup.conftest import register_file

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
