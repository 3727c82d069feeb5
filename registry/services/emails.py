"""The e-mails Tamga sends, written in the recipient's language."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from registry.models.user import User
from registry.services.mail import Delivery, MailSender


def _send(mailer: MailSender, user: User, subject_and_body) -> Delivery:
    with force_locale(user.locale or "kk"):
        subject, body = subject_and_body()
    return mailer.send(user.email, subject, body)


def send_confirmation(mailer: MailSender, user: User, link: str) -> Delivery:
    return _send(mailer, user, lambda: (
        _("Confirm your Tamga account"),
        _(
            "Hello %(name)s,\n\nplease confirm your e-mail address by opening this link:\n"
            "%(link)s\n\nThe link is valid for 3 days. If you did not sign up for Tamga, "
            "ignore this message.\n\nTamga",
            name=user.display_name, link=link,
        ),
    ))


def send_password_reset(mailer: MailSender, user: User, link: str) -> Delivery:
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


def send_signup_attempt(mailer: MailSender, user: User, login_link: str,
                        reset_link: str) -> Delivery:
    """Someone signed up with an address that already has an account: the page says the
    same as for a new address, and this message tells the real owner."""
    return _send(mailer, user, lambda: (
        _("Someone tried to sign up with your e-mail address"),
        _(
            "Hello %(name)s,\n\nsomeone (perhaps you) tried to create a Tamga account with "
            "this e-mail address, which already has one. No new account was made.\n\n"
            "To log in: %(login)s\nForgot your password? %(reset)s\n\n"
            "If it was not you, you need not do anything.\n\nTamga",
            name=user.display_name, login=login_link, reset=reset_link,
        ),
    ))


def send_transfer_offer(mailer: MailSender, user: User, work_title: str, number: str,
                        link: str) -> Delivery:
    """A work is offered to this account (the offering owner is told nothing about
    whether the address has one)."""
    return _send(mailer, user, lambda: (
        _("A work is offered to you on Tamga"),
        _(
            "Hello %(name)s,\n\nthe owner of the registration %(number)s (“%(title)s”) "
            "offers to transfer it to your account. It becomes yours only if you accept:\n"
            "%(link)s\n\nTamga",
            name=user.display_name, number=number, title=work_title, link=link,
        ),
    ))
