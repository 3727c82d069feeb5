"""Personal API tokens: created once in clear, kept only as a SHA-256.

A token is ``tmg_`` followed by 43 URL-safe characters (256 random bits). The
first characters are kept as ``prefix`` so that owners can tell tokens apart in
lists without the registry ever storing enough of one to use it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.core.errors import NotFound, ValidationFailed
from registry.extensions import db
from registry.models.token import ApiToken
from registry.models.user import User

TOKEN_PREFIX = "tmg_"
SHOWN_PREFIX_LENGTH = 12
#: ``last_used_at`` is written at most this often, so reads stay cheap.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class CreatedToken:
    """A new token row and its clear value, which exists only in this object."""

    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str) -> CreatedToken:
    """Create a token for ``user``; the caller commits and shows ``secret`` once."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Give the token a name."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(_l("The name is too long."), field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret),
                     prefix=secret[:SHOWN_PREFIX_LENGTH], created_at=datetime.now(UTC))
    db.session.add(token)
    db.session.flush()
    return CreatedToken(token, secret)


def list_tokens(user: User, *, include_revoked: bool = True) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(db.session.scalars(query.order_by(ApiToken.created_at.desc(),
                                                  ApiToken.id.desc())))


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens; someone else's token is simply not found."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_l("There is no such token."))
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
    return token


def find_live_token(secret: str) -> ApiToken | None:
    """The unrevoked token with this value, or None."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def mark_used(token: ApiToken, *, now: datetime | None = None) -> bool:
    """Record the use (at most once a minute); True when the caller has something to commit."""
    now = now or datetime.now(UTC)
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    token.last_used_at = now
    return True
