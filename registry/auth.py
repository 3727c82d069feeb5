"""Flask-Login wiring: a cookie carries a login-session token, not a user id."""

from __future__ import annotations

from flask import Flask

from registry.extensions import login_manager
from registry.services import accounts


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.user_loader(accounts.load_session_user)
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
