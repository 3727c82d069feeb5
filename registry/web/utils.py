"""Small helpers shared by the views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from registry.core.errors import TamgaError
from registry.http import absolute_url, registry_settings  # noqa: F401 - the views' helpers
from registry.i18n import error_message
from registry.services.mail import Delivery, OutboxMailer


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


def mailer() -> OutboxMailer:
    """Mail is queued in the request's transaction and sent after it commits."""
    return current_app.extensions["tamga.outbox"]


def show_delivery(delivery: Delivery) -> None:
    """Tell a local user where an e-mail goes when no mail server is configured."""
    if delivery.outbox_path is not None:
        flash(
            _("No mail server is configured, so the message is saved in the folder "
              "%(path)s.", path=str(delivery.outbox_path)),
            "info",
        )


def show_mail_notice() -> None:
    """The notice :func:`show_delivery` gives, whether or not a message was queued: pages
    that must not tell whether an address has an account (password reset) use this."""
    outbox = mailer()
    if outbox.uses_outbox:
        show_delivery(Delivery("", outbox.delivery.settings.outbox_dir))


def apply_error(form: FlaskForm, exc: TamgaError, default_field: str | None = None) -> None:
    """Show a domain error next to its field when it names one, else as a message.

    Media errors name no field; ``default_field`` says where they belong (the upload).
    """
    field = exc.details.get("field") or default_field
    if isinstance(field, str) and field in form:
        form[field].errors = [*form[field].errors, error_message(exc)]
    else:
        flash(error_message(exc), "error")
