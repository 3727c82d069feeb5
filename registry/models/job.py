"""Background jobs and the outbox, kept in the database so a restart never loses one.

A job is also the outbox row of a side effect: an e-mail to send is a ``mail.send``
job written in the same transaction as the change that caused it, so a rolled-back
request sends nothing, and the runner delivers it after the commit, with retries.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import db
from registry.models.types import UTCDateTime
from registry.models.user import utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    #: Failed for a reason that a retry would not change (a damaged file): shown to the owner.
    FAILED = "failed"
    #: Dead letter: kept failing (or its worker kept dying) after every retry; moderators see it.
    DEAD = "dead"


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"),
                                                index=True)
    payload: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=JobStatus.QUEUED, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str | None] = mapped_column(String(40))
    error_code: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Not before this time (back-off after a transient failure); None means at once.
    run_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: The running worker's claim; it renews it with heartbeats. Once it lapses the
    #: worker is taken for dead and any worker may take the job over.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PeriodicTask(db.Model):
    """When a periodic task is next due; claiming a due row makes one worker run it."""

    __tablename__ = "periodic_tasks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
