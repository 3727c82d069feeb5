"""Helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from registry.extensions import db
from registry.services import accounts


def user_by_email(email: str):
    """The account with this e-mail address, or a clean command-line error."""
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the e-mail address {email}.")
    return user


@contextmanager
def transaction() -> Iterator[None]:
    """One unit of a command's work: committed if it ends normally, else rolled back."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
