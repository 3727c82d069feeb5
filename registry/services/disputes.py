"""Disputes: open, answer, add evidence, deadlines, decide. Every step in the ledger.

Services flush and never commit; the caller commits once. ``now`` is always an
argument so deadlines can be tested without waiting. Ledger entries carry only
SHA-256 digests of the parties' statements and files, never their content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from registry.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from registry.extensions import db
from registry.models.dispute import (
    Dispute,
    DisputeEvent,
    DisputeEvidence,
    DisputeKind,
    DisputeStatus,
    Outcome,
    Party,
)
from registry.models.user import User
from registry.models.work import Work, WorkStatus
from registry.services import audit, ledger, notifications
from registry.services.evidence import compare_registrations, compare_upload
from registry.services.mail import MailSender
from registry.services.settings import RegistrySettings
from registry.services.upload import Upload

DEFAULT_RESPONSE_DAYS = 14
REMINDER_DAYS = 3
OPEN_STATUSES = (DisputeStatus.AWAITING_RESPONSE, DisputeStatus.UNDER_REVIEW)

OUTCOME_LABELS = {
    "upheld": _l("Claim upheld"), "rejected": _l("Claim rejected"),
    "settled": _l("Settled by agreement"), "referred_to_court": _l("Referred to court"),
}
DISPUTE_STATUS_LABELS = {
    "awaiting_response": _l("Awaiting the respondent's answer"),
    "under_review": _l("With a moderator for decision"), "decided": _l("Decided"),
}
KIND_LABELS = {
    "copies_registration": _l("This registration copies the claimant's work"),
    "external_copy": _l("A file outside Tamga copies a registered work"),
    "registration_conflict": _l("Conflict found at registration"),
    "authorship": _l("The authors listed in this registration are disputed"),
}
PARTY_LABELS = {
    "claimant": _l("Claimant"), "respondent": _l("Respondent"), "moderator": _l("Moderator"),
    "registry": _l("Registry"),
}
EVENT_LABELS = {
    "opened": _l("Dispute opened"), "answered": _l("The respondent answered"),
    "evidence_added": _l("Evidence added"), "reminder": _l("Reminder sent"),
    "deadline_passed": _l("Deadline passed without an answer"), "decided": _l("Decided"),
}


@dataclass
class Submission:
    """What a party hands in: a statement, links and files (all optional)."""

    statement: str = ""
    links: Sequence[str] = ()
    files: Sequence[Upload] = ()

    def is_empty(self) -> bool:
        return not (self.statement.strip() or any(self.links) or self.files)


@dataclass
class Opening:
    kind: DisputeKind
    submission: Submission = field(default_factory=Submission)
    claimant_work: Work | None = None
    disputed_file: Upload | None = None  # the copy out there, or the claimant's original
    keep_disputed_file: bool = False
    found_url: str | None = None
    found_platform: str | None = None
    found_on: str | None = None


@dataclass(frozen=True)
class Context:
    """What every step needs besides its data."""

    settings: RegistrySettings
    mailer: MailSender | None
    now: datetime
    response_days: int = DEFAULT_RESPONSE_DAYS


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _link(dispute: Dispute) -> str:
    return f"/disputes/{dispute.id}"


def _notify(ctx: Context, user: User | None, kind: str, dispute: Dispute, **params: Any) -> None:
    if user is None:
        return
    params = {"number": dispute.number, "work": dispute.work.registration_number, **params}
    notifications.notify(user, kind, params, _link(dispute), mailer=ctx.mailer,
                         base_url=ctx.settings.base_url, now=ctx.now)


def _event(dispute: Dispute, kind: str, party: Party, actor: User | None, ctx: Context,
           payload: dict[str, Any] | None = None) -> DisputeEvent:
    """A timeline step; with ``payload`` it is also the ledger entry ``dispute.<kind>``."""
    event = DisputeEvent(kind=kind, party=party, actor_id=actor.id if actor else None, at=ctx.now)
    dispute.events.append(event)
    if payload is not None:
        db.session.flush()
        entry = {"dispute": dispute.number, "party": party.value, **payload}
        event.ledger_index = ledger.record(f"dispute.{kind}", ctx.now, entry,
                                           ctx.settings).leaf_index
    return event


# --------------------------------------------------------------------------- opening


def open_dispute(actor: User, work: Work, opening: Opening, ctx: Context) -> Dispute:
    """Open a dispute about ``work`` (a registration here) and notify the respondent."""
    _check_opening(actor, work, opening)
    if opening.kind == DisputeKind.AUTHORSHIP:  # about who made it, not about a copy
        opening.claimant_work, opening.disputed_file = None, None
    dispute = Dispute(kind=opening.kind, claimant_id=actor.id, opened_by_id=actor.id, work=work,
                      claimant_work=opening.claimant_work, opened_at=ctx.now,
                      found_url=opening.found_url, found_platform=opening.found_platform,
                      found_on=opening.found_on)
    external = opening.kind == DisputeKind.EXTERNAL_COPY
    dispute.respondent_id = None if external else work.owner_id
    dispute.status = (DisputeStatus.UNDER_REVIEW if external
                      else DisputeStatus.AWAITING_RESPONSE)
    if not external:
        dispute.response_due_at = ctx.now + timedelta(days=ctx.response_days)
    db.session.add(dispute)
    db.session.flush()
    dispute.number = f"D-{ctx.now.year}-{dispute.id:06d}"
    dispute.comparison = _comparison(dispute, opening, actor, ctx)
    items = _store_submission(dispute, Party.CLAIMANT, actor, opening.submission, ctx)
    _event(dispute, "opened", Party.CLAIMANT, actor, ctx, _opened_entry(dispute, items))
    _notify(ctx, dispute.respondent, "dispute_opened", dispute, due=_due_text(dispute))
    _notify(ctx, actor, "dispute_opened_claimant", dispute)
    return dispute


def _check_opening(actor: User, work: Work, opening: Opening) -> None:
    check_links(opening.submission.links)
    if opening.found_url:
        check_links([opening.found_url], "found_url")
    if work.status not in (WorkStatus.REGISTERED, WorkStatus.CONFLICT):
        raise Conflict(_l("Only registered works can be disputed."))
    if opening.kind == DisputeKind.AUTHORSHIP:
        return _check_authorship(actor, work, opening)
    if opening.kind == DisputeKind.EXTERNAL_COPY:
        if work.owner_id != actor.id:
            raise PermissionDenied(_l("Only the owner of a registered work can claim that a "
                                      "file elsewhere copies it."))
        if opening.disputed_file is None:
            raise ValidationFailed(_l("Upload the disputed file (or a clip or picture of it)."),
                                   field="disputed_file")
        return
    if work.owner_id == actor.id:
        raise ValidationFailed(_l("You cannot open a dispute against your own registration."))
    mine = opening.claimant_work
    if mine is not None and mine.owner_id != actor.id:
        raise PermissionDenied(_l("You can only point to your own registration."),
                               field="claimant_work")
    if mine is not None and not is_earlier(mine, work):
        raise ValidationFailed(_l(
            "Your registration %(mine)s is later than %(work)s, so it cannot show that you "
            "had the work first. Choose an earlier registration, or give other evidence.",
            mine=mine.registration_number, work=work.registration_number),
            field="claimant_work")
    if mine is None and opening.disputed_file is None and opening.submission.is_empty():
        raise ValidationFailed(_l("Point to your earlier registration, or give your evidence."),
                               field="statement")
    if _open_between(work, actor):
        raise Conflict(_l("You already have an open dispute about this registration."))


def _check_authorship(actor: User, work: Work, opening: Opening) -> None:
    """A named co-author contesting their role or share, or someone left out of the
    authors: the owner answers, a moderator decides. A statement is required."""
    if work.owner_id == actor.id:
        raise ValidationFailed(_l("You own this registration: change its authors by "
                                  "amending it."))
    if not opening.submission.statement.strip():
        raise ValidationFailed(_l("Say what your part in the work was and what is wrong in "
                                  "the listed authors."), field="statement")
    if _open_between(work, actor):
        raise Conflict(_l("You already have an open dispute about this registration."))


def is_earlier(mine: Work, other: Work) -> bool:
    """Whether ``mine`` was registered before ``other`` (the number breaks a tie)."""
    return (mine.registered_at, mine.id) < (other.registered_at, other.id)


def _own_same_media(actor: User, work: Work) -> list[Work]:
    return list(db.session.scalars(select(Work).where(
        Work.owner_id == actor.id, Work.id != work.id, Work.media_kind == work.media_kind,
        Work.status.in_((WorkStatus.REGISTERED, WorkStatus.CONFLICT)),
    ).order_by(Work.registered_at.desc(), Work.id.desc())))


def earlier_registrations(actor: User, work: Work) -> list[Work]:
    """The claimant's own registrations that can show they had the work first."""
    return [w for w in _own_same_media(actor, work) if is_earlier(w, work)]


