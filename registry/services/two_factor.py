"""Two-factor sign-in: TOTP enrolment, the login's second step, recovery codes.

Optional for creators, required for moderators and administrators (the web layer sends
them to the enrolment page before anything else works, the API refuses their tokens).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash

from registry.core import totp
from registry.core.errors import Conflict, PermissionDenied, ValidationFailed
from registry.extensions import db
from registry.models.user import User
from registry.services import audit

ISSUER = "Tamga"


class TwoFactorFailed(PermissionDenied):
    code = "two_factor_failed"
    http_status = 401


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def is_required(user: User) -> bool:
    """Moderators and administrators must use it."""
    return user.is_moderator


def needs_enrolment(user: User) -> bool:
    return is_required(user) and not is_enabled(user)


def begin_enrolment(user: User) -> str:
    """The pending secret (made once, kept until confirmed with a first code)."""
    if is_enabled(user):
        raise Conflict(_l("Two-factor sign-in is already on."))
    if not user.totp_secret:
        user.totp_secret = totp.new_secret()
        user.totp_last_step = None
        db.session.flush()
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    return totp.provisioning_uri(secret, user.email, ISSUER)


def _new_recovery_codes(user: User) -> list[str]:
    codes = totp.new_recovery_codes()
    user.recovery_codes = [totp.recovery_digest(c) for c in codes]
    return codes


def confirm_enrolment(user: User, code: str, *, now: float | None = None,
                      where: audit.Where | None = None) -> list[str]:
    """Turn it on once the app shows a right code; returns the recovery codes (clear,
    shown once)."""
    if is_enabled(user):
        raise Conflict(_l("Two-factor sign-in is already on."))
    if not user.totp_secret:
        raise ValidationFailed(_l("Start the set-up again."), field="code")
    step = totp.matching_step(user.totp_secret, code, time.time() if now is None else now)
    if step is None:
        raise ValidationFailed(
            _l("This code is not right. Check the phone's clock and type the current code."),
            field="code")
    user.totp_last_step = step
    user.totp_enabled_at = datetime.now(UTC)
    codes = _new_recovery_codes(user)
    audit.record("two_factor_enabled", actor=user, where=where)
    db.session.flush()
    return codes


def verify(user: User, code: str, *, now: float | None = None,
           where: audit.Where | None = None) -> str:
    """Check the second step: a current code (never one already used) or an unused
    recovery code. Returns ``"totp"`` or ``"recovery"``; a wrong code is recorded."""
    if not is_enabled(user):
        raise TwoFactorFailed(_l("Two-factor sign-in is not on for this account."))
    step = totp.matching_step(user.totp_secret or "", code,
                              time.time() if now is None else now,
                              last_step=user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        db.session.flush()
        return "totp"
    remaining = totp.use_recovery_code(list(user.recovery_codes or []), code)
    if remaining is not None:
        user.recovery_codes = remaining
        audit.record("recovery_code_used", actor=user, where=where,
                     details=f"{len(remaining)} left")
        db.session.flush()
        return "recovery"
    audit.record("two_factor_failed", actor=user, where=where)
    raise TwoFactorFailed(_l("This code is not right, or it was already used."), field="code")


def regenerate_recovery_codes(user: User, code: str, *, now: float | None = None,
                              where: audit.Where | None = None) -> list[str]:
    """New codes (the old ones die), after a current authenticator code."""
    if not is_enabled(user):
        raise Conflict(_l("Two-factor sign-in is not on."))
    step = totp.matching_step(user.totp_secret or "", code,
                              time.time() if now is None else now,
                              last_step=user.totp_last_step)
    if step is None:
        audit.record("two_factor_failed", actor=user, where=where)
        raise TwoFactorFailed(_l("This code is not right, or it was already used."),
                              field="code")
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    audit.record("recovery_codes_regenerated", actor=user, where=where)
    db.session.flush()
    return codes


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes = None


def disable(user: User, password: str, code: str, *, now: float | None = None,
            where: audit.Where | None = None) -> None:
    """Turn it off (creators only): needs the password and a current code."""
    if is_required(user):
        raise PermissionDenied(_l("Moderators and administrators cannot turn off "
                                  "two-factor sign-in."))
    if not check_password_hash(user.password_hash, password):
        raise PermissionDenied(_l("The current password is wrong."), field="password")
    verify(user, code, now=now, where=where)
    _clear(user)
    audit.record("two_factor_disabled", actor=user, where=where)
    db.session.flush()


def reset_by_operator(user: User) -> None:
    """``flask users reset-2fa``: a lost phone and lost codes; the account enrols again."""
    from registry.services.accounts import end_sessions

    _clear(user)
    end_sessions(user)
    audit.record("two_factor_reset", actor=None, target=user.email)
    db.session.flush()


def remaining_recovery_codes(user: User) -> int:
    return len(user.recovery_codes or [])
