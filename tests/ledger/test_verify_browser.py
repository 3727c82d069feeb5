"""/verify in Chromium: the time-stamps and cosignatures, step by step, in kk and en."""

from __future__ import annotations

import pytest

from registry.services import attestations
from tests.browser.conftest import ARTIFACTS, page  # noqa: F401 - the Playwright page fixture
from tests.registration import register_form

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.app_config({"SERVER_NAME": None})]


def test_verify_page_shows_each_attestation(app, accounts, media, served, page):  # noqa: F811
    accounts.create()
    accounts.login()
    number = register_form(accounts.client, media.picture(72))
    with app.app_context():
        attestations.attest_all(app.extensions["tamga.settings"])
    page.goto(f"{served}/verify?number={number}")
    summary = page.locator(".attestation-summary")
    assert summary.inner_text() == "Timestamped by 2 authorities, cosigned by 2 witnesses"
    steps = page.locator("ol.checks li.check-ok")
    texts = steps.all_inner_texts()
    assert sum("An independent witness cosigned the checkpoint" in t for t in texts) == 2
    assert sum("An independent time-stamping authority dated" in t for t in texts) == 2
    assert page.locator("ol.checks li.check-bad").count() == 0
    page.screenshot(path=str(ARTIFACTS / "verify-attestations-en.png"), full_page=True)
    page.context.add_cookies([{"name": "lang", "value": "kk", "url": served}])
    page.goto(f"{served}/verify?number={number}")
    assert "2 куәгер" in page.locator(".attestation-summary").inner_text()
    page.screenshot(path=str(ARTIFACTS / "verify-attestations-kk.png"), full_page=True)
