"""Background jobs: rows in the ``jobs`` table, run by a worker.

With Redis configured, an RQ worker (``flask worker``) receives the job ids;
without it, a thread inside the web process polls the table, so the embedded
default needs nothing extra. Either way the table is the source of truth: a job
that was queued or running when a process stopped is picked up again.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.models.job import Job, JobStatus

log = logging.getLogger(__name__)
JobHandler = Callable[[Job], None]
HANDLERS: dict[str, JobHandler] = {}
STALE_AFTER = timedelta(minutes=15)
WORKER_NAME = f"{socket.gethostname()}:{threading.get_native_id()}"


def handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    def register(func: JobHandler) -> JobHandler:
        HANDLERS[kind] = func
        return func
    return register


def create_job(kind: str, *, work_id: int | None = None) -> Job:
    job = Job(kind=kind, work_id=work_id, status=JobStatus.QUEUED)
    db.session.add(job)
    db.session.flush()
    return job


def retry_job(job: Job) -> Job:
    job.status = JobStatus.QUEUED
    job.error = job.error_code = job.stage = None
    job.progress = 0
    job.finished_at = None
    db.session.flush()
    return job


def claim(job_id: int, worker: str = WORKER_NAME) -> bool:
    """Atomically move a queued (or stale running) job to running; False if taken."""
    now = datetime.now(UTC)
    result = db.session.execute(
        update(Job)
        .where(Job.id == job_id, _claimable(now))
        .values(status=JobStatus.RUNNING, started_at=now, worker=worker,
                attempts=Job.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _claimable(now: datetime):
    return or_(
        Job.status == JobStatus.QUEUED,
        (Job.status == JobStatus.RUNNING) & (Job.started_at < now - STALE_AFTER),
    )


def pending_job_ids(limit: int = 20) -> list[int]:
    now = datetime.now(UTC)
    return list(db.session.scalars(
        select(Job.id).where(_claimable(now)).order_by(Job.id).limit(limit)))


def set_progress(job: Job, progress: int, stage: str) -> None:
    """Record how far a job is; the work page shows it once the caller commits."""
    db.session.execute(
        update(Job).where(Job.id == job.id).values(progress=progress, stage=stage)
        .execution_options(synchronize_session=False))
    job.progress, job.stage = progress, stage


def run_job(job_id: int) -> JobStatus | None:
    """Claim and run one job; its handler's changes commit together with ``done``."""
    if not claim(job_id):
        return None
    job = db.session.get(Job, job_id)
    try:
        HANDLERS[job.kind](job)
        job.status, job.progress, job.stage = JobStatus.DONE, 100, "done"
        job.finished_at = datetime.now(UTC)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job
        db.session.rollback()
        if not isinstance(exc, TamgaError):
            log.exception("job %s (%s) failed", job_id, job.kind)
        _record_failure(job_id, exc)
    return db.session.get(Job, job_id).status


def _record_failure(job_id: int, exc: Exception) -> None:
    job = db.session.get(Job, job_id)
    job.status = JobStatus.FAILED
    job.error_code = exc.code if isinstance(exc, TamgaError) else "internal"
    job.error = str(exc.message) if isinstance(exc, TamgaError) else type(exc).__name__
    job.finished_at = datetime.now(UTC)
    failure_hooks = HANDLERS.get(f"{job.kind}:failed")
    if failure_hooks:
        failure_hooks(job)
    db.session.commit()
