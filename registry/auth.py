"""Flask-Login wiring: a cookie carries a login-session token, not a user id.

Moderators and administrators must use two-factor sign-in: until they have set it up,
every page and action sends them to the set-up page.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, request, url_for
from flask_login import current_user

from registry.extensions import login_manager
from registry.services import accounts, two_factor

#: What a moderator or administrator without two-factor sign-in can still reach.
OPEN_WITHOUT_TWO_FACTOR = frozenset({
    "auth.two_factor_setup", "auth.logout", "main.set_language", "static",
})


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.user_loader(accounts.load_session_user)
    from flask_babel import gettext as _
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")

    @app.before_request
    def _staff_must_enrol():
        if (request.blueprint in ("api", "api_docs")
                or request.endpoint in OPEN_WITHOUT_TWO_FACTOR or request.endpoint is None):
            return None
        if current_user.is_authenticated and two_factor.needs_enrolment(current_user):
            flash(_("Moderators and administrators must set up two-factor sign-in before "
                    "anything else."), "info")
            return redirect(url_for("auth.two_factor_setup"), 303)
        return None
