"""Rate limits of the lookups: per address for anonymous visitors, higher when known.

Configured through ``app.config`` (a Flask-Limiter string such as
``"20 per minute"``; several limits are joined with ``;``):

* ``TAMGA_LOOKUP_LIMIT_ANON``: anonymous visitors and API calls without a token,
  counted per address.
* ``TAMGA_LOOKUP_LIMIT_USER``: logged-in users of the website, per account.
* ``TAMGA_LOOKUP_LIMIT_TOKEN``: API calls with a token, per token.
* ``TAMGA_LOOKUP_LIMIT_EXEMPT``: addresses never limited (a partner's server).

The counters live where Flask-Limiter keeps them (Redis when ``REDIS_URL`` is set).
"""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

DEFAULTS = {
    "TAMGA_LOOKUP_LIMIT_ANON": "20 per minute; 300 per day",
    "TAMGA_LOOKUP_LIMIT_USER": "60 per minute; 2000 per day",
    "TAMGA_LOOKUP_LIMIT_TOKEN": "600 per minute",
}


def _setting(name: str) -> str:
    return current_app.config.get(name) or DEFAULTS[name]


def _address() -> str:
    return request.remote_addr or "unknown"


def is_exempt() -> bool:
    exempt = current_app.config.get("TAMGA_LOOKUP_LIMIT_EXEMPT") or ()
    return _address() in exempt


def web_key() -> str:
    if current_user.is_authenticated:
        return f"lookup-user:{current_user.id}"
    return f"lookup-addr:{_address()}"


def web_limit() -> str:
    if current_user.is_authenticated:
        return _setting("TAMGA_LOOKUP_LIMIT_USER")
    return _setting("TAMGA_LOOKUP_LIMIT_ANON")


def api_key() -> str:
    """Per token (hashed) when one is sent, else per address.

    Limits are checked before the API resolves the token; a made-up token gets
    the higher budget but nothing else: the API answers 401 before any lookup.
    """
    from registry.api.auth import token_fingerprint

    token = token_fingerprint()
    if token:
        return "lookup-token:" + token
    return f"lookup-addr:{_address()}"


def api_limit() -> str:
    from registry.api.auth import token_fingerprint

    if token_fingerprint():
        return _setting("TAMGA_LOOKUP_LIMIT_TOKEN")
    return _setting("TAMGA_LOOKUP_LIMIT_ANON")
