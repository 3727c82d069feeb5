"""Two accounts: Bolat registers a copy of Aigerim's photograph through the form;
Aigerim is told at once, compares the two works and goes on to open a dispute."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.browser.conftest import ARTIFACTS, add_creator, contexts, log_in

pytestmark = pytest.mark.browser

@pytest.fixture
def two_accounts(live_app):
    live_app.config["TAMGA_WORKER"] = "sync"
    add_creator(live_app, "aigerim@example.kz", "Aigerim", legal_name="Айгерім Сейітова")
    add_creator(live_app, "bolat@example.kz", "Bolat", legal_name="Болат Жұмабаев")
    return live_app


def _register(page, server, title, path):
    page.goto(f"{server}/works/new")
    page.locator("#title").fill(title)
    page.locator("#work_type").select_option("photograph")
    assert page.locator("#authors-0-role").input_value() == "photographer"
    page.locator("#creation").fill("2025")
    page.locator("#file").set_input_files(str(path))
    page.locator("#registration-form [type=submit]").click()
    page.wait_for_url("**/works/KZ-*")
    return page.url.rsplit("/", 1)[-1]


def test_the_earlier_owner_hears_of_a_later_copy_and_can_open_a_dispute(
        browser, live_server, two_accounts, media, tmp_path):
    original = media.picture(31)
    copy = tmp_path / "copy.png"
    Image.open(original).save(copy, "PNG")
    with contexts(browser) as new_context:
        aigerim = new_context(viewport={"width": 1100, "height": 900}).new_page()
        bolat = new_context(viewport={"width": 1100, "height": 900}).new_page()
        aigerim.context.add_cookies([{"name": "lang", "value": "ru", "url": live_server}])
        bolat.context.add_cookies([{"name": "lang", "value": "en", "url": live_server}])

        log_in(aigerim, live_server, "aigerim@example.kz")
        first = _register(aigerim, live_server, "Степь в полдень", original)
        aigerim.goto(f"{live_server}/notifications/")
        assert aigerim.locator(".notification-compare").count() == 0

        log_in(bolat, live_server, "bolat@example.kz")
        second = _register(bolat, live_server, "My steppe", copy)

        aigerim.goto(f"{live_server}/")
        badge = aigerim.locator(".nav-notifications .badge")
        assert badge.inner_text().strip() == "1"
        aigerim.goto(f"{live_server}/notifications/")
        text = aigerim.locator("ul.notifications").inner_text()
        assert second in text and first in text and "Более поздняя регистрация" in text
        aigerim.screenshot(path=str(ARTIFACTS / "later-match-notification-ru.png"),
                           full_page=True)
        aigerim.locator(".notification-compare").first.click()
        aigerim.wait_for_url(f"**/works/{first}/later/{second}")
        assert aigerim.locator(".dispute-comparison").is_visible()
        aigerim.screenshot(path=str(ARTIFACTS / "later-match-comparison-ru.png"), full_page=True)
        aigerim.locator(".later-match a.button").click()
        aigerim.wait_for_url(f"**/disputes/new/{second}")
        options = aigerim.locator("#claimant_work option").all_inner_texts()
        assert any(first in o for o in options)

        aigerim.goto(f"{live_server}/works/{first}")
        row = aigerim.locator(".later-matches tbody tr").first
        assert second in row.inner_text()
        aigerim.screenshot(path=str(ARTIFACTS / "later-match-owner-page-ru.png"), full_page=True)
        # Bolat, the later registrant, is not told about his own registration.
        bolat.goto(f"{live_server}/notifications/")
        assert bolat.locator(".notification-compare").count() == 0
