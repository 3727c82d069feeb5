"""``flask tokens``: personal API tokens from the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from registry.commands.common import user_by_email
from registry.core.errors import TamgaError
from registry.extensions import db
from registry.models.token import ApiToken
from registry.models.user import User
from registry.services import tokens

tokens_cli = AppGroup("tokens", help="Manage personal API tokens.")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="command line", show_default=True,
              help="What the token is for.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(tokens.SCOPES),
              help="What it may do (repeatable; default: register, lookup and read).")
@click.option("--expires-days", type=click.IntRange(1, 3650),
              help="Days until it stops working (default: never).")
def create_token(email: str, name: str, scopes: tuple[str, ...],
                 expires_days: int | None) -> None:
    """Create a token for EMAIL and print it (it is shown only this once)."""
    user = user_by_email(email)
    expires = (datetime.now(UTC) + timedelta(days=expires_days)) if expires_days else None
    try:
        created = tokens.create_token(user, name, scopes=list(scopes) or None,
                                      expires_at=expires)
    except TamgaError as exc:
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"Token {created.token.id} “{created.token.name}” for {user.email} "
               "(shown only once; store it now):", err=True)
    click.echo(created.secret)


@tokens_cli.command("list")
@click.argument("email", required=False)
def list_tokens(email: str | None) -> None:
    """List tokens (of EMAIL, or of every account): id, account, name, prefix, use, state."""
    query = select(ApiToken, User.email).join(User, User.id == ApiToken.user_id)
    if email:
        query = query.where(ApiToken.user_id == user_by_email(email).id)
    for token, owner in db.session.execute(query.order_by(ApiToken.id)):
        used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        state = ("revoked " + token.revoked_at.isoformat(timespec="seconds")
                 if token.revoked_at else "active")
        click.echo(f"{token.id}\t{owner}\t{token.name}\t{token.prefix}…\t"
                   f"created {token.created_at.isoformat(timespec='seconds')}\t"
                   f"last used {used}\t{state}")


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke the token with this id (see ``flask tokens list``)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"There is no token {token_id}.")
    tokens.revoke_token(token.user, token_id)
    db.session.commit()
    click.echo(f"Revoked token {token_id} “{token.name}” of {token.user.email}.")
