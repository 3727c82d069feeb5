"""Co-authors confirm: the registrant names a co-author by e-mail, the
co-author confirms or declines their role and share, and the answer is a ledger entry.

The invitation goes to the account with that e-mail (a notification and an e-mail in
the account's language) or, when there is none yet, as an e-mail in the registrant's
language asking the co-author to sign up with that address. Only a confirmed account
with the invited e-mail can answer. Services flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from registry.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from registry.extensions import db
from registry.models.coauthor import CoAuthorInvitation, InvitationStatus
from registry.models.user import User
from registry.models.work import Work, WorkAuthor, WorkStatus
from registry.services import ledger, notifications
from registry.services.accounts import check_email, find_user_by_email, normalise_email
from registry.services.mail import MailSender
from registry.services.settings import RegistrySettings

LIVE = (InvitationStatus.PENDING, InvitationStatus.CONFIRMED)
NOTE_MAX = 2000


@dataclass(frozen=True)
class Context:
    settings: RegistrySettings
    mailer: MailSender | None
    now: datetime
    locale: str = "kk"  # the inviter's language, for an invitee without an account


def invitation_path(invitation: CoAuthorInvitation) -> str:
    return f"/coauthors/{invitation.id}"


def share_text(share: Decimal) -> str:
    return format(Decimal(share).normalize(), "f")


def _key(author: WorkAuthor | CoAuthorInvitation) -> tuple[int, str, str, Decimal]:
    return (author.position, author.full_name.strip(), author.role,
            Decimal(author.share).quantize(Decimal("0.01")))


# --------------------------------------------------------------------------- inviting


def invite(actor: User, work: Work, position: int, email: str,
           ctx: Context) -> CoAuthorInvitation:
    """Ask the author at ``position`` of ``work`` (by ``email``) to confirm."""
    if work.owner_id != actor.id:
        raise PermissionDenied(_l("Only the owner can invite co-authors."))
    if work.status in (WorkStatus.WITHDRAWN, WorkStatus.FAILED):
        raise Conflict(_l("This registration cannot be changed in its current state."))
    author = next((a for a in work.authors if a.position == position), None)
    if author is None:
        raise ValidationFailed(_l("Choose one of the listed authors."), field="author")
    email = normalise_email(email or "")
    check_email(email)
    if email == normalise_email(actor.email):
        raise ValidationFailed(_l("You registered this work; only other authors are asked "
                                  "to confirm."), field="email")
    for old in invitations_of(work, live_only=True):
        if old.position != position:
            continue
        if old.status == InvitationStatus.CONFIRMED and _key(old) == _key(author):
            raise Conflict(_l("This author has already confirmed."))
        if old.email == email and old.is_pending and _key(old) == _key(author):
            raise Conflict(_l("This author is already invited with this e-mail."))
        old.status = InvitationStatus.WITHDRAWN
    invitee = find_user_by_email(email)
    invitation = CoAuthorInvitation(
        work=work, email=email, user_id=invitee.id if invitee else None,
        invited_by_id=actor.id, position=author.position, full_name=author.full_name,
        role=author.role, share=author.share, invited_at=ctx.now,
        locale=(invitee.locale if invitee and invitee.locale else ctx.locale))
    db.session.add(invitation)
    db.session.flush()
    _send_invitation(actor, invitation, invitee, ctx)
    return invitation


def invite_listed(actor: User, work: Work, emails: dict[int, str],
                  ctx: Context) -> list[CoAuthorInvitation]:
    """Invite every author given an e-mail (author position -> e-mail), e.g. at registration
    or amendment. The registrant's own e-mail, and an author already invited (or confirmed)
    with the same e-mail, are left as they are."""
    live = {(i.position, i.email) for i in invitations_of(work, live_only=True)
            if any(_key(i) == _key(a) for a in work.authors)}
    own = normalise_email(actor.email)
    sent = []
    for position, email in sorted(emails.items()):
        email = normalise_email(email or "")
        if email and email != own and (position, email) not in live:
            sent.append(invite(actor, work, position, email, ctx))
    return sent


def _send_invitation(actor: User, invitation: CoAuthorInvitation, invitee: User | None,
                     ctx: Context) -> None:
    work = invitation.work
    params = {"work": work.registration_number, "title": work.title,
              "inviter": actor.display_name, "share": share_text(invitation.share)}
    if invitee is not None:
        notifications.notify(invitee, "coauthor_invited", params, invitation_path(invitation),
                             mailer=ctx.mailer, base_url=ctx.settings.base_url, now=ctx.now)
        return
    if ctx.mailer is None:
        return
    with force_locale(invitation.locale or "kk"):
        subject = _("Tamga: please confirm your authorship of %(work)s", **params)
        body = _(
            "Hello,\n\n%(inviter)s registered “%(title)s” (%(work)s) in Tamga and named you, "
            "%(name)s, as one of its authors, with a share of %(share)s%%.\n\n"
            "To confirm or decline, sign in to Tamga with this e-mail address (or create an "
            "account with it) and open:\n%(link)s\n\nTamga",
            name=invitation.full_name, link=ctx.settings.base_url + invitation_path(invitation),
            **params)
    ctx.mailer.send(invitation.email, subject, body)


# --------------------------------------------------------------------------- answering


def get_invitation(actor: User, invitation_id: int) -> CoAuthorInvitation:
    """The invitation if it was sent to ``actor``'s e-mail; otherwise it does not exist."""
    invitation = db.session.get(CoAuthorInvitation, invitation_id)
    if invitation is None or not is_addressed_to(actor, invitation):
        raise NotFound(_l("There is no such invitation for you."))
    return invitation


