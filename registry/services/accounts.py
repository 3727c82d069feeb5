"""Accounts: sign-up, confirmation, login sessions, passwords, profile."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from registry.core.errors import Conflict, PermissionDenied, ValidationFailed
from registry.core.iin import parse_iin
from registry.extensions import db
from registry.models.user import Role, User, UserSession

# Pinned so that a Werkzeug upgrade never silently changes how new hashes are made.
PASSWORD_METHOD = "scrypt:32768:8:1"
MIN_PASSWORD_LENGTH = 10
COUNTRIES = ("KZ", "KG", "UZ", "TJ", "TM", "other")

CONFIRM_SALT = "tamga.confirm-email"
RESET_SALT = "tamga.reset-password"


class AuthenticationFailed(PermissionDenied):
    code = "authentication_failed"
    http_status = 401


class TokenInvalid(ValidationFailed):
    code = "token_invalid"
    http_status = 400


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("registry.data").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def check_password_policy(password: str, *, email: str = "", name: str = "") -> None:
    """Raise ValidationFailed when a password is too short or too guessable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password"
        )
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) <= 2:
        raise ValidationFailed(
            _l("This password is among the most common ones; choose another."),
            field="password",
        )
    local_part = email.split("@")[0].lower()
    if (local_part and lowered == local_part) or (name and lowered == name.lower()):
        raise ValidationFailed(
            _l("The password must not be your e-mail or name."), field="password"
        )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_account(
    email: str, password: str, display_name: str, *, locale: str | None = None,
    role: Role = Role.CREATOR,
) -> User:
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise Conflict(_l("An account with this e-mail already exists."), field="email")
    check_password_policy(password, email=email, name=display_name)
    user = User(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        locale=locale,
        role=role,
    )
    db.session.add(user)
    db.session.flush()
    return user


# Signed links -----------------------------------------------------------------

def _serializer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=salt)


def make_confirmation_token(user: User, secret_key: str) -> str:
    return _serializer(secret_key, CONFIRM_SALT).dumps({"uid": user.id, "email": user.email})


def confirm_email(token: str, secret_key: str, max_age: int) -> User:
    data = _load_token(token, secret_key, CONFIRM_SALT, max_age)
    user = db.session.get(User, data.get("uid"))
    if user is None or user.email != data.get("email"):
        raise TokenInvalid(_l("This confirmation link is not valid."))
    if user.email_confirmed_at is None:
        user.email_confirmed_at = datetime.now(UTC)
        db.session.flush()
    return user


def confirm_email_now(user: User) -> None:
    """Mark an address confirmed without a link (accounts made by an operator)."""
    user.email_confirmed_at = user.email_confirmed_at or datetime.now(UTC)
    db.session.flush()


def make_reset_token(user: User, secret_key: str) -> str:
    # The tail of the current hash makes the link single-use: it dies with the password.
    return _serializer(secret_key, RESET_SALT).dumps(
        {"uid": user.id, "ph": user.password_hash[-16:]}
    )


def reset_password(token: str, new_password: str, secret_key: str, max_age: int) -> User:
    data = _load_token(token, secret_key, RESET_SALT, max_age)
    user = db.session.get(User, data.get("uid"))
    if user is None or user.password_hash[-16:] != data.get("ph"):
        raise TokenInvalid(_l("This reset link has already been used or is not valid."))
    check_password_policy(new_password, email=user.email, name=user.display_name)
    user.password_hash = hash_password(new_password)
    # Reset proves control of the mailbox; anything else logged in may be an intruder.
    end_sessions(user)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = datetime.now(UTC)
    db.session.flush()
    return user


def _load_token(token: str, secret_key: str, salt: str, max_age: int) -> dict:
    try:
        data = _serializer(secret_key, salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenInvalid(_l("This link has expired; ask for a new one.")) from None
    except BadSignature:
        raise TokenInvalid(_l("This link is not valid.")) from None
    if not isinstance(data, dict):
        raise TokenInvalid(_l("This link is not valid."))
    return data


# Login sessions -----------------------------------------------------------------

def authenticate(email: str, password: str) -> User:
    user = find_user_by_email(email)
    if user is None or not check_password_hash(user.password_hash, password):
        raise AuthenticationFailed(_l("Wrong e-mail or password."))
    if not user.is_confirmed:
        raise PermissionDenied(
            _l("Please confirm your e-mail address first; we sent you a link.")
        )
    return user


def start_session(user: User, *, user_agent: str | None, ip_address: str | None) -> UserSession:
    token = secrets.token_urlsafe(32)
    session = UserSession(
        user=user,
        token_hash=UserSession.hash_token(token),
        user_agent=(user_agent or "")[:300] or None,
        ip_address=ip_address,
    )
    session.token = token
    db.session.add(session)
    db.session.flush()
    user.active_session = session
    return session


def load_session_user(token: str) -> User | None:
    """The user of a live login session, for Flask-Login's user loader."""
    session = db.session.scalar(
        select(UserSession).where(UserSession.token_hash == UserSession.hash_token(token))
    )
    if session is None or session.is_revoked:
        return None
    session.token = token
    session.user.active_session = session
    return session.user


def end_session(session: UserSession) -> None:
    if session.revoked_at is None:
        session.revoked_at = datetime.now(UTC)
        db.session.flush()


def end_sessions(user: User, *, keep: UserSession | None = None) -> int:
    """Revoke every live session of ``user`` except ``keep``; returns how many."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    result = db.session.execute(stmt.execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def change_password(
    user: User, current: str, new: str, *, end_other_sessions: bool
) -> int:
    if not check_password_hash(user.password_hash, current):
        raise AuthenticationFailed(_l("The current password is wrong."), field="current")
    check_password_policy(new, email=user.email, name=user.display_name)
    user.password_hash = hash_password(new)
    ended = end_sessions(user, keep=user.active_session) if end_other_sessions else 0
    db.session.flush()
    return ended


# Profile -------------------------------------------------------------------------

@dataclass
class ProfileData:
    display_name: str
    legal_name_cyrillic: str | None
    legal_name_latin: str | None
    country: str | None
    city: str | None
    phone: str | None
    iin: str | None
    locale: str | None
    timezone: str | None


PROFILE_FIELDS = tuple(ProfileData.__dataclass_fields__)


def update_profile(user: User, data: ProfileData) -> User:
    if data.country and data.country not in COUNTRIES:
        raise ValidationFailed(_l("Unknown country."), field="country")
    if data.timezone and data.timezone not in available_timezones():
        raise ValidationFailed(_l("Unknown time zone."), field="timezone")
    iin = (data.iin or "").strip() or None
    if iin:
        parse_iin(iin)
    for field in PROFILE_FIELDS:
        value = getattr(data, field)
        setattr(user, field, value.strip() if isinstance(value, str) and value.strip() else None)
    user.display_name = data.display_name.strip()
    user.iin = iin
    db.session.flush()
    return user


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.flush()


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
