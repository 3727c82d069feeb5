"""The e-mails Tamga sends, written in the recipient's language."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from registry.models.user import User
from registry.services.mail import Delivery, Mailer


def _send(mailer: Mailer, user: User, subject_and_body) -> Delivery:
    with force_locale(user.locale or "kk"):
        subject, body = subject_and_body()
    return mailer.send(user.email, subject, body)


def send_confirmation(mailer: Mailer, user: User, link: str) -> Delivery:
    return _send(mailer, user, lambda: (
        _("Confirm your Tamga account"),
        _(
            "Hello %(name)s,\n\nplease confirm your e-mail address by opening this link:\n"
            "%(link)s\n\nThe link is valid for 3 days. If you did not sign up for Tamga, "
            "ignore this message.\n\nTamga",
            name=user.display_name, link=link,
        ),
    ))


def send_password_reset(mailer: Mailer, user: User, link: str) -> Delivery:
    return _send(mailer, user, lambda: (
        _("Reset your Tamga password"),
        _(
            "Hello %(name)s,\n\nsomeone (hopefully you) asked to reset the password of your "
            "Tamga account. Open this link to choose a new password:\n%(link)s\n\n"
            "The link is valid for 2 hours and works once. If you did not ask for it, "
            "ignore this message; your password stays as it is.\n\nTamga",
            name=user.display_name, link=link,
        ),
    ))
