"""The registration job: fingerprint, ISCC, prior-match check, index, ledger.

Everything it writes (index rows, matches, status, the ledger entry) lands in
one commit together with the job's ``done``; a failure rolls it all back and
leaves the job failed with a reason, ready to retry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from registry import kinds
from registry.core import iscc
from registry.extensions import db
from registry.kinds import Fingerprinted, Hit, MediaKind
from registry.models.job import Job
from registry.models.user import utcnow
from registry.models.work import Work, WorkFile, WorkMatch, WorkStatus
from registry.services import jobs, ledger, match_alerts, provenance
from registry.services.mail import MailSender
from registry.services.rows import must_get
from registry.services.settings import RegistrySettings

#: Statuses of earlier works that can be in conflict with a new registration.
LIVE_STATUSES = (WorkStatus.REGISTERED, WorkStatus.CONFLICT)


def process_registration(job: Job, settings: RegistrySettings, *,
                         end_transaction: Callable[[], None],
                         mailer: MailSender | None = None) -> None:
    """``end_transaction`` is the job's commit (the runner's): no transaction (and no
    SQLite write lock) stays open while fingerprinting. ``mailer`` (the outbox) sends
    the later-match e-mails once the job's transaction commits."""
    work = must_get(Work, job.work_id)
    work_id, media, path = work.id, work.media_kind, settings.store.path(work.main_file.storage_key)
    jobs.set_progress(job, 10, "fingerprint")
    end_transaction()
    shown = [10]

    def fingerprinting(fraction: float) -> None:
        """A long video moves the bar from 10 % to 75 % while it is decoded."""
        percent = 10 + int(fraction * 65)
        if percent >= shown[0] + 5:
            shown[0] = percent
            jobs.set_progress(job, percent, "fingerprint")
            end_transaction()

    computed = _kind(media).fingerprint(path, settings.limits, progress=fingerprinting)
    iscc_code = iscc.iscc_code(computed.content_code, path)
    work = must_get(Work, work_id)
    jobs.set_progress(job, 80, "matching")
    found = _search_and_index(work, computed, settings)
    work.fingerprint_digest = computed.digest
    work.iscc = iscc_code
    _record_matches(work, found + _exact_matches(work))
    work.status = (WorkStatus.CONFLICT if any(m.is_conflict for m in work.matches)
                   else WorkStatus.REGISTERED)
    appended = ledger.record("work.registered", work.registered_at,
                             registration_entry(work), settings)
    work.ledger_index = appended.leaf_index
    provenance.record_registration_reservation(work, appended.leaf_index)
    db.session.flush()
    # Hear about every copy: kind-neutral, reads only the recorded matches.
    match_alerts.alert_owners(work, mailer=mailer, base_url=settings.base_url, now=utcnow())


def _kind(name: str) -> MediaKind:
    kind = kinds.get(name)
    if kind is None:
        raise RuntimeError(f"no media kind {name!r} is registered")
    return kind


def _search_and_index(work: Work, c: Fingerprinted, settings: RegistrySettings) -> list[dict]:
    """Look for earlier works, then add this one to the index (so it never finds itself)."""
    conn = db.session.connection()
    for name, value in c.attributes.items():
        setattr(work, name, value)
    found = [hit for kind in kinds.all_kinds() for hit in kind.search(conn, c.query)]
    _kind(work.media_kind).add(conn, work.id, c)
    if work.allow_thumbnail and c.thumbnail:
        work.thumbnail_key = settings.store.put_bytes(
            c.thumbnail, hashlib.sha256(c.thumbnail).hexdigest(), "jpg")
    if c.key_frames:  # the owner always sees them; the public only if thumbnails are allowed
        work.key_frames = [
            {"t": t, "key": settings.store.put_bytes(jpeg, hashlib.sha256(jpeg).hexdigest(),
                                                     "jpg")}
            for t, jpeg in c.key_frames]
    by_work: dict[int, list[Hit]] = {}
    for hit in found:
        if hit.work_id != work.id:
            by_work.setdefault(hit.work_id, []).append(hit)
    combined = []
    for other_id, hits in by_work.items():
        other = db.session.get(Work, other_id)
        kind = kinds.get(other.media_kind) if other is not None else None
        combined.append(kind.combine(hits) if kind else max(hits, key=lambda h: h.score))
    return [{"other_work_id": h.work_id, "kind": h.kind, "score": h.score, "details": h.details}
            for h in combined]


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
        "registrant_commitment": ledger.account_commitment(work.registrant,
                                                           work.registration_number),
        "work_type": work.work_type.value,
        "visibility": work.visibility.value,
        "files": [{"role": f.role, "sha256": f.sha256, "size": f.size} for f in work.files],
        "fingerprint": {"kind": _kind(work.media_kind).fingerprint_name,
                        "digest": work.fingerprint_digest},
        "iscc": work.iscc,
        "ai_declaration": {
            "use": work.ai_use.value,
            "iptc_digital_source_type": work.ai_use.iptc_source_type,
        },
        "metadata_digest": work.versions[0].digest,
        "file_provenance": provenance.ledger_facts(work),
        "ai_training_reserved": work.ai_training_opt_out,
    }
    if work.is_public:
        entry["title"] = work.title
    return entry
