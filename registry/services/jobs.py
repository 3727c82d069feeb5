"""Background jobs as rows: queue one, retry one, report progress. These flush and never
commit; the runner (``registry.tasks.runner``) claims, runs and commits them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from registry.extensions import db
from registry.models.job import Job, JobStatus


def create_job(kind: str, *, work_id: int | None = None, payload: dict[str, Any] | None = None,
               run_after: datetime | None = None) -> Job:
    """Queue a job in the caller's transaction: it exists (and runs) only if that commits."""
    job = Job(kind=kind, work_id=work_id, payload=payload, run_after=run_after,
              status=JobStatus.QUEUED)
    db.session.add(job)
    db.session.flush()
    return job


def retry_job(job: Job) -> Job:
    """Queue a failed or dead job again from the start."""
    job.status = JobStatus.QUEUED
    job.error = job.error_code = job.stage = None
    job.progress = job.attempts = 0
    job.finished_at = job.run_after = job.lease_until = None
    db.session.flush()
    return job


def set_progress(job: Job, progress: int, stage: str) -> None:
    """Record how far a job is; the work page shows it once the job commits."""
    db.session.execute(
        update(Job).where(Job.id == job.id).values(progress=progress, stage=stage)
        .execution_options(synchronize_session=False))
    job.progress, job.stage = progress, stage


def dead_letters(limit: int = 200) -> list[Job]:
    """Jobs that kept failing, newest first: the moderators' list."""
    return list(db.session.scalars(
        select(Job).where(Job.status == JobStatus.DEAD)
        .order_by(Job.finished_at.desc(), Job.id.desc()).limit(limit)))
