"""A person signs up, confirms through the outbox link, logs in and reads Kazakh."""

from __future__ import annotations

import email
import re
import time
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def _confirmation_link(outbox: Path) -> str:
    """The job runner writes the message after the sign-up commits: wait for it."""
    deadline = time.monotonic() + 20
    while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
        time.sleep(0.1)
    (message_file,) = outbox.glob("*.eml")
    body = email.message_from_bytes(message_file.read_bytes()).get_payload(decode=True).decode()
    return re.search(r"(https?://\S+/confirm/\S+)", body).group(1)


def test_signup_confirm_login_and_switch_to_kazakh(page, live_server, live_app, thread_worker):
    page.goto(f"{live_server}/signup")
    page.get_by_label("E-mail").fill("marat@example.kz")
    page.get_by_label("Display name").fill("Marat Dombra")
    page.get_by_label("Password", exact=True).fill("steppe wind melody")
    page.get_by_label("Repeat password").fill("steppe wind melody")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/login")
    assert "outbox" in page.content()

    link = _confirmation_link(Path(live_app.config["TAMGA_OUTBOX_DIR"]))
    assert link.startswith(live_server)
    page.goto(link)
    assert "confirmed" in page.content()

    page.get_by_label("E-mail").fill("marat@example.kz")
    page.get_by_label("Password").fill("steppe wind melody")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_text("Marat Dombra").is_visible()

    page.get_by_role("button", name="Қазақша").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "kk"
    heading = page.get_by_role("heading", level=1).inner_text()
    assert "Тіркеңіз" in heading
    page.screenshot(path=str(ARTIFACTS / "home-kk.png"), full_page=True)

    page.reload()
    assert page.locator("html").get_attribute("lang") == "kk"  # kept in the cookie
