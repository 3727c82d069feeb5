"""The registration job: fingerprint, ISCC, prior-match check, index, ledger.

Everything it writes (index rows, matches, status, the ledger entry) lands in
one commit together with the job's ``done``; a failure rolls it all back and
leaves the job failed with a reason, ready to retry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from registry.core import iscc
from registry.core.audio import AudioFingerprint, fingerprint_file
from registry.core.image import (
    ImageHashes,
    LoadedImage,
    hash_image,
    load_image,
    query_variants,
    thumbnail,
)
from registry.core.matching import audio_index, image_index
from registry.extensions import db
from registry.models.job import Job
from registry.models.work import Work, WorkFile, WorkMatch, WorkStatus
from registry.services import jobs, ledger
from registry.services.settings import RegistrySettings
from registry.services.works import PROCESS_REGISTRATION

#: Statuses of earlier works that can be in conflict with a new registration.
LIVE_STATUSES = (WorkStatus.REGISTERED, WorkStatus.CONFLICT)


@dataclass
class Computed:
    """What the expensive part of the job computes, with no database transaction open."""

    media: str
    digest: str
    content_code: str
    iscc: str
    audio: AudioFingerprint | None = None
    loaded: LoadedImage | None = None
    hashes: ImageHashes | None = None
    thumbnail: bytes | None = None


def process_registration(job: Job, settings: RegistrySettings) -> None:
    work = db.session.get(Work, job.work_id)
    work_id, media, path = work.id, work.media_kind, settings.store.path(work.main_file.storage_key)
    jobs.set_progress(job, 10, "fingerprint")
    db.session.commit()  # no transaction (and no SQLite write lock) while fingerprinting
    computed = _compute(media, path, settings)
    work = db.session.get(Work, work_id)
    jobs.set_progress(job, 80, "matching")
    found = _search_and_index(work, computed, settings)
    work.fingerprint_digest, work.iscc = computed.digest, computed.iscc
    _record_matches(work, found + _exact_matches(work))
    work.status = (WorkStatus.CONFLICT if any(m.is_conflict for m in work.matches)
                   else WorkStatus.REGISTERED)
    appended = ledger.record("work.registered", work.registered_at,
                             registration_entry(work), settings)
    work.ledger_index = appended.leaf_index
    db.session.flush()


def _compute(media: str, path: Path, settings: RegistrySettings) -> Computed:
    if media == "audio":
        fp = fingerprint_file(path, settings.limits)
        code = iscc.audio_content_code(fp.items)
        return Computed(media, fp.digest(), code, iscc.iscc_code(code, path), audio=fp)
    loaded = load_image(path, max_pixels=settings.limits.max_pixels)
    hashes = hash_image(loaded)
    code = iscc.image_content_code(loaded.image)
    return Computed(media, hashes.digest(), code, iscc.iscc_code(code, path), loaded=loaded,
                    hashes=hashes, thumbnail=thumbnail(loaded))


def _search_and_index(work: Work, c: Computed, settings: RegistrySettings) -> list[dict]:
    """Look for earlier works, then add this one to the index (so it never finds itself)."""
    conn = db.session.connection()
    if c.audio is not None:
        work.duration_s = c.audio.duration_s
        found = audio_index.search(conn, [c.audio])
        audio_index.add_recording(conn, work.id, c.audio)
        return [
            {"other_work_id": m.work_id, "kind": "audio", "score": m.score, "details": {
                "query_start": m.query_start, "query_end": m.query_end,
                "work_start": m.work_start, "work_end": m.work_end,
                "aligned_items": m.aligned_items, "bit_error_rate": m.bit_error_rate,
                "speed": m.speed}}
            for m in found if m.work_id != work.id
        ]
    work.width, work.height = c.loaded.width, c.loaded.height
    found = image_index.search(conn, query_variants(c.loaded))
    image_index.add_image(conn, work.id, c.hashes)
    if work.allow_thumbnail and c.thumbnail:
        work.thumbnail_key = settings.store.put_bytes(
            c.thumbnail, hashlib.sha256(c.thumbnail).hexdigest(), "jpg")
    return [
        {"other_work_id": m.work_id, "kind": "image", "score": m.score, "details": {
            "distances": m.distances, "transformation": m.transformation}}
        for m in found if m.work_id != work.id
    ]


def _exact_matches(work: Work) -> list[dict[str, Any]]:
    others = db.session.scalars(
        select(WorkFile.work_id).where(
            WorkFile.sha256 == work.main_file.sha256, WorkFile.role == "main",
            WorkFile.work_id != work.id)
    ).all()
    return [{"other_work_id": other, "kind": "exact", "score": 1.0, "details": {}}
            for other in others]


def _record_matches(work: Work, found: list[dict[str, Any]]) -> None:
    """Keep the best match per earlier work; a conflict is an earlier work of another owner."""
    best: dict[int, dict[str, Any]] = {}
    for match in found:
        current = best.get(match["other_work_id"])
        if current is None or (match["kind"] == "exact") or match["score"] > current["score"]:
            best[match["other_work_id"]] = match
    for other_id, match in best.items():
        other = db.session.get(Work, other_id)
        if other is None or other.status not in LIVE_STATUSES:
            continue
        if (other.registered_at, other.id) > (work.registered_at, work.id):
            continue
        work.matches.append(WorkMatch(
            other_work_id=other_id, kind=match["kind"], score=round(match["score"], 4),
            details=match["details"], is_conflict=other.owner_id != work.owner_id))


def registration_entry(work: Work) -> dict[str, Any]:
    """The ledger's record of a registration; a private work's title stays out of it."""
    entry: dict[str, Any] = {
        "registration_number": work.registration_number,
        "registrant_account": work.registrant_id,
        "work_type": work.work_type.value,
        "visibility": work.visibility.value,
        "files": [{"role": f.role, "sha256": f.sha256, "size": f.size} for f in work.files],
        "fingerprint": {"kind": "chromaprint" if work.media_kind == "audio" else "imagehash",
                        "digest": work.fingerprint_digest},
        "iscc": work.iscc,
        "ai_declaration": {
            "use": work.ai_use.value,
            "iptc_digital_source_type": work.ai_use.iptc_source_type,
        },
        "metadata_digest": work.versions[0].digest,
    }
    if work.is_public:
        entry["title"] = work.title
    return entry


def mark_failed(job: Job) -> None:
    work = db.session.get(Work, job.work_id)
    if work is not None and work.status == WorkStatus.PROCESSING:
        work.status = WorkStatus.FAILED


def register_handlers(settings: RegistrySettings) -> None:
    jobs.HANDLERS[PROCESS_REGISTRATION] = lambda job: process_registration(job, settings)
    jobs.HANDLERS[f"{PROCESS_REGISTRATION}:failed"] = mark_failed