def later_registrations_count(actor: User, work: Work) -> int:
    """How many of the claimant's registrations are later (left out of the list)."""
    return sum(1 for w in _own_same_media(actor, work) if not is_earlier(w, work))


def _open_between(work: Work, claimant: User) -> Dispute | None:
    return db.session.scalar(select(Dispute).where(
        Dispute.work_id == work.id, Dispute.claimant_id == claimant.id,
        Dispute.status.in_(OPEN_STATUSES)))


def _comparison(dispute: Dispute, opening: Opening, actor: User, ctx: Context) -> dict[str, Any]:
    if opening.disputed_file is not None:
        kept = compare_upload(opening.disputed_file.stream, dispute.work, ctx.settings,
                              keep=opening.keep_disputed_file)
        if kept.stored is not None:
            name = (opening.disputed_file.filename or "disputed-file")[:300]
            dispute.evidence.append(DisputeEvidence(
                party=Party.CLAIMANT, submitted_by_id=actor.id, kind="file",
                original_name=name, sha256=kept.stored.sha256, size=kept.stored.size,
                media_type=kept.stored.media_type, storage_key=kept.stored.storage_key,
                is_disputed_file=True, created_at=ctx.now))
        return kept.comparison
    if opening.claimant_work is not None:
        return compare_registrations(opening.claimant_work, dispute.work, ctx.settings)
    return {}


