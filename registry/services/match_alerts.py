"""Hear about every copy: the earlier registrant is told when a later registration matches.

Kind-neutral: it reads only the ``WorkMatch`` rows the registration job recorded
(exact file, audio, image or any later media kind), so it is called once, after
the matches are recorded, whatever the media. Every conflicting match (an earlier
work of another account, above the conflict threshold) gives the earlier work's
owner an in-app notification and an e-mail in their language, with links to the
comparison and to "open a dispute"; owners who chose a daily digest get one
e-mail a day instead (``send_digests``).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from registry.extensions import db
from registry.models.dispute import Dispute, DisputeKind
from registry.models.notification import Notification
from registry.models.user import MatchEmails, User
from registry.models.work import Work, WorkMatch
from registry.services import notifications
from registry.services.mail import MailSender

KIND = "later_match"


def comparison_path(earlier: Work, later: Work) -> str:
    return f"/works/{earlier.registration_number}/later/{later.registration_number}"


def dispute_path(later: Work) -> str:
    return f"/disputes/new/{later.registration_number}"


def alert_owners(work: Work, *, mailer: MailSender | None, base_url: str,
                 now: datetime) -> list[Notification]:
    """Tell the owner of every earlier work that ``work`` (just processed) matches it."""
    sent: list[Notification] = []
    for match in work.matches:
        if not match.is_conflict:
            continue
        earlier = match.other_work
        owner = earlier.owner
        digest = owner.match_emails == MatchEmails.DAILY
        params = {"work": earlier.registration_number, "later": work.registration_number,
                  "score": round(match.score * 100), "links": {
                      "compare": comparison_path(earlier, work),
                      "dispute": dispute_path(work)}}
        note = notifications.notify(owner, KIND, params, comparison_path(earlier, work),
                                    mailer=None if digest else mailer, base_url=base_url,
                                    now=now)
        note.mail_pending = digest
        sent.append(note)
    db.session.flush()
    return sent


def later_matches(work: Work) -> list[WorkMatch]:
    """Every later registration that matched ``work``, newest first."""
    return list(db.session.scalars(
        select(WorkMatch).where(WorkMatch.other_work_id == work.id)
        .order_by(WorkMatch.created_at.desc(), WorkMatch.id.desc())))


def find_later_match(earlier: Work, later: Work) -> WorkMatch | None:
    return db.session.scalar(select(WorkMatch).where(
        WorkMatch.work_id == later.id, WorkMatch.other_work_id == earlier.id))


def dispute_about(match: WorkMatch) -> Dispute | None:
    """The dispute (if any) about the later work of ``match`` involving the earlier one."""
    return db.session.scalar(select(Dispute).where(
        Dispute.work_id == match.work_id, Dispute.number.is_not(None),
        Dispute.kind.not_in((DisputeKind.EXTERNAL_COPY, DisputeKind.AUTHORSHIP)),
    ).order_by(Dispute.opened_at.desc()))


def send_digests(*, mailer: MailSender, base_url: str, now: datetime) -> int:
    """One e-mail per owner with every later match held back for the daily digest."""
    pending = db.session.scalars(select(Notification).where(
        Notification.mail_pending.is_(True)).order_by(Notification.user_id,
                                                      Notification.created_at)).all()
    by_user: dict[int, list[Notification]] = {}
    for note in pending:
        by_user.setdefault(note.user_id, []).append(note)
    for user_id, notes in by_user.items():
        user = db.session.get(User, user_id)
        if user is None:
            continue
        with force_locale(user.locale or "kk"):
            zone = notifications.reader_zone(user)
            items = "\n\n".join(notifications.mail_lines(n, base_url, zone) for n in notes)
            subject = _("Tamga: %(n)d later registrations match your works", n=len(notes))
            body = _("Hello %(name)s,\n\nsince the last digest:\n\n%(items)s\n\nTamga",
                     name=user.display_name, items=items)
        mailer.send(user.email, subject, body)
        for note in notes:
            note.mail_pending = False
    db.session.flush()
    return len(by_user)

