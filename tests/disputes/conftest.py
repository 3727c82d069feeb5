"""Two creators, a moderator and a stranger; works registered through the real service."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from registry.extensions import db
from registry.models import User, Work
from registry.services import disputes
from registry.web.utils import mailer, registry_settings

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


class Cast:
    def __init__(self, app, accounts) -> None:
        self.app, self.accounts = app, accounts
        self.ids = {
            "aigerim": accounts.create("aigerim@example.kz", name="Aigerim"),
            "bolat": accounts.create("bolat@example.kz", name="Bolat"),
            "moder": accounts.create("moder@example.kz", name="Moderator", role="moderator"),
            "stranger": accounts.create("stranger@example.kz", name="Stranger"),
        }

    def user(self, name: str) -> User:
        return db.session.get(User, self.ids[name])

    def login(self, name: str) -> None:
        self.accounts.logout()
        self.accounts.login(f"{name}@example.kz")

    def register(self, name: str, path: Path, title: str, **fields) -> str:
        """Register ``path`` for ``name`` through the website (processed synchronously)."""
        from tests.registration import register_form

        self.login(name)
        return register_form(self.accounts.client, path, title=title, **fields)

    def work(self, number: str) -> Work:
        return db.session.scalar(db.select(Work).filter_by(registration_number=number))

    def ctx(self, now: datetime = T0, days: int = 14) -> disputes.Context:
        return disputes.Context(registry_settings(), mailer(), now, days)


@pytest.fixture
def cast(app, accounts) -> Cast:
    app.config["TAMGA_WORKER"] = "sync"
    return Cast(app, accounts)


@pytest.fixture
def two_pictures(cast, media, tmp_path) -> tuple[str, str]:
    """Aigerim's picture, then Bolat's PNG copy of it (a conflict at registration)."""
    from PIL import Image

    original = media.picture(7)
    copy = tmp_path / "copy.png"
    Image.open(original).save(copy, "PNG")
    first = cast.register("aigerim", original, "Steppe at noon")
    second = cast.register("bolat", copy, "My steppe")
    return first, second




# The browser fixtures (live server, Chromium page) for test_dispute_browser.py.
from tests.browser import conftest as _browser  # noqa: E402

live_app = _browser.live_app
live_server = _browser.live_server
page = _browser.page
