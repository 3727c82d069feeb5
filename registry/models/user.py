"""Accounts and their server-side login sessions."""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db
from registry.models.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    CREATOR = "creator"
    MODERATOR = "moderator"
    ADMIN = "admin"


class MatchEmails(enum.StrEnum):
    """How an owner hears about later registrations matching their works."""

    IMMEDIATE = "immediate"  # one e-mail per match, at once
    DAILY = "daily"  # one digest e-mail a day


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    legal_name_cyrillic: Mapped[str | None] = mapped_column(String(200))
    legal_name_latin: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(8))
    city: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    iin: Mapped[str | None] = mapped_column(String(12))
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=Role.CREATOR,
    )
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The default for new works: reserve AI training.
    ai_training_opt_out_default: Mapped[bool] = mapped_column(Boolean, default=True)
    # The account's own secret behind its commitments in public ledger entries
    # (registry.core.ledger.commitment); shown to the account holder only.
    ledger_secret: Mapped[str | None] = mapped_column(String(64))
    # Two-factor sign-in (RFC 6238 TOTP); recovery codes are kept as SHA-256 digests.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column()
    recovery_codes: Mapped[list[str] | None] = mapped_column(JSON)
    match_emails: Mapped[MatchEmails] = mapped_column(
        Enum(MatchEmails, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=MatchEmails.IMMEDIATE, server_default=MatchEmails.IMMEDIATE.value)
    #: Opt-in public page of this creator's public works at /creators/<id>.
    public_profile: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: When the account was deleted: its personal data is removed, the row stays so that
    #: the works and ledger entries it registered keep their (anonymous) registrant.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # The login session this request runs in; set by the user loader, never stored.
    active_session = None  # type: UserSession | None

    # Flask-Login protocol -------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        """The session token, not the user id: revoking the session row logs out
        every cookie that carries it, including a replayed one."""
        return self.active_session.token if self.active_session else None

    # Roles ------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(db.Model):
    """One login on one device. Only the SHA-256 of the token is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip_address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="sessions")

    # The clear token exists only in memory right after login and in the cookie.
    token = None  # type: str | None

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AuditEvent(db.Model):
    """A moderator's or administrator's action: who, what, when (admins can read them)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()
