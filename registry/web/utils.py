"""Small helpers shared by the views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from registry.core.errors import TamgaError
from registry.services.mail import Delivery, Mailer
from registry.services.settings import RegistrySettings


def safe_next(target: str | None, default_endpoint: str = "main.home") -> str:
    """A local redirect target; anything pointing to another host is ignored."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith(("//", "/\\"))
        ):
            return target
    return url_for(default_endpoint)


def registry_settings() -> RegistrySettings:
    return current_app.extensions["tamga.settings"]


def mailer() -> Mailer:
    return current_app.extensions["tamga.mailer"]


def show_delivery(delivery: Delivery) -> None:
    """Tell a local user where an e-mail went when no mail server is configured."""
    if delivery.outbox_path is not None:
        flash(
            _("No mail server is configured, so the message was saved as %(path)s.",
              path=str(delivery.outbox_path)),
            "info",
        )


def apply_error(form: FlaskForm, exc: TamgaError, default_field: str | None = None) -> None:
    """Show a domain error next to its field when it names one, else as a message.

    Media errors name no field; ``default_field`` says where they belong (the upload).
    """
    field = exc.details.get("field") or default_field
    if isinstance(field, str) and field in form:
        form[field].errors = [*form[field].errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")
