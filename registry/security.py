"""Secret key, cookie flags and proxy handling."""

from __future__ import annotations

import math
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.utils import host_is_trusted

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def init_security(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret(Path(app.instance_path) / "secret_key")
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)  # type: ignore[method-assign]
    if app.config.get("TAMGA_PROXY_FIX"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    init_trusted_hosts(app)
    init_security_headers(app)
    init_input_guards(app)


def trusted_hosts(config) -> list[str]:
    """``TAMGA_TRUSTED_HOSTS``, or else the configured base URL's host and loopback."""
    configured = config.get("TAMGA_TRUSTED_HOSTS")
    if configured:
        return list(configured)
    hosts = [urlsplit(config["TAMGA_BASE_URL"]).hostname or "", *LOOPBACK_HOSTS]
    if config.get("SERVER_NAME"):
        hosts.append(str(config["SERVER_NAME"]).split(":")[0])
    return [h for h in hosts if h]


def init_trusted_hosts(app: Flask) -> None:
    """Refuse requests for a host this registry is not (``Host``, or ``X-Forwarded-Host``
    behind the proxy): links are built from the base URL anyway, never from them."""
    allowed = trusted_hosts(app.config)

    @app.before_request
    def _refuse_unknown_host():
        host = request.environ.get("HTTP_HOST") or request.environ.get("SERVER_NAME") or ""
        if not host_is_trusted(host, allowed):
            abort(400)


def load_or_create_secret(path: Path) -> str:
    """Read the key kept in the instance folder, or create it once with mode 0600."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class SecureCookiesOverHttps:
    """Mark every cookie ``Secure`` when the request came over HTTPS.

    Flask's session cookie and Flask-Login's remember cookie read a static
    setting; this keeps a plain-HTTP laptop run working while a deployment behind
    TLS gets Secure cookies without extra configuration.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [
                (name, value + "; Secure")
                if name.lower() == "set-cookie" and "secure" not in value.lower()
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)


#: No inline script anywhere; inline ``style`` attributes only (the lookup timeline's
#: positions); pictures from here or ``data:`` (the lookup's own query thumbnail).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'",
    "style-src-attr 'unsafe-inline'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                          "interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def init_security_headers(app: Flask) -> None:
    """Every response: the headers above; over HTTPS (also behind the proxy with
    ``TAMGA_PROXY_FIX=1``) Strict-Transport-Security too."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return honest_retry_after(response)


def honest_retry_after(response: Response) -> Response:
    """Flask-Limiter truncates ``Retry-After`` (``0`` while still refusing, and a polite
    client then busy-loops): round the wait up from the window's reset, at least 1."""
    reset = response.headers.get("X-RateLimit-Reset")
    retry = response.headers.get("Retry-After")
    if response.status_code == 429 and reset and retry and retry.isdigit():
        wait = math.ceil(float(reset) - time.time()) + 1  # the reset time is whole seconds
        response.headers["Retry-After"] = str(max(1, int(retry), wait))
    return response


#: The largest id any table holds (PostgreSQL's bigint); larger path numbers find nothing.
MAX_ID = 2**63 - 1


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def init_input_guards(app: Flask) -> None:
    """Refuse what no database can store and no page can mean, before any view runs:
    NUL characters (PostgreSQL refuses them in text) in the path, the query string,
    form fields or a JSON body; and numbers in the path beyond any id."""
    from flask_babel import lazy_gettext as _l

    from registry.core.errors import BadInput

    @app.before_request
    def _refuse_unusable_input():
        form = request.form if request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data") else {}
        if (_has_nul(request.path) or _has_nul(request.args.to_dict(flat=False))
                or _has_nul(form and form.to_dict(flat=False))
                or (request.is_json and _has_nul(request.get_json(silent=True)))):
            raise BadInput(_l("The request contains a NUL character (\\0), which no field "
                              "may hold."))
        for value in (request.view_args or {}).values():
            if isinstance(value, int) and value > MAX_ID:
                abort(404)
