"""Bearer-token authentication for the JSON API.

Flask-Login's cookies play no part here: the token is resolved in the API
blueprint itself and the user is handed to the services explicitly.
"""

from __future__ import annotations

import hashlib

from flask import current_app, g, request
from flask_babel import gettext as _

from registry.core.errors import PermissionDenied, TamgaError
from registry.extensions import db
from registry.models.user import User
from registry.services import tokens

DEFAULT_RATE_LIMIT = "60 per minute"


class Unauthorized(TamgaError):
    """No token, or one that is unknown or revoked."""

    code = "unauthorized"
    http_status = 401


def bearer_token() -> str | None:
    """The token from ``Authorization: Bearer …``; None when no header is sent."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _sep, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized(_("Send the token as: Authorization: Bearer <token>."))
    return value.strip()


#: The scope a token needs for each API endpoint (others need none).
ENDPOINT_SCOPES = {
    "api.create_work": "register", "api.lookup": "lookup", "api.search": "lookup",
    "api.get_work": "read", "api.work_evidence": "read", "api.work_state_filing": "read",
}


def resolve_token() -> None:
    """Runs before each API request: sets ``g.api_user`` (None when anonymous)."""
    secret = bearer_token()
    g.api_user = None
    if secret is None:
        return
    token = tokens.find_live_token(secret)
    if token is None:
        raise Unauthorized(_("The API token is invalid or has been revoked."))
    scope = ENDPOINT_SCOPES.get(request.endpoint or "")
    if scope is not None and not tokens.has_scope(token, scope):
        raise PermissionDenied(_("This API token may not do this (it lacks the “%(scope)s” "
                                 "scope).", scope=scope))
    from registry.services import two_factor

    if two_factor.needs_enrolment(token.user):
        raise PermissionDenied(_("Moderators and administrators must set up two-factor "
                                 "sign-in on the website before their API tokens work."))
    if tokens.mark_used(token):  # saved before the view's own work, which may fail
        db.session.commit()
    g.api_user = token.user


def optional_user() -> User | None:
    return g.get("api_user")


def required_user(*, confirmed: bool = True) -> User:
    user = optional_user()
    if user is None:
        raise Unauthorized(_("This request needs an API token."))
    if confirmed and not user.is_confirmed:
        raise PermissionDenied(_("Confirm your e-mail address before using the API."))
    return user


def token_fingerprint() -> str | None:
    """A short hash of the bearer token itself, however the header spells ``Bearer`` and
    spaces it (one budget per token); None without a well-formed bearer header."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _sep, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return hashlib.sha256(value.strip().encode()).hexdigest()[:32]


def rate_limit_key() -> str:
    """One budget per token (hashed, never logged in clear); per address without one."""
    token = token_fingerprint()
    if token:
        return "api-token:" + token
    return "api-addr:" + (request.remote_addr or "unknown")


def rate_limit_value() -> str:
    return current_app.config.get("TAMGA_API_RATE_LIMIT") or DEFAULT_RATE_LIMIT
