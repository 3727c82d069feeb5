"""A live server on 127.0.0.1 and Debian's Chromium driven by Playwright; creators made
straight in the database, the in-process worker, and signing in through the page."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import _app_config

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "a long enough secret"


@pytest.fixture
def live_app(database_url, tmp_path):
    from registry import create_app

    config = _app_config(database_url, tmp_path / "instance")
    config.pop("SERVER_NAME")
    config["WTF_CSRF_ENABLED"] = True
    application = create_app(config)
    yield application
    from registry.extensions import db

    with application.app_context():
        db.engine.dispose()  # close the pooled connections the server's threads used


@pytest.fixture
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    # The address served on is the base of every link (as `PORT=… make run` does).
    base = f"http://127.0.0.1:{server.server_port}"
    live_app.config["TAMGA_BASE_URL"] = base
    settings = live_app.extensions["tamga.settings"]
    live_app.extensions["tamga.settings"] = dataclasses.replace(settings, base_url=base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def add_creator(app, email: str, name: str, *, legal_name: str | None = None,
                locale: str | None = None, password: str = PASSWORD) -> None:
    """A confirmed creator account, written through the accounts service."""
    from registry.extensions import db
    from registry.services import accounts

    with app.app_context():
        options = {"locale": locale} if locale else {}
        user = accounts.register_account(email, password, name, **options)
        if legal_name:
            user.legal_name_cyrillic = legal_name
        accounts.confirm_email_now(user)
        db.session.commit()


@pytest.fixture
def thread_worker(live_app):
    """The live application with its in-process job worker running."""
    from registry.tasks import start_thread_worker

    live_app.config["TAMGA_WORKER"] = "thread"
    worker = start_thread_worker(live_app)
    yield live_app
    worker.stop()


def log_in(page, server: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login page (by field ids: works in every interface language)."""
    page.goto(f"{server}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_url(f"{server}/")


@pytest.fixture
def page(browser):
    """A new page in a context of its own (the browser is shared by the session)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


@contextmanager
def contexts(browser) -> Iterator[Callable[..., object]]:
    """``new_context(**options)`` for a test that needs several (two people at once, a
    phone); every context it opened is closed at the end, the shared browser stays."""
    opened = []

    def new_context(**options):
        context = browser.new_context(**options)
        opened.append(context)
        return context

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield new_context
    finally:
        for context in opened:
            context.close()