def _opened_entry(dispute: Dispute, items: list[DisputeEvidence]) -> dict[str, Any]:
    cmp = dispute.comparison or {}
    works = [w.registration_number for w in (dispute.claimant_work, dispute.work) if w]
    entry: dict[str, Any] = {
        "dispute_kind": dispute.kind.value, "works": works,
        "evidence": _evidence_digests(items), "similarity": cmp.get("similarity"),
    }
    if cmp.get("query", {}).get("sha256"):
        entry["disputed_file_sha256"] = cmp["query"]["sha256"]
    if dispute.response_due_at is not None:
        entry["response_due"] = ledger.rfc3339(dispute.response_due_at)
    if dispute.kind == DisputeKind.AUTHORSHIP:
        entry["authorship_claim"] = _authorship_claim(dispute)
    return entry


def _authorship_claim(dispute: Dispute) -> str:
    """"named" when the claimant was invited as a co-author of the work, else "left_out"."""
    from registry.models.coauthor import CoAuthorInvitation

    invited = db.session.scalar(select(CoAuthorInvitation.id).where(
        CoAuthorInvitation.work_id == dispute.work_id,
        CoAuthorInvitation.email == dispute.claimant.email.strip().lower()).limit(1))
    return "named" if invited is not None else "left_out"


def _due_text(dispute: Dispute) -> str:
    """The deadline as RFC 3339; the reader's page or e-mail formats it in their zone."""
    due = dispute.response_due_at
    return ledger.rfc3339(due) if due else ""


# --------------------------------------------------------------------------- evidence


