"""Registering works, and what owners do with them afterwards."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from registry import kinds
from registry.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    TamgaError,
    UnsupportedMediaType,
    ValidationFailed,
)
from registry.core.media import ReceivedFile, receive_upload, sniff
from registry.extensions import db
from registry.models.job import Job, JobStatus
from registry.models.user import User
from registry.models.work import (
    Transfer,
    TransferStatus,
    Work,
    WorkAuthor,
    WorkFile,
    WorkStatus,
    WorkVersion,
)
from registry.services import audit, coauthors, jobs, ledger, provenance, receipts
from registry.services.mail import MailSender
from registry.services.numbering import next_registration_number
from registry.services.settings import RegistrySettings
from registry.services.upload import Upload
from registry.services.work_metadata import WorkMetadata, check_media_fits_type, validate_metadata

log = logging.getLogger(__name__)
PROCESS_REGISTRATION = "process_registration"


@dataclass
class _Received:
    upload: Upload
    file: ReceivedFile
    media_type: str
    ext: str
    kind: str = ""


def register_work(
    actor: User,
    upload: Upload,
    metadata: WorkMetadata,
    *,
    settings: RegistrySettings,
    supporting: list[Upload] | None = None,
    confirm_ai_declaration: bool = True,
) -> Work:
    """Store the files, give the work its number and time, sign its receipt (the promise
    to be in the ledger within ``settings.max_merge_seconds``) and queue fingerprinting.

    Nothing is left behind on error: the temporary files are removed and the
    caller's transaction rolls back, giving the registration number back. A file
    already moved into the (shared, content-addressed) store is left to the hourly
    storage sweep, which deletes it if no row refers to it by then.
    A file whose provenance contradicts the AI declaration is refused until the
    creator confirms (``confirm_ai_declaration``); confirmed, it is flagged for
    the moderators.
    """
    if not actor.is_confirmed:
        raise PermissionDenied(_l("Confirm your e-mail address before registering works."))
    validate_metadata(metadata)
    received: list[_Received] = []
    try:
        main = _receive_main(upload, metadata, settings)
        received.append(main)
        _refuse_own_duplicate(actor, main.file.sha256)
        report = provenance.inspect(main.file.path, main.media_type, settings)
        provenance.check_declaration(report, metadata.ai_use, confirmed=confirm_ai_declaration)
        for extra in supporting or []:
            received.append(_receive_supporting(extra, settings))
        work = _create_work(actor, metadata, main, settings)
        provenance.attach(work, report)
        for item, role in zip(received, ["main"] + ["supporting"] * len(received), strict=False):
            work.files.append(_store(item, role, settings))
        db.session.flush()
    except BaseException:
        for item in received:
            item.file.path.unlink(missing_ok=True)
        raise
    receipts.issue(work, actor, settings)  # the signed promise to merge by a deadline
    jobs.create_job(PROCESS_REGISTRATION, work_id=work.id)
    return work


def _receive_main(upload: Upload, metadata: WorkMetadata, settings: RegistrySettings) -> _Received:
    received = receive_upload(upload.stream, settings.upload_dir, settings.limits)
    try:
        detected = sniff(received.path)
        kind = kinds.for_detected(detected)
        if kind is None:
            raise UnsupportedMediaType.because("unsupported_type", {"kind": detected.format},
                                               detected=detected.format)
        check_media_fits_type(metadata.work_type, kind.name)
        kind.check_upload(received.path, settings.limits)
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    return _Received(upload, received, detected.mime, detected.format, kind.name)


def _receive_supporting(upload: Upload, settings: RegistrySettings) -> _Received:
    received = receive_upload(upload.stream, settings.upload_dir, settings.limits)
    ext = Path(upload.filename or "").suffix.lstrip(".").lower()[:8]
    try:
        mime = sniff(received.path).mime
    except TamgaError:
        mime = "application/octet-stream"  # drafts and session files may be anything
    return _Received(upload, received, mime, ext)


def _refuse_own_duplicate(actor: User, sha256: str) -> None:
    existing = db.session.scalar(
        select(Work).join(WorkFile).where(
            Work.owner_id == actor.id, WorkFile.sha256 == sha256, WorkFile.role == "main",
            Work.status != WorkStatus.WITHDRAWN,
        )
    )
    if existing is not None:
        raise Conflict(
            _l("You have already registered this file as %(number)s.",
               number=existing.registration_number),
            registration_number=existing.registration_number,
        )


def _create_work(actor: User, meta: WorkMetadata, main: _Received,
                 settings: RegistrySettings) -> Work:
    now = datetime.now(UTC)
    work = Work(
        registration_number=next_registration_number(db.session(), settings.number_prefix, now),
        registrant=actor, owner=actor, registered_at=now, updated_at=now,
        status=WorkStatus.PROCESSING, media_kind=main.kind, media_format=main.ext, version=1,
    )
    apply_metadata(work, meta)
    db.session.add(work)
    work.versions.append(WorkVersion(version=1, metadata_json=meta.as_record(),
                                     digest=meta.digest(), actor_id=actor.id, created_at=now))
    return work


def _store(item: _Received, role: str, settings: RegistrySettings) -> WorkFile:
    key = settings.store.put(item.file.path, item.file.sha256, item.ext)
    return WorkFile(
        role=role, original_name=(item.upload.filename or "upload")[:300],
        sha256=item.file.sha256, size=item.file.size, media_type=item.media_type,
        storage_key=key,
    )


def apply_metadata(work: Work, meta: WorkMetadata) -> None:
    for name in (
        "title", "original_title", "work_type", "description", "language", "country",
        "registrant_capacity", "rights_basis", "creation_date", "creation_year", "published",
        "published_on", "publication_place", "publication_url", "ai_use", "ai_tools",
        "ai_parts", "human_contribution", "licence", "ai_training_opt_out", "visibility",
        "allow_thumbnail", "publish_original",
    ):
        setattr(work, name, getattr(meta, name))
    work.authors = [
        WorkAuthor(position=i, full_name=a.full_name.strip(), role=a.role, share=a.share)
        for i, a in enumerate(meta.authors)
    ]


# Reading -----------------------------------------------------------------------

def find_work(number: str) -> Work:
    work = db.session.scalar(select(Work).where(Work.registration_number == number.strip()))
    if work is None:
        raise NotFound(_l("No work is registered under %(number)s.", number=number))
    return work


def get_owned_work(actor: User, number: str) -> Work:
    """The work if ``actor`` owns it (moderators may look at any); else 403."""
    work = find_work(number)
    if work.owner_id != actor.id and not actor.is_moderator:
        raise PermissionDenied(_l("This work belongs to another account."))
    return work


def owned_works_query(owner: User, *, q: str = "", status: str = ""):
    stmt = select(Work).where(Work.owner_id == owner.id)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Work.title).like(like),
                              func.lower(Work.registration_number).like(like)))
    if status in WorkStatus.__members__.values():
        stmt = stmt.where(Work.status == WorkStatus(status))
    return stmt.order_by(Work.registered_at.desc(), Work.id.desc())


def statuses_of(results: Iterable[Any]) -> dict[str, WorkStatus]:
    """The current status of each numbered result of a batch (read afresh: the jobs
    may have run since, in their own sessions)."""
    numbers = [r.registration_number for r in results if r.registration_number]
    db.session.expire_all()
    rows = db.session.execute(select(Work.registration_number, Work.status)
                              .where(Work.registration_number.in_(numbers)))
    return {number: status for number, status in rows}


def latest_job(work: Work) -> Job | None:
    return db.session.scalar(
        select(Job).where(Job.work_id == work.id).order_by(Job.id.desc()).limit(1))


def retry_processing(actor: User, work: Work) -> Job:
    _require_owner(actor, work)
    job = latest_job(work)
    if (work.status != WorkStatus.FAILED or job is None
            or job.status not in (JobStatus.FAILED, JobStatus.DEAD)):
        raise Conflict(_l("Only a registration whose processing failed can be retried."))
    work.status = WorkStatus.PROCESSING
    return jobs.retry_job(job)


def requeue_job(job_id: int, actor: User | None = None,
                where: audit.Where | None = None) -> Job:
    """A moderator queues a dead-letter (or failed) job again; its work waits again."""
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound(_l("No such job."))
    if job.status not in (JobStatus.FAILED, JobStatus.DEAD):
        raise Conflict(_l("Only a failed job can be queued again."))
    work = db.session.get(Work, job.work_id) if job.work_id else None
    if work is not None and work.status == WorkStatus.FAILED:
        work.status = WorkStatus.PROCESSING
    audit.record("job_requeued", actor=actor, where=where,
                 target=work.registration_number if work is not None else f"job {job_id}")
    return jobs.retry_job(job)


# Changing ------------------------------------------------------------------------

def _require_owner(actor: User, work: Work) -> None:
    if work.owner_id != actor.id:
        raise PermissionDenied(_l("Only the owner can change this registration."))


def _require_active(work: Work) -> None:
    if work.status in (WorkStatus.WITHDRAWN, WorkStatus.PROCESSING, WorkStatus.FAILED):
        raise Conflict(_l("This registration cannot be changed in its current state."))


def amend_work(actor: User, work: Work, metadata: WorkMetadata, *, note: str | None,
               settings: RegistrySettings) -> WorkVersion:
    """A new version of the metadata; number, time and hashes never change."""
    _require_owner(actor, work)
    _require_active(work)
    validate_metadata(metadata)
    now = datetime.now(UTC)
    apply_metadata(work, metadata)
    db.session.flush()
    coauthors.reconcile(work)  # a confirmation holds only for the role and share confirmed
    provenance.refresh_mismatch(work)
    work.version += 1
    work.updated_at = now
    version = WorkVersion(version=work.version, metadata_json=metadata.as_record(),
                          digest=metadata.digest(), actor_id=actor.id, created_at=now,
                          note=(note or None))
    work.versions.append(version)
    db.session.flush()
    ledger.record("work.amended", now, {
        "registration_number": work.registration_number, "version": work.version,
        "metadata_digest": version.digest,
        "account_commitment": ledger.account_commitment(actor, work.registration_number)},
        settings)
    provenance.change_reservation(actor, work, work.ai_training_opt_out, settings=settings)
    return version


def withdraw_work(actor: User, work: Work, reason: str, *, settings: RegistrySettings) -> None:
    _require_owner(actor, work)
    if work.status == WorkStatus.WITHDRAWN:
        raise Conflict(_l("This registration is already withdrawn."))
    now = datetime.now(UTC)
    work.status = WorkStatus.WITHDRAWN
    work.withdrawn_at = now
    work.withdrawal_reason = reason.strip()
    db.session.flush()
    ledger.record("work.withdrawn", now, {
        "registration_number": work.registration_number,
        "account_commitment": ledger.account_commitment(actor, work.registration_number)},
        settings)


def offer_transfer(actor: User, work: Work, recipient_email: str, *,
                   mailer: MailSender | None = None, link: str | None = None) -> Transfer:
    """Offer the work to an address. The owner gets the same answer whether or not the
    address has an account; a confirmed account holding it is e-mailed
    (``mailer``, ``link`` to its works page) and sees the offer among its works."""
    from registry.services import emails
    from registry.services.accounts import check_email, find_user_by_email, normalise_email

    _require_owner(actor, work)
    _require_active(work)
    email = normalise_email(recipient_email)
    check_email(email)
    if email == actor.email:
        raise ValidationFailed(_l("You already own this work."), field="email")
    recipient = find_user_by_email(email)
    if recipient is not None and not recipient.is_confirmed:
        recipient = None  # the offer waits for the address to be confirmed
    for pending in pending_transfers(work):
        pending.status = TransferStatus.CANCELLED
    transfer = Transfer(work=work, from_user_id=actor.id, to_email=email,
                        to_user_id=recipient.id if recipient is not None else None)
    db.session.add(transfer)
    db.session.flush()
    if recipient is not None and mailer is not None and link is not None:
        emails.send_transfer_offer(mailer, recipient, work.title, work.registration_number,
                                   link)
    return transfer


def pending_transfers(work: Work) -> list[Transfer]:
    return list(db.session.scalars(select(Transfer).where(
        Transfer.work_id == work.id, Transfer.status == TransferStatus.PENDING)))


def _offered_to(user: User):
    """Offers to this account, or to its address once the address is confirmed."""
    mine = Transfer.to_user_id == user.id
    if not user.is_confirmed:
        return mine
    return or_(mine, (Transfer.to_user_id.is_(None)) & (Transfer.to_email == user.email))


def incoming_transfers(user: User) -> list[Transfer]:
    return list(db.session.scalars(select(Transfer).where(
        _offered_to(user), Transfer.status == TransferStatus.PENDING
    ).order_by(Transfer.created_at)))


def answer_transfer(actor: User, transfer_id: int, accept: bool, *,
                    settings: RegistrySettings) -> Transfer:
    transfer = db.session.scalar(select(Transfer).where(
        Transfer.id == transfer_id, _offered_to(actor)))
    if transfer is None:
        raise NotFound(_l("There is no such transfer offer for you."))
    transfer.to_user_id = actor.id
    if transfer.status != TransferStatus.PENDING:
        raise Conflict(_l("This transfer offer is no longer open."))
    now = datetime.now(UTC)
    transfer.decided_at = now
    transfer.status = TransferStatus.ACCEPTED if accept else TransferStatus.DECLINED
    if accept:
        work = transfer.work
        work.owner_id = actor.id
        work.updated_at = now
        db.session.flush()
        ledger.record("work.transferred", now, {
            "registration_number": work.registration_number,
            "from_account_commitment": ledger.account_commitment(
                transfer.from_user, work.registration_number),
            "to_account_commitment": ledger.account_commitment(actor, work.registration_number)},
            settings)
    db.session.flush()
    return transfer
