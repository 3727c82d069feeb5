"""The docs page in Chromium: our script renders the OpenAPI document, no CDN involved."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, live_app, live_server, page  # noqa: F401

pytestmark = pytest.mark.browser


def test_docs_page_renders_endpoints_parameters_schemas_and_examples(page, live_server):  # noqa: F811
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else outside.append(r.url))
    page.goto(f"{live_server}/api/docs")
    page.wait_for_selector("article.op")
    operations = page.locator("article.op h3").all_inner_texts()
    assert any("POST" in o.upper() and "/api/v1/works" in o for o in operations)
    assert any("/api/v1/works/{registration_number}" in o for o in operations)
    body = page.inner_text("#apidocs-body")
    for text in ("registration_number", "work_type", "Request body", "Responses", "415",
                 "Schemas", "WorkRecord", "Needs a bearer token."):
        assert text in body, text
    page.get_by_text("Examples").first.click()
    assert "KZ-2026-000123" in page.inner_text("article.op >> nth=0")
    page.click("a[href='#schema-Error']")
    assert page.locator("#schema-Error").is_visible()
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=True)
    assert outside == []