def is_web_link(url: str | None) -> bool:
    """An absolute http(s) address with a host, and nothing a browser would run
    (``javascript:``, ``data:``, ``vbscript:``...) or mangle (spaces, control characters)."""
    if not url or any(ord(c) < 33 or c == "\x7f" for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def check_links(links: Sequence[str], field_name: str = "links") -> None:
    for url in links:
        if url and url.strip() and not is_web_link(url.strip()):
            raise ValidationFailed(_l("Only web addresses starting with http:// or https:// "
                                      "are accepted as links."), field=field_name)


def _store_submission(dispute: Dispute, party: Party, actor: User, sub: Submission,
                      ctx: Context) -> list[DisputeEvidence]:
    check_links(sub.links)
    items: list[DisputeEvidence] = []
    if sub.statement.strip():
        text = sub.statement.strip()
        items.append(DisputeEvidence(kind="statement", text=text, sha256=_digest(text),
                                     size=len(text.encode())))
    for url in (u.strip() for u in sub.links if u and u.strip()):
        items.append(DisputeEvidence(kind="link", url=url[:1000], sha256=_digest(url),
                                     size=len(url.encode())))
    items += [_store_file(f, ctx.settings) for f in sub.files]
    for item in items:
        item.party, item.submitted_by_id, item.created_at = party, actor.id, ctx.now
        dispute.evidence.append(item)
    return items


def _store_file(upload: Upload, settings: RegistrySettings) -> DisputeEvidence:
    from registry.core.media import receive_upload

    received = receive_upload(upload.stream, settings.upload_dir, settings.limits)
    name = (upload.filename or "evidence")[:300]
    key = settings.store.put(received.path, received.sha256, Path(name).suffix)
    return DisputeEvidence(kind="file", original_name=name, sha256=received.sha256,
                           size=received.size, storage_key=key,
                           media_type="application/octet-stream")


def _evidence_digests(items: Sequence[DisputeEvidence]) -> list[dict[str, Any]]:
    return [{"kind": i.kind, "sha256": i.sha256, "size": i.size} for i in items]


def answer(actor: User, dispute: Dispute, sub: Submission, ctx: Context) -> None:
    """The respondent's answer: the case then goes to a moderator."""
    if dispute.party_of(actor) != Party.RESPONDENT:
        raise PermissionDenied(_l("Only the respondent can answer this dispute."))
    if dispute.status != DisputeStatus.AWAITING_RESPONSE:
        raise Conflict(_l("This dispute no longer awaits an answer."))
    if sub.is_empty():
        raise ValidationFailed(_l("Write a statement or give evidence."), field="statement")
    items = _store_submission(dispute, Party.RESPONDENT, actor, sub, ctx)
    dispute.status, dispute.answered_at = DisputeStatus.UNDER_REVIEW, ctx.now
    _event(dispute, "answered", Party.RESPONDENT, actor, ctx,
           {"evidence": _evidence_digests(items)})
    _notify(ctx, dispute.claimant, "dispute_answered", dispute)


def add_evidence(actor: User, dispute: Dispute, sub: Submission, ctx: Context) -> None:
    """Either party may add evidence while the dispute is open."""
    party = dispute.party_of(actor)
    if party is None:
        raise PermissionDenied(_l("Only the parties can add evidence."))
    if not dispute.is_open:
        raise Conflict(_l("This dispute is decided; no more evidence can be added."))
    if sub.is_empty():
        raise ValidationFailed(_l("Write a statement or give evidence."), field="statement")
    items = _store_submission(dispute, party, actor, sub, ctx)
    _event(dispute, "evidence_added", party, actor, ctx, {"evidence": _evidence_digests(items)})
    other = dispute.respondent if party == Party.CLAIMANT else dispute.claimant
    _notify(ctx, other, "dispute_evidence", dispute)


# --------------------------------------------------------------------------- deadlines


def tick(ctx: Context, reminder_days: int = REMINDER_DAYS) -> tuple[int, int]:
    """Send due reminders and apply passed deadlines; (reminders, deadlines) done."""
    waiting = db.session.scalars(select(Dispute).where(
        Dispute.status == DisputeStatus.AWAITING_RESPONSE).order_by(Dispute.id)).all()
    reminded = passed = 0
    for dispute in waiting:
        due = dispute.response_due_at
        if due is None:
            continue
        if ctx.now >= due:
            dispute.status = DisputeStatus.UNDER_REVIEW
            _event(dispute, "deadline_passed", Party.REGISTRY, None, ctx)
            for user in (dispute.claimant, dispute.respondent):
                _notify(ctx, user, "dispute_deadline", dispute)
            passed += 1
        elif dispute.reminded_at is None and ctx.now >= due - timedelta(days=reminder_days):
            dispute.reminded_at = ctx.now
            _event(dispute, "reminder", Party.REGISTRY, None, ctx)
            _notify(ctx, dispute.respondent, "dispute_reminder", dispute, due=_due_text(dispute))
            reminded += 1
    db.session.flush()
    return reminded, passed


# --------------------------------------------------------------------------- decision


def decide(actor: User, dispute: Dispute, outcome: Outcome, reason: str, ctx: Context) -> None:
    """A moderator's decision with public reasons; it closes the dispute."""
    if not actor.is_moderator:
        raise PermissionDenied(_l("Only moderators decide disputes."))
    if not dispute.is_open:
        raise Conflict(_l("This dispute is already decided."))
    if len(reason.strip()) < 10:
        raise ValidationFailed(_l("Write the reasons of the decision."), field="reason")
    dispute.status, dispute.outcome = DisputeStatus.DECIDED, outcome
    dispute.decision_reason, dispute.decided_at = reason.strip(), ctx.now
    dispute.decided_by_id = actor.id
    changes = _settle_registrations(dispute, outcome, ctx)
    _event(dispute, "decided", Party.MODERATOR, actor, ctx,
           {"outcome": outcome.value, "reason": dispute.decision_reason,
            "moderator_commitment": ledger.account_commitment(actor, dispute.number or ""),
            "registrations": changes})
    for user in (dispute.claimant, dispute.respondent):
        _notify(ctx, user, "dispute_decided", dispute, outcome=outcome.value)
    audit.record("dispute_decided", actor=actor, target=dispute.number,
                 details=outcome.value)


def _settle_registrations(dispute: Dispute, outcome: Outcome,
                          ctx: Context) -> list[dict[str, str]]:
    """The decision settles the questioned registration's status.

    Upheld: it copies the claimant's work, so the registry withdraws it (it stays in
    the register and the ledger, marked withdrawn by this decision). Rejected or
    settled: it is not a copy (or the parties agreed), so a conflict becomes
    registered. Referred to court: it stays a conflict, no longer under review here.
    A claim about a file outside Tamga changes no registration, nor does a dispute about
    authorship: the registration stays, the decision is public on its page, and the
    owner amends the authors accordingly.
    """
    work = dispute.work
    if dispute.kind in (DisputeKind.EXTERNAL_COPY, DisputeKind.AUTHORSHIP):
        return []
    before = work.status
    if outcome == Outcome.UPHELD and before in (WorkStatus.REGISTERED, WorkStatus.CONFLICT):
        work.status, work.withdrawn_at = WorkStatus.WITHDRAWN, ctx.now
        work.withdrawal_reason = f"{dispute.number}: {outcome.value}"
    elif outcome in (Outcome.REJECTED, Outcome.SETTLED) and before == WorkStatus.CONFLICT:
        work.status = WorkStatus.REGISTERED
    if work.status == before:
        return []
    return [{"registration_number": work.registration_number, "from": before.value,
             "to": work.status.value}]


def withdrawn_by(work: Work) -> Dispute | None:
    """The upheld dispute that withdrew ``work``, if that is how it was withdrawn."""
    if work.status != WorkStatus.WITHDRAWN:
        return None
    return db.session.scalar(select(Dispute).where(
        Dispute.work_id == work.id, Dispute.outcome == Outcome.UPHELD,
        Dispute.kind.not_in((DisputeKind.EXTERNAL_COPY, DisputeKind.AUTHORSHIP)),
    ).order_by(Dispute.decided_at.desc()))


def open_conflict_case(actor: User, work: Work, ctx: Context) -> Dispute:
    """A moderator turns a conflict found at registration into a dispute between the owners."""
    if not actor.is_moderator:
        raise PermissionDenied(_l("Only moderators open cases from the queue."))
    match = next((m for m in work.matches if m.is_conflict), None)
    if work.status != WorkStatus.CONFLICT or match is None:
        raise Conflict(_l("This registration is not in conflict."))
    existing = db.session.scalar(select(Dispute).where(
        Dispute.work_id == work.id, Dispute.kind == DisputeKind.REGISTRATION_CONFLICT))
    if existing is not None:
        return existing
    earlier = match.other_work
    dispute = Dispute(kind=DisputeKind.REGISTRATION_CONFLICT, claimant_id=earlier.owner_id,
                      respondent_id=work.owner_id, opened_by_id=actor.id, work=work,
                      claimant_work=earlier, opened_at=ctx.now,
                      response_due_at=ctx.now + timedelta(days=ctx.response_days))
    db.session.add(dispute)
    db.session.flush()
    dispute.number = f"D-{ctx.now.year}-{dispute.id:06d}"
    dispute.comparison = compare_registrations(earlier, work, ctx.settings)
    _event(dispute, "opened", Party.MODERATOR, actor, ctx, _opened_entry(dispute, []))
    _notify(ctx, dispute.respondent, "dispute_opened", dispute, due=_due_text(dispute))
    _notify(ctx, dispute.claimant, "dispute_opened_claimant", dispute)
    audit.record("conflict_case_opened", actor=actor, target=dispute.number,
                 details=work.registration_number)
    return dispute


# --------------------------------------------------------------------------- reading


def get_dispute(dispute_id: int) -> Dispute:
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or dispute.number is None:
        raise NotFound(_l("There is no such dispute."))
    return dispute


def can_see_private(user: User | None, dispute: Dispute) -> bool:
    """Parties and moderators see the comparison and evidence; others the public part."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_moderator or dispute.party_of(user) is not None


def visible_evidence(user: User, dispute: Dispute) -> list[DisputeEvidence]:
    """Moderators see everything; a party sees its own evidence in full."""
    if user.is_moderator:
        return list(dispute.evidence)
    party = dispute.party_of(user)
    return [e for e in dispute.evidence if e.party == party]


def disputes_of_work(work: Work) -> list[Dispute]:
    """Disputes in which ``work`` is the questioned or the claimant's registration."""
    return list(db.session.scalars(select(Dispute).where(
        or_(Dispute.work_id == work.id, Dispute.claimant_work_id == work.id),
        Dispute.number.is_not(None), Dispute.kind != DisputeKind.EXTERNAL_COPY,
    ).order_by(Dispute.opened_at.desc())))


def disputes_of_user(user: User) -> list[Dispute]:
    return list(db.session.scalars(select(Dispute).where(
        or_(Dispute.claimant_id == user.id, Dispute.respondent_id == user.id)
    ).order_by(Dispute.opened_at.desc())))


def queue() -> tuple[list[Work], list[Dispute]]:
    """Conflicts from registration without a case yet, and open disputes: oldest first."""
    # A conflict leaves the queue once any dispute about it exists: open ones are
    # listed below, decided ones have settled it.
    cased = select(Dispute.work_id).where(Dispute.kind.not_in((DisputeKind.EXTERNAL_COPY,
                                                               DisputeKind.AUTHORSHIP)),
                                          Dispute.number.is_not(None))
    conflicts = db.session.scalars(select(Work).where(
        Work.status == WorkStatus.CONFLICT, Work.id.not_in(cased)).order_by(Work.registered_at))
    open_ = db.session.scalars(select(Dispute).where(
        Dispute.status.in_(OPEN_STATUSES)).order_by(Dispute.opened_at, Dispute.id))
    return list(conflicts), list(open_)


def utc(moment: datetime | None = None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC)
