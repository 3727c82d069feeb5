"""Works as JSON: the public record, and what only the owner sees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from registry import kinds
from registry.extensions import db
from registry.http import public_url
from registry.i18n import stored_error_text
from registry.models.job import Job
from registry.models.user import User
from registry.models.work import Work, WorkMatch, WorkStatus
from registry.services.privacy import Viewer
from registry.services.provenance import ai_label_kind, provenance_record

#: What the public sees of a work still being processed (or whose job failed).
PUBLIC_PENDING = "pending"


def rfc3339(moment: datetime | None) -> str | None:
    """UTC with a ``Z``, to the second: ``2026-03-01T08:15:00Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def public_status(work: Work) -> str:
    if work.status in (WorkStatus.PROCESSING, WorkStatus.FAILED):
        return PUBLIC_PENDING
    return work.status.value


def created_response(work: Work) -> dict[str, Any]:
    return {
        "registration_number": work.registration_number,
        "registered_at": rfc3339(work.registered_at),
        "sha256": work.main_file.sha256,
        "status": work.status.value,
        "url": public_url(work.registration_number),
        "receipt": work.receipt.data if work.receipt is not None else None,
    }


def work_record(work: Work, viewer: User | None) -> dict[str, Any]:
    """The record ``GET /works/<number>`` returns to ``viewer`` (None: anonymous)."""
    who = Viewer.of(viewer)
    is_owner = who.owns(work)
    if not who.sees_record(work):
        return _private_record(work)
    record = _public_record(work)
    if is_owner:
        record["status"] = work.status.value
        record["visibility"] = work.visibility.value
        record["registrant_capacity"] = work.registrant_capacity.value
        record["rights_basis"] = work.rights_basis
        record["allow_thumbnail"] = work.allow_thumbnail
        record["publish_original"] = work.publish_original
        record["matches"] = [match_record(m) for m in work.matches]
        record["job"] = _job_record(work)
        record["receipt"] = work.receipt.data if work.receipt is not None else None
    return record


def _private_record(work: Work) -> dict[str, Any]:
    return {
        "registration_number": work.registration_number,
        "registered_at": rfc3339(work.registered_at),
        "status": public_status(work),
        "visibility": work.visibility.value,
        "sha256": work.main_file.sha256,
        "files": _files(work),
        "url": public_url(work.registration_number),
        "provenance": None,  # the owner keeps it private
    }


def _authors(work: Work) -> list[dict[str, Any]]:
    """The authors, each with the co-author's answer when one was asked."""
    from registry.services.coauthors import author_states

    states = author_states(work)
    out = []
    for a in work.authors:
        state = states.get(a.id)
        out.append({"full_name": a.full_name, "role": a.role, "share": float(a.share),
                    "confirmation": None if state is None else {
                        "status": state.status.value,
                        "at": rfc3339(state.responded_at) if state.responded_at else None,
                        "ledger_index": state.ledger_index}})
    return out


def _public_record(work: Work) -> dict[str, Any]:
    return {
        "registration_number": work.registration_number,
        "title": work.title,
        "original_title": work.original_title,
        "work_type": work.work_type.value,
        "description": work.description,
        "language": work.language,
        "country": work.country,
        "created_on": created_on(work),
        "published": work.published,
        "published_on": work.published_on.isoformat() if work.published_on else None,
        "publication_place": work.publication_place,
        "publication_url": work.publication_url,
        "media": _media(work),
        "registered_at": rfc3339(work.registered_at),
        "status": public_status(work),
        "authors": _authors(work),
        "ai_use": work.ai_use.value,
        "iptc_digital_source_type": work.ai_use.iptc_source_type,
        "ai_tools": work.ai_tools,
        "ai_parts": work.ai_parts,
        "human_contribution": work.human_contribution,
        "licence": work.licence,
        "ai_training_opt_out": work.ai_training_opt_out,
        "iscc": work.iscc,
        "sha256": work.main_file.sha256,
        "files": _files(work),
        "url": public_url(work.registration_number),
        "provenance": provenance_record(work.provenance),
        "ai_label": ai_label_kind(work),
    }


def created_on(work: Work) -> str | None:
    """As ``POST /works`` takes it: a date (``2025-11-02``) or only a year (``2025``)."""
    if work.creation_date is not None:
        return work.creation_date.isoformat()
    return str(work.creation_year) if work.creation_year else None


def _media(work: Work) -> dict[str, Any]:
    media: dict[str, Any] = {"kind": work.media_kind, "format": work.media_format}
    kind = kinds.get(work.media_kind)
    if kind is not None:
        media |= kind.media_fields(work)
    return media


def _files(work: Work) -> list[dict[str, Any]]:
    return [{"role": f.role, "sha256": f.sha256, "size": f.size} for f in work.files]


def match_record(match: WorkMatch) -> dict[str, Any]:
    other = match.other_work
    record: dict[str, Any] = {
        "registration_number": other.registration_number,
        "score": match.score,
        "registered_at": rfc3339(other.registered_at),
        "kind": match.kind,
        "conflict": match.is_conflict,
    }
    details = match.details or {}
    kind = kinds.get(match.kind)
    if kind is not None:
        record |= kind.stored_match_fields(details)
    return record


def _job_record(work: Work) -> dict[str, Any] | None:
    job = db.session.scalar(select(Job).where(Job.work_id == work.id).order_by(Job.id.desc()))
    if job is None:
        return None
    return {"status": job.status.value, "progress": job.progress, "stage": job.stage,
            "error_code": job.error_code,
            "error": stored_error_text(job.error) if job.error else job.error}
