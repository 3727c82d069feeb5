"""`flask` commands: users (and, as the registry grows, index, ledger, keys ...)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.models.user import Role, User
from registry.services import accounts

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--password", help="Password (asked for when omitted).")
@click.option("--name", "display_name", help="Display name (defaults to the e-mail's name).")
@click.option("--admin", "role", flag_value=Role.ADMIN.value, help="Make an administrator.")
@click.option("--moderator", "role", flag_value=Role.MODERATOR.value, help="Make a moderator.")
def create_user(email: str, password: str | None, display_name: str | None, role: str | None):
    """Create a confirmed account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.register_account(
            email, password, display_name or email.split("@")[0], role=Role(role or "creator")
        )
        accounts.confirm_email_now(user)
    except TamgaError as exc:
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@users_cli.command("list")
def list_users():
    """List every account."""
    for user in db.session.scalars(select(User).order_by(User.id)):
        confirmed = "confirmed" if user.is_confirmed else "unconfirmed"
        click.echo(f"{user.id}\t{user.email}\t{user.role.value}\t{confirmed}\t{user.display_name}")


def init_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    from registry.commands import init_commands

    init_commands(app)
