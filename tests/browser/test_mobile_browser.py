"""At 390 px (a phone), no main page scrolls sideways, in Kazakh and in Russian.

Each page is measured with ``document.documentElement.scrollWidth`` and saved as a
full-page screenshot in ``test-artifacts/browser/mobile-*.png``.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from registry.extensions import db
from registry.models import Dispute, Work
from tests.browser.conftest import ARTIFACTS, contexts

pytestmark = pytest.mark.browser

WIDTH = 390
#: The outermost elements reaching past the right edge, to say what is too wide.
OFFENDERS = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right
                <= window.innerWidth + 0.5)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
  .slice(0, 5)"""
PASSWORD = "a long enough secret"


def _form(path, title, **extra):
    data = {
        "title": title, "work_type": "photograph", "language": "kk", "country": "KZ",
        "authors-0-full_name": "Айгерім Сейітова-Құрманғазықызы", "authors-0-role": "photographer",
        "authors-0-share": "100", "registrant_capacity": "author", "creation": "2025",
        "ai_use": "none", "licence": "all-rights-reserved", "visibility": "public",
        "allow_thumbnail": "y", "ai_training_opt_out": "y",
        "file": (io.BytesIO(path.read_bytes()), "өте-ұзақ-атауы-бар-сурет-файлы-2025.png"),
    }
    data.update(extra)
    return data


@pytest.fixture
def site(live_app, media, tmp_path):
    """Aigerim's photograph, Bolat's copy of it (a conflict) and a dispute between them."""
    from registry.services import accounts

    live_app.config["TAMGA_WORKER"] = "sync"
    live_app.config["WTF_CSRF_ENABLED"] = False
    with live_app.app_context():
        for email, name in (("aigerim@example.kz", "Aigerim"), ("bolat@example.kz", "Bolat")):
            user = accounts.register_account(email, PASSWORD, name)
            accounts.confirm_email_now(user)
        db.session.commit()
    original = media.picture(11)
    copy = tmp_path / "copy.png"
    Image.open(original).save(copy, "PNG")
    client = live_app.test_client()
    numbers = []
    for email, path, title in (("aigerim@example.kz", original, "Таңғы дала, Алатау етегінде"),
                               ("bolat@example.kz", copy, "Менің далам")):
        client.post("/logout")
        client.post("/login", data={"email": email, "password": PASSWORD})
        response = client.post("/works/new", data=_form(path, title),
                               content_type="multipart/form-data")
        assert response.status_code == 302, response.data[:300]
        numbers.append(response.headers["Location"].rsplit("/", 1)[-1])
    client.post("/logout")
    client.post("/login", data={"email": "aigerim@example.kz", "password": PASSWORD})
    opened = client.post(f"/disputes/new/{numbers[1]}", data={
        "kind": "copies_registration", "claimant_work": numbers[0],
        "statement": "Мен бұл суретті 2019 жылы түсірдім."}, content_type="multipart/form-data")
    assert opened.status_code == 302, opened.data[:300]
    live_app.config["WTF_CSRF_ENABLED"] = True
    with live_app.app_context():
        dispute = db.session.scalar(db.select(Dispute))
        work = db.session.scalar(db.select(Work).filter_by(registration_number=numbers[0]))
        assert work is not None
        return {"mine": numbers[0], "theirs": numbers[1], "dispute": dispute.id}


def _pages(site: dict) -> list[tuple[str, str]]:
    return [
        ("home", "/"), ("search", "/search?q=дала"), ("lookup", "/lookup"),
        ("verify", "/verify"), ("public-work", f"/w/{site['mine']}"),
        ("owner-work", f"/works/{site['mine']}"), ("my-works", "/works/"),
        ("register", "/works/new"), ("notifications", "/notifications/"),
        ("dispute", f"/disputes/{site['dispute']}"),
        ("dispute-new", f"/disputes/new/{site['theirs']}"), ("profile", "/account/profile"),
        ("my-disputes", "/disputes/"),
    ]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_main_page_scrolls_sideways_at_390px(browser, live_server, site, lang):
    too_wide = {}
    with contexts(browser) as new_context:
        context = new_context(viewport={"width": WIDTH, "height": 844},
                              device_scale_factor=1, is_mobile=True, has_touch=True)
        context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
        page = context.new_page()
        for name, path in (("signup", "/signup"), ("login", "/login")):
            page.goto(live_server + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                too_wide[name] = (width, page.evaluate(OFFENDERS))
            page.screenshot(path=str(ARTIFACTS / f"mobile-{lang}-{name}.png"), full_page=True)
        page.locator("#email").fill("aigerim@example.kz")
        page.locator("#password").fill(PASSWORD)
        page.locator("main form button[type=submit], main form input[type=submit]").first.click()
        page.wait_for_url(f"{live_server}/")
        for name, path in _pages(site):
            response = page.goto(live_server + path)
            assert response is not None and response.status == 200, name
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                too_wide[name] = (width, page.evaluate(OFFENDERS))
            page.screenshot(path=str(ARTIFACTS / f"mobile-{lang}-{name}.png"), full_page=True)
    assert too_wide == {}, f"pages wider than {WIDTH}px: {too_wide}"
