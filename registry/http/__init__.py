"""What the website and the JSON API share about the request's app: its settings and
its absolute links. Both ``registry.web`` and ``registry.api`` build on this package;
neither imports the other."""

from __future__ import annotations

from flask import current_app, url_for
from werkzeug.routing import BuildError

from registry.services.settings import RegistrySettings


def registry_settings() -> RegistrySettings:
    return current_app.extensions["tamga.settings"]


def absolute_url(endpoint: str, **values) -> str:
    """A link for e-mails, PDFs and API answers: the configured base URL and the path,
    never the request's ``Host`` (or ``X-Forwarded-Host``) header."""
    return registry_settings().base_url + url_for(endpoint, **values, _external=False)


def public_url(number: str) -> str:
    """The absolute address of the public work page, from the configured base URL."""
    base = registry_settings().base_url
    try:
        return base + url_for("public.work", number=number, _external=False)
    except BuildError:  # the public pages are not registered in this app
        return f"{base}/w/{number}"
