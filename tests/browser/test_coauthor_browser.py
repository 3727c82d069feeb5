"""Co-authors confirm (issue 20), in the browser with two accounts: Aigerim (Kazakh)
registers a photograph naming Bolat as its editor with his e-mail; Bolat (Russian) is
told, opens the invitation and confirms; the public page then shows his confirmation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, add_creator, contexts, log_in

pytestmark = pytest.mark.browser

@pytest.fixture
def two_accounts(live_app):
    live_app.config["TAMGA_WORKER"] = "sync"
    add_creator(live_app, "aigerim@example.kz", "Aigerim", legal_name="Айгерім Сейітова",
                locale="kk")
    add_creator(live_app, "bolat@example.kz", "Bolat", legal_name="Болат Жұмабаев", locale="ru")
    return live_app


def test_a_named_coauthor_is_invited_and_confirms(browser, live_server, two_accounts, media):
    with contexts(browser) as new_context:
        aigerim = new_context(viewport={"width": 1100, "height": 900}).new_page()
        bolat = new_context(viewport={"width": 1100, "height": 900}).new_page()
        aigerim.context.add_cookies([{"name": "lang", "value": "kk", "url": live_server}])
        bolat.context.add_cookies([{"name": "lang", "value": "ru", "url": live_server}])

        log_in(aigerim, live_server, "aigerim@example.kz")
        aigerim.goto(f"{live_server}/works/new")
        aigerim.locator("#title").fill("Екеуміздің суретіміз")
        aigerim.locator("#work_type").select_option("photograph")
        aigerim.locator("#creation").fill("2025")
        aigerim.locator("#authors-0-share").fill("60")
        aigerim.locator("#add-author").click()
        aigerim.locator("#authors-1-full_name").fill("Болат Жұмабаев")
        aigerim.locator("#authors-1-role").select_option("editor")
        aigerim.locator("#authors-1-share").fill("40")
        aigerim.locator("#authors-1-email").fill("bolat@example.kz")
        aigerim.locator("#file").set_input_files(str(media.picture(51)))
        aigerim.locator("#registration-form [type=submit]").click()
        aigerim.wait_for_url("**/works/KZ-*")
        number = aigerim.url.rsplit("/", 1)[-1]
        panel = aigerim.locator("#coauthors")
        assert "Болат Жұмабаев" in panel.inner_text()
        assert aigerim.locator("#coauthors .coauthor-pending").count() == 1

        log_in(bolat, live_server, "bolat@example.kz")
        assert bolat.locator(".nav-notifications .badge").inner_text().strip() == "1"
        bolat.goto(f"{live_server}/notifications/")
        invitation = bolat.locator(".notifications a").first
        assert "назвал(а) вас автором" in invitation.inner_text()
        invitation.click()
        bolat.wait_for_url("**/coauthors/*")
        text = bolat.locator("main").inner_text()
        assert "Подтвердите своё авторство" in text and "Редактор" in text and "40" in text
        bolat.screenshot(path=str(ARTIFACTS / "coauthor-invitation-ru.png"), full_page=True)
        bolat.locator("#confirm-authorship").click()
        # Same address before and after: wait for the confirmed mark, not for the URL.
        expect(bolat.locator(".coauthor-confirmed")).to_have_count(1)
        assert bolat.locator("#confirm-authorship").count() == 0
        assert "Спасибо" in bolat.locator(".flash").inner_text()

        bolat.goto(f"{live_server}/w/{number}")
        confirmed = bolat.locator(".authors .coauthor-confirmed")
        assert confirmed.count() == 1 and "подтверждено" in confirmed.inner_text()
        bolat.screenshot(path=str(ARTIFACTS / "coauthor-public-ru.png"), full_page=True)

        aigerim.goto(f"{live_server}/works/{number}")
        assert aigerim.locator("#coauthors .coauthor-confirmed").count() == 1
        assert "растады" in aigerim.locator("#coauthors").inner_text()
        aigerim.screenshot(path=str(ARTIFACTS / "coauthor-owner-kk.png"), full_page=True)

        # A named collection with the work, and its public page.
        aigerim.goto(f"{live_server}/collections/")
        aigerim.locator("#title").fill("Дала сериясы")
        aigerim.locator("#kind").select_option("series")
        aigerim.locator("main form.stack [type=submit]").click()
        aigerim.wait_for_url("**/collections/*/edit")
        aigerim.locator(f"input[name=works][value='{number}']").check()
        aigerim.locator("main form.stack [type=submit]").click()
        aigerim.wait_for_url("**/collections/*")
        collection = aigerim.url
        bolat.goto(collection)
        assert "Дала сериясы" in bolat.locator("h1").inner_text()
        assert bolat.locator(f".collection-works a[href='/w/{number}']").count() == 1

        # Nothing scrolls sideways on a phone (390 px), in Kazakh and in Russian.
        pages = [(aigerim, f"/works/{number}", "owner-kk"), (aigerim, "/collections/", "mine-kk"),
                 (aigerim, collection.removeprefix(live_server) + "/edit", "edit-kk"),
                 (bolat, f"/coauthors/{inv_id(bolat, live_server)}", "invitation-ru"),
                 (bolat, "/coauthors/", "list-ru"), (bolat, f"/w/{number}", "public-ru"),
                 (bolat, collection.removeprefix(live_server), "collection-ru")]
        for who, path, name in pages:
            who.set_viewport_size({"width": 390, "height": 800})
            who.goto(f"{live_server}{path}")
            width = who.evaluate("document.documentElement.scrollWidth")
            who.screenshot(path=str(ARTIFACTS / f"coauthor-mobile-{name}.png"), full_page=True)
            assert width <= 390, (path, width)


def inv_id(page, server) -> str:
    page.goto(f"{server}/coauthors/")
    return page.locator(".coauthor-list a").first.get_attribute("href").rsplit("/", 1)[-1]
