"""The work page offers the signed receipt given at submission (issue 13): a creator
registers through the real form, sees the promised deadline and downloads a receipt
that ``tamga-verify`` accepts."""

from __future__ import annotations

import json

import pytest

from registry.core.tamga_verify import verify_receipt
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_registration_browser import _login, _register, worker_app  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_receipt_is_shown_and_downloaded_from_the_work_page(page, live_server,
                                                                worker_app, media):  # noqa: F811
    _login(page, live_server)
    number = _register(page, live_server, "Көктем", "photograph", media.picture(71),
                       "receipt-register")
    receipt_line = page.locator("#receipt")
    assert "promised to enter this registration in the ledger by" in receipt_line.inner_text()
    page.screenshot(path=str(ARTIFACTS / "receipt-work-page.png"), full_page=True)
    with page.expect_download() as download:
        receipt_line.get_by_role("link", name="Download the receipt").click()
    assert download.value.suggested_filename == f"{number}-receipt.json"
    receipt = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert receipt["registration_number"] == number
    keys = worker_app.extensions["tamga.settings"].keyring.vkeys()
    assert all(c.ok and not c.warning for c in verify_receipt(receipt, keys))
