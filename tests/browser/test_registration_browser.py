"""A creator registers an image and a recording through the real form and watches
the status change to registered."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, add_creator, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def worker_app(thread_worker):
    add_creator(thread_worker, "zhanna@example.kz", "Zhanna", legal_name="Жанна Әлиева")
    return thread_worker


def _login(page, server):
    log_in(page, server, "zhanna@example.kz")


def _register(page, server, title, kind, path, shot):
    page.goto(f"{server}/works/new")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Kind of work").select_option(kind)
    assert page.locator("#authors-0-full_name").input_value() == "Жанна Әлиева"
    page.locator("#authors-0-role").select_option(
        "photographer" if kind == "photograph" else "performer")
    page.get_by_label("Creation date or year").fill("2025")
    page.get_by_label("Main file (audio, image or video)").set_input_files(str(path))
    page.screenshot(path=str(ARTIFACTS / f"{shot}-form.png"), full_page=True)
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/works/KZ-*")
    status = page.locator(".facts .status")
    status.filter(has_text="registered").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / f"{shot}-registered.png"), full_page=True)
    return page.url.rsplit("/", 1)[-1]


def test_register_an_image_and_a_recording_through_the_form(page, live_server, worker_app,
                                                            media):
    _login(page, live_server)
    image = _register(page, live_server, "Алматы түнде", "photograph", media.picture(61),
                      "register-image")
    song = _register(page, live_server, "Дала әуені", "sound_recording", media.song("song_a"),
                     "register-audio")
    assert image != song
    page.goto(f"{live_server}/works/")
    assert page.get_by_text("Алматы түнде").is_visible()
    assert page.get_by_text("Дала әуені").is_visible()
    page.goto(f"{live_server}/w/{image}")
    assert page.locator(".thumb img").is_visible()
    page.screenshot(path=str(ARTIFACTS / "public-work.png"), full_page=True)


def test_the_form_keeps_entries_when_a_file_is_refused(page, live_server, worker_app, tmp_path):
    _login(page, live_server)
    bogus = tmp_path / "song.mp3"
    bogus.write_text("not really a song " * 50)
    page.goto(f"{live_server}/works/new")
    page.get_by_label("Title", exact=True).fill("Keep me")
    page.get_by_label("Main file (audio, image or video)").set_input_files(str(bogus))
    page.get_by_role("button", name="Register").click()
    page.locator(".field.has-error").first.wait_for()
    assert page.get_by_label("Title", exact=True).input_value() == "Keep me"
    assert "plain text" in page.content()
    page.screenshot(path=str(ARTIFACTS / "register-refused.png"), full_page=True)
