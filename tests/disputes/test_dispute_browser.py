"""In Chromium: find a copy with the lookup, open a dispute from the result, download the bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from registry.core.tamga_verify import verify_evidence_bundle
from tests.browser.conftest import ARTIFACTS
from tests.registration import register_form

pytestmark = pytest.mark.browser
PASSWORD = "a long enough secret"


@pytest.fixture
def two_registrations(live_app, media, tmp_path):
    """Aigerim's picture and Bolat's PNG copy, registered through the site (CSRF off meanwhile)."""
    from registry.extensions import db
    from registry.services import accounts

    live_app.config.update(WTF_CSRF_ENABLED=False, TAMGA_WORKER="sync")
    with live_app.app_context():
        for email, name in (("aigerim@example.kz", "Aigerim"), ("bolat@example.kz", "Bolat")):
            accounts.confirm_email_now(accounts.register_account(email, PASSWORD, name))
        db.session.commit()
    copy = tmp_path / "copy.png"
    with Image.open(media.picture(23)) as im:
        im.save(copy, "PNG")
    numbers = []
    for email, path, title in (("aigerim@example.kz", media.picture(23), "Steppe"),
                               ("bolat@example.kz", copy, "Not a copy")):
        client = live_app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        numbers.append(register_form(client, path, title=title))
    live_app.config.update(WTF_CSRF_ENABLED=True)
    with live_app.app_context():
        vkeys = live_app.extensions["tamga.settings"].keyring.vkeys()
    yield numbers, vkeys
    with live_app.app_context():
        db.engine.dispose()  # the live server's pooled connections


def test_open_a_dispute_from_a_lookup_result_and_download_the_bundle(
        page, live_server, two_registrations, media):
    (mine, copy), vkeys = two_registrations
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill("aigerim@example.kz")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/lookup")
    page.locator("input[type=file]").set_input_files(str(media.picture(23)))
    page.get_by_role("button", name="Check").click()
    card = page.locator("article.match-card").filter(has_text=copy)
    card.get_by_role("link", name="Open a dispute").click()
    page.wait_for_url(f"**/disputes/new/{copy}")
    page.get_by_label("My earlier registration").select_option(mine)
    page.get_by_label("Statement").fill("I photographed this steppe in 2019.")
    page.screenshot(path=str(ARTIFACTS / "dispute-form.png"), full_page=True)
    page.get_by_role("button", name="Open the dispute").click()
    page.wait_for_url("**/disputes/*")
    assert "awaiting" in page.locator(".dispute").get_attribute("data-status")
    assert "100.0%" in page.locator(".score-line").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dispute-page.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the evidence bundle (ZIP)").click()
    data = Path(info.value.path()).read_bytes()
    checks = verify_evidence_bundle(data, vkeys, recompute=True)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]

    page.goto(f"{live_server}/w/{copy}")
    assert page.locator(".dispute-banner").filter(has_text="Questioned").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dispute-public-page.png"), full_page=True)
