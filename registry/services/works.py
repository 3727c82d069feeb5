"""Registering works, and what owners do with them afterwards."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from registry.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    TamgaError,
    ValidationFailed,
)
from registry.core.image import load_image
from registry.core.media import ReceivedFile, probe_audio, receive_upload, sniff
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
from registry.services import jobs, ledger
from registry.services.numbering import next_registration_number
from registry.services.settings import RegistrySettings
from registry.services.work_metadata import WorkMetadata, check_media_fits_type, validate_metadata

log = logging.getLogger(__name__)
PROCESS_REGISTRATION = "process_registration"


@dataclass
class Upload:
    stream: BinaryIO
    filename: str


@dataclass
class _Received:
    upload: Upload
    file: ReceivedFile
    media_type: str
    ext: str


def register_work(
    actor: User,
    upload: Upload,
    metadata: WorkMetadata,
    *,
    settings: RegistrySettings,
    supporting: list[Upload] | None = None,
) -> Work:
    """Store the files, give the work its number and time, and queue fingerprinting.

    Nothing is left behind on error: the temporary files are removed and the
    caller's transaction rolls back, giving the registration number back.
    """
    if not actor.is_confirmed:
        raise PermissionDenied(_l("Confirm your e-mail address before registering works."))
    validate_metadata(metadata)
    received: list[_Received] = []
    try:
        main = _receive_main(upload, metadata, settings)
        received.append(main)
        _refuse_own_duplicate(actor, main.file.sha256)
        for extra in supporting or []:
            received.append(_receive_supporting(extra, settings))
        work = _create_work(actor, metadata, main, settings)
        for item, role in zip(received, ["main"] + ["supporting"] * len(received), strict=False):
            work.files.append(_store(item, role, settings))
        db.session.flush()
    except BaseException:
        for item in received:
            item.file.path.unlink(missing_ok=True)
        raise
    jobs.create_job(PROCESS_REGISTRATION, work_id=work.id)
    return work


def _receive_main(upload: Upload, metadata: WorkMetadata, settings: RegistrySettings) -> _Received:
    received = receive_upload(upload.stream, settings.upload_dir, settings.limits)
    try:
        detected = sniff(received.path)
        check_media_fits_type(metadata.work_type, detected.kind)
        if detected.kind == "audio":
            probe_audio(received.path, settings.limits)
        else:
            load_image(received.path, max_pixels=settings.limits.max_pixels)
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    return _Received(upload, received, detected.mime, detected.format)


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
        registration_number=next_registration_number(db.session, settings.number_prefix, now),
        registrant=actor, owner=actor, registered_at=now, updated_at=now,
        status=WorkStatus.PROCESSING, media_kind=_kind(main), media_format=main.ext, version=1,
    )
    apply_metadata(work, meta)
    db.session.add(work)
    work.versions.append(WorkVersion(version=1, metadata_json=meta.as_record(),
                                     digest=meta.digest(), actor_id=actor.id, created_at=now))
    return work


def _kind(main: _Received) -> str:
    return "audio" if main.media_type.startswith("audio/") else "image"


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


def latest_job(work: Work) -> Job | None:
    return db.session.scalar(
        select(Job).where(Job.work_id == work.id).order_by(Job.id.desc()).limit(1))


def retry_processing(actor: User, work: Work) -> Job:
    _require_owner(actor, work)
    job = latest_job(work)
    if work.status != WorkStatus.FAILED or job is None or job.status != JobStatus.FAILED:
        raise Conflict(_l("Only a registration whose processing failed can be retried."))
    work.status = WorkStatus.PROCESSING
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
    work.version += 1
    work.updated_at = now
    version = WorkVersion(version=work.version, metadata_json=metadata.as_record(),
                          digest=metadata.digest(), actor_id=actor.id, created_at=now,
                          note=(note or None))
    work.versions.append(version)
    db.session.flush()
    ledger.record("work.amended", now, {
        "registration_number": work.registration_number, "version": work.version,
        "metadata_digest": version.digest, "account": actor.id}, settings)
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
        "registration_number": work.registration_number, "account": actor.id}, settings)


def offer_transfer(actor: User, work: Work, recipient_email: str) -> Transfer:
    from registry.services.accounts import find_user_by_email

    _require_owner(actor, work)
    _require_active(work)
    recipient = find_user_by_email(recipient_email)
    if recipient is None or not recipient.is_confirmed:
        raise ValidationFailed(_l("There is no confirmed account with this e-mail."),
                               field="email")
    if recipient.id == actor.id:
        raise ValidationFailed(_l("You already own this work."), field="email")
    for pending in pending_transfers(work):
        pending.status = TransferStatus.CANCELLED
    transfer = Transfer(work=work, from_user_id=actor.id, to_user_id=recipient.id)
    db.session.add(transfer)
    db.session.flush()
    return transfer


def pending_transfers(work: Work) -> list[Transfer]:
    return list(db.session.scalars(select(Transfer).where(
        Transfer.work_id == work.id, Transfer.status == TransferStatus.PENDING)))


def incoming_transfers(user: User) -> list[Transfer]:
    return list(db.session.scalars(select(Transfer).where(
        Transfer.to_user_id == user.id, Transfer.status == TransferStatus.PENDING
    ).order_by(Transfer.created_at)))


def answer_transfer(actor: User, transfer_id: int, accept: bool, *,
                    settings: RegistrySettings) -> Transfer:
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None or transfer.to_user_id != actor.id:
        raise NotFound(_l("There is no such transfer offer for you."))
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
            "from_account": transfer.from_user_id, "to_account": actor.id}, settings)
    db.session.flush()
    return transfer
