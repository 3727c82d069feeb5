"""Files and rows that disagree: stored files no row refers to (orphans), rows whose
file is gone (missing), and leftovers of interrupted uploads (``incoming/`` and
``.part`` files). Used by ``flask storage check`` and the runner's hourly sweep."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from registry.core.storage import keys_in
from registry.extensions import db
from registry.models.dispute import Dispute, DisputeEvidence
from registry.models.work import Work, WorkFile
from registry.services.settings import RegistrySettings

#: Files younger than this may belong to a registration still in its transaction.
GRACE_SECONDS = 3600


@dataclass
class StorageReport:
    orphans: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (key, what refers to it)
    leftovers: list[Path] = field(default_factory=list)
    removed: int = 0

    @property
    def ok(self) -> bool:
        return not (self.orphans or self.missing or self.leftovers)


def referenced_keys() -> dict[str, str]:
    """Every storage key a row refers to, with a description of the row: files,
    thumbnails, video key frames, the pictures of dispute comparisons, evidence."""
    refs: dict[str, str] = {}
    for key, number in db.session.execute(
            select(WorkFile.storage_key, Work.registration_number).join(Work)):
        refs[key] = f"work {number}"
    for thumb, number in db.session.execute(
            select(Work.thumbnail_key, Work.registration_number)
            .where(Work.thumbnail_key.is_not(None))):
        if thumb is not None:
            refs.setdefault(thumb, f"thumbnail of {number}")
    for frames, number in db.session.execute(
            select(Work.key_frames, Work.registration_number)
            .where(Work.key_frames.is_not(None))):
        for key in keys_in(frames):
            refs.setdefault(key, f"key frame of {number}")
    for comparison, dispute_id in db.session.execute(select(Dispute.comparison, Dispute.id)):
        for key in keys_in(comparison):
            refs.setdefault(key, f"comparison picture of dispute {dispute_id}")
    for stored, evidence_id in db.session.execute(
            select(DisputeEvidence.storage_key, DisputeEvidence.id)
            .where(DisputeEvidence.storage_key.is_not(None))):
        if stored is not None:
            refs.setdefault(stored, f"dispute evidence {evidence_id}")
    return refs


def _old(path: Path, now: float, grace: float) -> bool:
    try:
        return now - path.stat().st_mtime >= grace
    except FileNotFoundError:
        return False


def check(settings: RegistrySettings, *, repair: bool = False,
          grace_seconds: float = GRACE_SECONDS) -> StorageReport:
    """Compare the store with the rows; with ``repair`` delete orphans and leftovers
    older than ``grace_seconds`` (a missing file cannot be recreated: it is reported)."""
    store, now = settings.store, time.time()
    refs = referenced_keys()
    report = StorageReport()
    for key in sorted(store.keys()):
        if key not in refs and _old(store.path(key), now, grace_seconds):
            report.orphans.append(key)
    report.missing = sorted((key, what) for key, what in refs.items() if not store.exists(key))
    incoming = settings.upload_dir
    candidates = list(store.partial_files())
    if incoming.exists():
        candidates += [p for p in incoming.iterdir() if p.is_file()]
    report.leftovers = sorted(p for p in candidates if _old(p, now, grace_seconds))
    if repair:
        for key in report.orphans:
            store.path(key).unlink(missing_ok=True)
            report.removed += 1
        for path in report.leftovers:
            path.unlink(missing_ok=True)
            report.removed += 1
    return report
