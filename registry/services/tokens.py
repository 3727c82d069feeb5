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
from registry.services import audit

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


#: What a token may do: register works, look up and search, read records and bundles.
SCOPES = ("register", "lookup", "read")


def parse_scopes(scopes: str | list[str] | tuple[str, ...] | None) -> str:
    """Scopes as stored (space-separated, known ones only); None means all of them."""
    if scopes is None:
        return " ".join(SCOPES)
    items = scopes.replace(",", " ").split() if isinstance(scopes, str) else list(scopes)
    unknown = [s for s in items if s not in SCOPES]
    if unknown or not items:
        raise ValidationFailed(_l("Scopes are register, lookup and read."), field="scopes")
    return " ".join(s for s in SCOPES if s in items)


def has_scope(token: ApiToken, scope: str) -> bool:
    return scope in (token.scopes or "").split()


def revoke_all(user: User, *, now: datetime | None = None) -> int:
    """Revoke every live token of ``user`` (a password change or reset); how many."""
    now = now or datetime.now(UTC)
    live = [t for t in list_tokens(user) if t.revoked_at is None]
    for token in live:
        token.revoked_at = now
    return len(live)


def create_token(user: User, name: str, *, scopes: str | list[str] | None = None,
                 expires_at: datetime | None = None,
                 where: audit.Where | None = None) -> CreatedToken:
    """Create a token for ``user``; the caller commits and shows ``secret`` once."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Give the token a name."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(_l("The name is too long."), field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret),
                     prefix=secret[:SHOWN_PREFIX_LENGTH], created_at=datetime.now(UTC),
                     scopes=parse_scopes(scopes), expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    audit.record("token_created", actor=user, target=f"token {token.id} {token.prefix}…",
                 details=f"{name} [{token.scopes}]", where=where)
    return CreatedToken(token, secret)


def list_tokens(user: User, *, include_revoked: bool = True) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(db.session.scalars(query.order_by(ApiToken.created_at.desc(),
                                                  ApiToken.id.desc())))


def revoke_token(user: User, token_id: int, *, where: audit.Where | None = None) -> ApiToken:
    """Revoke one of ``user``'s tokens; someone else's token is simply not found."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_l("There is no such token."))
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        audit.record("token_revoked", actor=user, target=f"token {token.id} {token.prefix}…",
                     details=token.name, where=where)
    return token


def find_live_token(secret: str) -> ApiToken | None:
    """The unrevoked token with this value, or None."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
        return None
    return token


def mark_used(token: ApiToken, *, now: datetime | None = None) -> bool:
    """Record the use (at most once a minute); True when the caller has something to commit."""
    now = now or datetime.now(UTC)
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    token.last_used_at = now
    return True
