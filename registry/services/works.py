"""Registering works, and what owners do with them afterwards."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.core.errors import Conflict, PermissionDenied, TamgaError
from registry.core.image import load_image
from registry.core.media import ReceivedFile, probe_audio, receive_upload, sniff
from registry.extensions import db
from registry.models.user import User
from registry.models.work import (
    Work,
    WorkAuthor,
    WorkFile,
    WorkStatus,
    WorkVersion,
)
from registry.services import jobs
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
