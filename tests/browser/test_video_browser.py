"""A film maker registers a video through the form, watches it being processed, sees its
key frames, then a visitor looks up a vertical excerpt and sees both timelines."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, add_creator, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def worker_app(thread_worker):
    add_creator(thread_worker, "timur@example.kz", "Timur", legal_name="Темір Сәрсенов")
    return thread_worker


def test_register_a_video_then_find_a_vertical_excerpt(page, live_server, worker_app, media):
    film = media.video("film")
    log_in(page, live_server, "timur@example.kz")

    page.goto(f"{live_server}/works/new")
    page.get_by_label("Title", exact=True).fill("Дала үстіндегі күн")
    page.get_by_label("Kind of work").select_option("audiovisual")
    page.locator("#authors-0-role").select_option("director")
    page.get_by_label("Creation date or year").fill("2025")
    page.get_by_label("Main file (audio, image or video)").set_input_files(str(film))
    page.screenshot(path=str(ARTIFACTS / "video-form.png"), full_page=True)
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/works/KZ-*")
    number = page.url.rsplit("/", 1)[-1]
    if page.locator("#job-progress").count():  # still processing: the progress is shown
        page.screenshot(path=str(ARTIFACTS / "video-progress.png"), full_page=True)
    page.locator(".facts .status").filter(has_text="registered").wait_for(timeout=120_000)
    page.reload()
    frames = page.locator(".key-frame img")
    assert 6 <= frames.count() <= 12
    frames.last.scroll_into_view_if_needed()
    # Every frame is drawn (waited for: the images load after the page, lazily).
    page.wait_for_function("() => [...document.querySelectorAll('.key-frame img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "video-registered.png"), full_page=True)

    page.goto(f"{live_server}/w/{number}")
    assert page.locator(".key-frame img").count() == frames.count()

    excerpt = media.video_clip(film, 6.3, 10, "browser-vertical",
                               vf="crop=ih*9/16:ih,scale=360:640")
    page.goto(f"{live_server}/lookup")
    page.locator("input[type=file]").set_input_files(str(excerpt))
    page.locator("form.lookup-form button[type=submit]").click()
    page.locator(".match-card").first.wait_for(timeout=60_000)
    card = page.locator(".match-card").first
    assert number in card.inner_text()
    assert card.locator(".timeline-picture").is_visible()
    assert card.locator(".timeline-sound").is_visible()
    page.screenshot(path=str(ARTIFACTS / "video-lookup.png"), full_page=True)