def is_addressed_to(user: User, invitation: CoAuthorInvitation) -> bool:
    return normalise_email(user.email) == invitation.email


def respond(actor: User, invitation: CoAuthorInvitation, confirm: bool, note: str,
            ctx: Context) -> CoAuthorInvitation:
    """The co-author confirms or declines; the answer is recorded in the ledger."""
    if not is_addressed_to(actor, invitation):
        raise NotFound(_l("There is no such invitation for you."))
    if not actor.is_confirmed:
        raise PermissionDenied(_l("Confirm your e-mail address before answering."))
    if not invitation.is_pending:
        raise Conflict(_l("This invitation has already been answered or withdrawn."))
    work = invitation.work
    if work.status == WorkStatus.WITHDRAWN:
        raise Conflict(_l("This registration is withdrawn."))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(_l("The note may have at most %(max)d characters.", max=NOTE_MAX),
                               field="note")
    invitation.status = InvitationStatus.CONFIRMED if confirm else InvitationStatus.DECLINED
    invitation.user_id, invitation.responded_at = actor.id, ctx.now
    invitation.note = None if confirm else (note or None)
    db.session.flush()
    kind = "work.coauthor_confirmed" if confirm else "work.coauthor_declined"
    invitation.ledger_index = _record(kind, actor, invitation, ctx)
    owner_kind = "coauthor_confirmed" if confirm else "coauthor_declined"
    notifications.notify(work.owner, owner_kind,
                         {"work": work.registration_number, "name": invitation.full_name},
                         f"/works/{work.registration_number}", mailer=ctx.mailer,
                         base_url=ctx.settings.base_url, now=ctx.now)
    return invitation


def _record(kind: str, actor: User, invitation: CoAuthorInvitation, ctx: Context) -> int:
    """The ledger entry: the role and share answered (in basis points), the metadata
    version they belong to, and a commitment to the answering account (never its id)."""
    work = invitation.work
    number = work.registration_number
    entry = {
        "registration_number": number, "author_position": invitation.position,
        "role": invitation.role, "share_basis_points": int(Decimal(invitation.share) * 100),
        "metadata_version": work.version,
        "metadata_digest": work.versions[-1].digest if work.versions else None,
        "coauthor_commitment": ledger.account_commitment(actor, number),
    }
    if kind == "work.coauthor_confirmed":
        return ledger.record("work.coauthor_confirmed", ctx.now, entry, ctx.settings).leaf_index
    return ledger.record("work.coauthor_declined", ctx.now, entry, ctx.settings).leaf_index


# --------------------------------------------------------------------------- keeping up


def reconcile(work: Work) -> int:
    """After the authors changed, withdraw the live invitations whose author (position,
    name, role, share) is no longer listed: a confirmation holds only for what was
    confirmed. Returns how many were withdrawn."""
    current = {_key(a) for a in work.authors}
    withdrawn = 0
    for invitation in invitations_of(work, live_only=True):
        if _key(invitation) not in current:
            invitation.status = InvitationStatus.WITHDRAWN
            withdrawn += 1
    db.session.flush()
    return withdrawn


# --------------------------------------------------------------------------- reading


def invitations_of(work: Work, *, live_only: bool = False) -> list[CoAuthorInvitation]:
    stmt = select(CoAuthorInvitation).where(CoAuthorInvitation.work_id == work.id)
    if live_only:
        stmt = stmt.where(CoAuthorInvitation.status.in_(LIVE))
    return list(db.session.scalars(stmt.order_by(CoAuthorInvitation.id)))


def author_states(work: Work) -> dict[int, CoAuthorInvitation]:
    """Author id -> the invitation that speaks for that author now (confirmed, pending or
    declined), matched on position, name, role and share."""
    latest: dict[tuple, CoAuthorInvitation] = {}
    for invitation in invitations_of(work):
        if invitation.status != InvitationStatus.WITHDRAWN:
            latest[_key(invitation)] = invitation
    return {a.id: latest[_key(a)] for a in work.authors if _key(a) in latest}


def pending_for(user: User) -> list[CoAuthorInvitation]:
    return list(db.session.scalars(select(CoAuthorInvitation).where(
        func.lower(CoAuthorInvitation.email) == normalise_email(user.email),
        CoAuthorInvitation.status == InvitationStatus.PENDING,
    ).order_by(CoAuthorInvitation.invited_at)))


def answered_by(user: User) -> list[CoAuthorInvitation]:
    return list(db.session.scalars(select(CoAuthorInvitation).where(
        CoAuthorInvitation.user_id == user.id,
        CoAuthorInvitation.status.in_((InvitationStatus.CONFIRMED, InvitationStatus.DECLINED)),
    ).order_by(CoAuthorInvitation.responded_at.desc())))
