"""Notifications: an in-app row for every event, and an e-mail in the recipient's language.

The row stores a ``kind`` and parameters, not text: the page writes the text in
the reader's current language, the e-mail in the language of their account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale, get_timezone
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from registry.core.dates import format_moment
from registry.extensions import db
from registry.models.notification import Notification
from registry.models.user import User
from registry.services.mail import MailSender


def _texts() -> dict[str, Callable[[dict], str]]:
    """One sentence per kind, written in the locale active when called."""
    return {
        "dispute_opened": lambda p: _(
            "Dispute %(number)s was opened about your registration %(work)s. You can answer "
            "with a statement and evidence until %(due)s.", **p),
        "dispute_opened_claimant": lambda p: _(
            "Your dispute %(number)s about %(work)s is open.", **p),
        "dispute_answered": lambda p: _(
            "The other side answered dispute %(number)s; a moderator will now decide.", **p),
        "dispute_evidence": lambda p: _(
            "New evidence was added to dispute %(number)s.", **p),
        "dispute_reminder": lambda p: _(
            "Reminder: the deadline to answer dispute %(number)s is %(due)s. After it, a "
            "moderator decides on the evidence at hand.", **p),
        "dispute_deadline": lambda p: _(
            "The deadline of dispute %(number)s has passed without an answer; a moderator "
            "will decide on the evidence at hand.", **p),
        "dispute_decided": lambda p: _(
            "Dispute %(number)s was decided: %(outcome)s.", **p),
        "later_match": lambda p: _(
            "A later registration, %(later)s, matches your work %(work)s (%(score)s%% "
            "similar). Compare the two and, if it copies your work, open a dispute.", **p),
        "coauthor_invited": lambda p: _(
            "%(inviter)s named you as an author of “%(title)s” (%(work)s), with a share of "
            "%(share)s%%. Please confirm or decline.", **p),
        "coauthor_confirmed": lambda p: _(
            "%(name)s confirmed being an author of %(work)s.", **p),
        "coauthor_declined": lambda p: _(
            "%(name)s declined being an author of %(work)s as listed.", **p),
    }


def link_labels() -> dict[str, str]:
    """The names of the extra links a notification may carry (``params["links"]``)."""
    return {"compare": _("Compare the two works"), "dispute": _("Open a dispute")}


def _outcome_label(code: str) -> str:
    from registry.services.disputes import OUTCOME_LABELS  # disputes import this module

    return str(OUTCOME_LABELS.get(code, code))


#: Parameters that hold a moment (RFC 3339); they are written for the reader.
DATE_PARAMS = ("due",)


def reader_zone(user: User | None = None) -> str:
    """The zone a person reads times in: theirs, else the registry's default."""
    if user is not None and user.timezone:
        return user.timezone
    if has_request_context():
        return str(get_timezone())
    return current_app.config.get("TAMGA_DEFAULT_TIMEZONE", "Asia/Almaty")


def message(note: Notification, zone: str | None = None) -> str:
    """The notification's sentence in the current locale (dates in ``zone``)."""
    params = dict(note.params)
    if "outcome" in params:
        params["outcome"] = _outcome_label(params["outcome"])
    for key in DATE_PARAMS:
        if params.get(key):
            params[key] = format_moment(params[key], str(get_locale()), zone or reader_zone(),
                                        "long")
    text = _texts().get(note.kind)
    return text(params) if text else note.kind


def notify(user: User, kind: str, params: dict, link: str | None, *, mailer: MailSender | None,
           base_url: str = "", now: datetime | None = None) -> Notification:
    """Add the in-app notification and send the e-mail (outbox when no SMTP)."""
    note = Notification(user_id=user.id, kind=kind, params=params, link=link)
    if now is not None:
        note.created_at = now
    db.session.add(note)
    if mailer is not None:
        with force_locale(user.locale or "kk"):
            zone = reader_zone(user)
            body = message(note, zone)
            subject = _("Tamga: %(text)s", text=body if len(body) < 70 else body[:67] + "…")
            text = _("Hello %(name)s,\n\n%(body)s\n\n%(link)s\n\nTamga",
                     name=user.display_name, body=mail_lines(note, base_url, zone),
                     link="" if note.params.get("links") else f"{base_url}{link or ''}")
        mailer.send(user.email, subject, text)
    return note


def mail_lines(note: Notification, base_url: str, zone: str) -> str:
    """The sentence and, one per line, the named links (comparison, open a dispute)."""
    lines = [message(note, zone)]
    labels = link_labels()
    for key, path in (note.params.get("links") or {}).items():
        lines.append(f"{labels.get(key, key)}: {base_url}{path}")
    return "\n".join(lines)


def for_user(user: User, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_all_read(user: User, now: datetime) -> int:
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=now))
    return getattr(result, "rowcount", 0) or 0  # a CursorResult for DML
