"""Helpers shared by the commands."""

from __future__ import annotations

import click

from registry.services import accounts


def user_by_email(email: str):
    """The account with this e-mail address, or a clean command-line error."""
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the e-mail address {email}.")
    return user
