"""Issue 12, item 4: no security headers at all. Now a strict CSP (no inline script,
``frame-ancestors 'none'``), nosniff, Referrer-Policy, Permissions-Policy, and HSTS
over HTTPS (also behind the proxy). The API docs page works under the CSP (browser)."""

from __future__ import annotations

import pytest

PAGES = ["/", "/login", "/search?q=x", "/api/docs", "/api/v1/openapi.json", "/lookup",
         "/static/css/tamga.css", "/nowhere"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_headers(client, path):
    response = client.get(path)
    response.close()  # a static file's handle
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] + directives["default-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_hsts_over_https_and_behind_the_proxy(app, client):
    assert "max-age=" in client.get("/", base_url="https://tamga.test").headers[
        "Strict-Transport-Security"]
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_no_inline_script_in_any_template():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "registry" / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or "application/json" in tag, (template, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "<style" not in text, template
