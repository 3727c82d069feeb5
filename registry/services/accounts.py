"""Accounts: sign-up, confirmation, login sessions, passwords, profile."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from registry.core.errors import Conflict, PermissionDenied, ValidationFailed
from registry.core.iin import parse_iin
from registry.extensions import db
from registry.models.user import MatchEmails, Role, User, UserSession
from registry.services import audit
from registry.services.mail import Delivery, MailSender

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


def revoke_api_tokens(user: User) -> int:
    """A new password ends every API token too: a leaked token dies with the old password."""
    from registry.services import tokens

    return tokens.revoke_all(user)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str) -> None:
    """The same rule as the sign-up and login forms (WTForms' ``Email``): an address
    ``flask users create`` accepts can log in."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed(_l("This is not a valid e-mail address."),
                               field="email") from None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


@cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, checked when an address has no account: a login
    for an unknown address costs the same scrypt as one for a real account."""
    return hash_password(secrets.token_urlsafe(32))


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_account(
    email: str, password: str, display_name: str, *, locale: str | None = None,
    role: Role = Role.CREATOR,
) -> User:
    email = normalise_email(email)
    check_email(email)
    check_password_policy(password, email=email, name=display_name)
    if find_user_by_email(email) is not None:
        raise Conflict(_l("An account with this e-mail already exists."), field="email")
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


def sign_up(
    email: str, password: str, display_name: str, *, locale: str | None, mailer: MailSender,
    confirm_link: Callable[[User], str], login_link: str, reset_link: str,
) -> Delivery:
    """The web sign-up: the same answer, the same work and one e-mail whether or not the
    address already has an account. A new account gets its
    confirmation link; the owner of an existing confirmed one is told that someone tried
    (with the login and reset links); an unconfirmed one gets a fresh confirmation link."""
    from registry.services import emails

    check_email(normalise_email(email))
    check_password_policy(password, email=normalise_email(email), name=display_name)
    existing = find_user_by_email(email)
    if existing is None:
        user = register_account(email, password, display_name, locale=locale)
        return emails.send_confirmation(mailer, user, confirm_link(user))
    hash_password(password)  # the scrypt a new account costs, so timing says nothing
    if not existing.is_confirmed:
        return emails.send_confirmation(mailer, existing, confirm_link(existing))
    return emails.send_signup_attempt(mailer, existing, login_link, reset_link)


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


def reset_password(token: str, new_password: str, secret_key: str, max_age: int, *,
                   where: audit.Where | None = None) -> User:
    data = _load_token(token, secret_key, RESET_SALT, max_age)
    user = db.session.get(User, data.get("uid"))
    if user is None or user.password_hash[-16:] != data.get("ph"):
        raise TokenInvalid(_l("This reset link has already been used or is not valid."))
    check_password_policy(new_password, email=user.email, name=user.display_name)
    user.password_hash = hash_password(new_password)
    revoke_api_tokens(user)
    # Reset proves control of the mailbox; anything else logged in may be an intruder.
    end_sessions(user)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = datetime.now(UTC)
    audit.record("password_reset", actor=user, where=where)
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

def authenticate(email: str, password: str, *, where: audit.Where | None = None) -> User:
    """The account behind a right e-mail and password. A wrong pair is recorded in the
    audit trail (the caller commits it) and costs the same time whether or not the
    address has an account."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        audit.record("login_failed", actor=None, target=normalise_email(email), where=where)
        raise AuthenticationFailed(_l("Wrong e-mail or password."))
    if not check_password_hash(user.password_hash, password):
        audit.record("login_failed", actor=user, where=where)
        raise AuthenticationFailed(_l("Wrong e-mail or password."))
    if not user.is_confirmed:
        raise PermissionDenied(
            _l("Please confirm your e-mail address first; we sent you a link.")
        )
    return user


def start_session(user: User, *, user_agent: str | None, ip_address: str | None) -> UserSession:
    """A new login session (after the password, and the second step when it is on)."""
    token = secrets.token_urlsafe(32)
    session = UserSession(
        user=user,
        token_hash=UserSession.hash_token(token),
        user_agent=(user_agent or "")[:300] or None,
        ip_address=ip_address,
    )
    session.token = token
    db.session.add(session)
    audit.record("login", actor=user, where=audit.Where(ip_address))
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
    return getattr(result, "rowcount", 0) or 0  # a CursorResult for DML


def change_password(user: User, current: str, new: str, *,
                    where: audit.Where | None = None) -> int:
    """A new password always ends every other login session of the account (and its API
    tokens): whoever knew the old one is out. Returns how many sessions ended."""
    if not check_password_hash(user.password_hash, current):
        raise AuthenticationFailed(_l("The current password is wrong."), field="current")
    check_password_policy(new, email=user.email, name=user.display_name)
    user.password_hash = hash_password(new)
    revoke_api_tokens(user)
    ended = end_sessions(user, keep=user.active_session)
    audit.record("password_changed", actor=user, where=where,
                 details=f"{ended} other sessions ended")
    db.session.flush()
    return ended


def change_role(user: User, role: Role, *, actor: User | None = None) -> None:
    """Make an account a creator, moderator or administrator (recorded). A new moderator
    or administrator must set up two-factor sign-in before anything else works."""
    if user.role == role:
        return
    before = user.role
    user.role = role
    audit.record("role_changed", actor=actor, target=user.email,
                 details=f"{before.value} -> {role.value}")
    db.session.flush()


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
    ai_training_opt_out_default: bool = True  # reserve AI training for new works
    match_emails: str = MatchEmails.IMMEDIATE.value
    public_profile: bool = False  # the opt-in page /creators/<id>


PROFILE_FIELDS = tuple(ProfileData.__dataclass_fields__)


def update_profile(user: User, data: ProfileData) -> User:
    if data.country and data.country not in COUNTRIES:
        raise ValidationFailed(_l("Unknown country."), field="country")
    if data.match_emails not in {m.value for m in MatchEmails}:
        raise ValidationFailed(_l("Unknown e-mail setting."), field="match_emails")
    if data.timezone and data.timezone not in available_timezones():
        raise ValidationFailed(_l("Unknown time zone."), field="timezone")
    iin = (data.iin or "").strip() or None
    if iin:
        parse_iin(iin)
    for field in PROFILE_FIELDS:
        value = getattr(data, field)
        if isinstance(value, bool):
            setattr(user, field, value)
            continue
        setattr(user, field, value.strip() if isinstance(value, str) and value.strip() else None)
    user.display_name = data.display_name.strip()
    user.match_emails = MatchEmails(data.match_emails)
    user.iin = iin
    if iin and not user.country:
        user.country = "KZ"  # an IIN is issued by Kazakhstan
    db.session.flush()
    return user


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.flush()


