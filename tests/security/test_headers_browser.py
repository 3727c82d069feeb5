"""The pages work under the Content-Security-Policy in Chromium: no violation reported."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, live_app, live_server, page  # noqa: F401

pytestmark = pytest.mark.browser


def test_api_docs_and_pages_run_under_the_csp(page, live_server):  # noqa: F811
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    response = page.goto(f"{live_server}/api/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector("article.op")
    assert page.locator("article.op").count() >= 5
    page.screenshot(path=str(ARTIFACTS / "security-api-docs-csp.png"))
    for path in ("/", "/lookup", "/signup", "/search?q=dombra"):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state()
    assert violations == []
