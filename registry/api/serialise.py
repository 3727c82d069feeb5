"""Works as JSON: the public record, and what only the owner sees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, url_for
from sqlalchemy import select
from werkzeug.routing import BuildError

from registry.extensions import db
from registry.models.job import Job
from registry.models.user import User
from registry.models.work import Work, WorkMatch, WorkStatus

#: What the public sees of a work still being processed (or whose job failed).
PUBLIC_PENDING = "pending"
SEGMENT_KEYS = ("query_start", "query_end", "work_start", "work_end")


def rfc3339(moment: datetime | None) -> str | None:
    """UTC with a ``Z``, to the second: ``2026-03-01T08:15:00Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def public_url(number: str) -> str:
    """The absolute address of the public work page."""
    try:
        return url_for("public.work", number=number, _external=True)
    except BuildError:  # the public pages are not registered in this app
        base = current_app.extensions["tamga.settings"].base_url
        return f"{base}/w/{number}"


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
    }


def work_record(work: Work, viewer: User | None) -> dict[str, Any]:
    """The record ``GET /works/<number>`` returns to ``viewer`` (None: anonymous)."""
    is_owner = viewer is not None and viewer.id == work.owner_id
    if not work.is_public and not is_owner:
        return _private_record(work)
    record = _public_record(work)
    if is_owner:
        record["status"] = work.status.value
        record["visibility"] = work.visibility.value
        record["matches"] = [match_record(m) for m in work.matches]
        record["job"] = _job_record(work)
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
    }


def _public_record(work: Work) -> dict[str, Any]:
    return {
        "registration_number": work.registration_number,
        "title": work.title,
        "original_title": work.original_title,
        "work_type": work.work_type.value,
        "media": _media(work),
        "registered_at": rfc3339(work.registered_at),
        "status": public_status(work),
        "authors": [{"full_name": a.full_name, "role": a.role, "share": float(a.share)}
                    for a in work.authors],
        "ai_use": work.ai_use.value,
        "iptc_digital_source_type": work.ai_use.iptc_source_type,
        "human_contribution": work.human_contribution,
        "licence": work.licence,
        "ai_training_opt_out": work.ai_training_opt_out,
        "iscc": work.iscc,
        "sha256": work.main_file.sha256,
        "files": _files(work),
        "url": public_url(work.registration_number),
    }


def _media(work: Work) -> dict[str, Any]:
    media: dict[str, Any] = {"kind": work.media_kind, "format": work.media_format}
    if work.media_kind == "audio":
        media["duration_s"] = work.duration_s
    else:
        media["width"], media["height"] = work.width, work.height
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
    if match.kind == "audio" and all(k in details for k in SEGMENT_KEYS):
        record["segment"] = {k: details[k] for k in SEGMENT_KEYS}
    return record


def _job_record(work: Work) -> dict[str, Any] | None:
    job = db.session.scalar(select(Job).where(Job.work_id == work.id).order_by(Job.id.desc()))
    if job is None:
        return None
    return {"status": job.status.value, "progress": job.progress, "stage": job.stage,
            "error_code": job.error_code, "error": job.error}
