"""The audit trail: security-relevant events (who, what, when, from where), written in
the same transaction as the action they describe and read by administrators."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from registry.extensions import db
from registry.models.user import AuditEvent, User

#: Every kind of event, with the label the administrators' page shows.
KINDS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "two_factor_failed": _l("Wrong two-factor code"),
    "two_factor_enabled": _l("Two-factor sign-in turned on"),
    "two_factor_disabled": _l("Two-factor sign-in turned off"),
    "two_factor_reset": _l("Two-factor sign-in reset by an operator"),
    "recovery_code_used": _l("Recovery code used"),
    "recovery_codes_regenerated": _l("New recovery codes made"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset by e-mail link"),
    "role_changed": _l("Role changed"),
    "token_created": _l("API token created"),
    "token_revoked": _l("API token revoked"),
    "dispute_decided": _l("Dispute decided"),
    "conflict_case_opened": _l("Conflict case opened"),
    "job_requeued": _l("Failed job queued again"),
    "ai_declaration_reviewed": _l("AI declaration reviewed"),
}


@dataclass(frozen=True)
class Where:
    """Where a request came from: kept with the event (None outside a request)."""

    ip_address: str | None = None


def record(kind: str, *, actor: User | None, target: str | None = None,
           details: str | None = None, where: Where | None = None) -> AuditEvent:
    """Add one event to the session (flushed; the caller's transaction commits it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit event kind {kind!r}")
    event = AuditEvent(action=kind, actor_id=actor.id if actor is not None else None,
                       target=(target or None) and target[:200], details=details,
                       ip_address=(where.ip_address if where else None))
    db.session.add(event)
    db.session.flush()
    return event


def events_query(*, account: str | None = None, kind: str | None = None) -> Select:
    """Newest first; ``account`` matches the actor's e-mail (or, for failed logins of
    unknown addresses, the address typed), ``kind`` one of :data:`KINDS`."""
    query = select(AuditEvent).outerjoin(User, AuditEvent.actor_id == User.id)
    if account:
        needle = account.strip().lower()
        query = query.where(or_(User.email == needle, AuditEvent.target == needle))
    if kind:
        query = query.where(AuditEvent.action == kind)
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
