"""The one job runner: claims jobs from the ``jobs`` table, runs them, commits.

A runner belongs to the app that built it (``app.extensions["tamga.runner"]``): its
handlers close over that app's settings, storage and keys, so two apps in one
process never run each other's jobs. The same code runs everywhere:

- ``thread`` (the default without Redis): a thread in the web process;
- ``external``: a separate ``flask worker`` process (the default with Redis);
- ``sync``: inline right after the commit that queued the job (tests, benchmarks);
- ``off``: this process queues and never runs.

The table is the source of truth; Redis, when configured, only wakes an idle worker
at once instead of at its next poll, so losing Redis costs latency, not jobs.

Reliability rules:

- **Leases and heartbeats.** A claim holds a lease (``TAMGA_JOB_LEASE_SECONDS``)
  that a heartbeat thread renews while the job runs. A job whose lease lapsed
  (its worker was killed, or lost the database) is claimable again by anyone.
- **Retries with back-off.** A failure that a retry may cure (database or Redis
  gone, a full disk, an SMTP server down, an unexpected error) queues the job
  again after ``base · 2^(attempt-1)`` seconds, capped at a minute.
- **Dead letters.** After ``max_attempts`` the job is ``dead`` with its reason;
  moderators see it (``/moderation/jobs``) and can queue it again. A domain
  error (a damaged file) fails the job at once with its reason for the owner.
- **Periodic tasks** (:meth:`Runner.every`) are due rows in ``periodic_tasks``;
  the worker that claims a due row queues one job of that kind, which then runs
  with the same leases and retries as any other.
"""

from __future__ import annotations

import errno
import logging
import os
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.models.job import Job, JobStatus, PeriodicTask

log = logging.getLogger(__name__)

MODES = ("thread", "external", "sync", "off")
T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobContext:
    """What a handler gets: its job, and the app's settings (never a global)."""

    job: Job
    runner: Runner

    @property
    def app(self) -> Flask:
        return self.runner.app

    @property
    def settings(self) -> Any:
        return self.runner.app.extensions["tamga.settings"]

    @property
    def payload(self) -> dict[str, Any]:
        return dict(self.job.payload or {})

    def commit(self) -> None:
        """End the job's transaction early (before long work that needs no database)."""
        db.session.commit()


Handler = Callable[[JobContext], None]


@dataclass
class Kind:
    run: Handler
    on_failed: Handler | None = None
    max_attempts: int = 6


@dataclass
class Periodic:
    name: str
    seconds: float


@dataclass(frozen=True)
class Failure:
    code: str
    reason: str
    transient: bool


def classify(exc: BaseException) -> Failure:
    """Why a job failed, and whether a later attempt may succeed."""
    if isinstance(exc, TamgaError):
        return Failure(exc.code, str(exc.message), False)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Failure("storage_full", "storage full", True)
    if isinstance(exc, DBAPIError | SQLAlchemyError):
        return Failure("database_unavailable", f"database unavailable ({type(exc).__name__})",
                       True)
    if _is_redis_error(exc):
        return Failure("redis_unavailable", f"Redis unavailable ({type(exc).__name__})", True)
    if isinstance(exc, OSError | smtplib.SMTPException | TimeoutError):
        return Failure("io_error", f"{type(exc).__name__}: {exc}"[:300], True)
    return Failure("internal", f"internal error ({type(exc).__name__}: {exc})"[:300], True)


def _is_redis_error(exc: BaseException) -> bool:
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is optional
        return False
    return isinstance(exc, RedisError)


class Runner:
    def __init__(self, app: Flask) -> None:
        self.app = app
        config = app.config
        self.kinds: dict[str, Kind] = {}
        self.periodic: dict[str, Periodic] = {}
        self.lease = timedelta(seconds=float(config.get("TAMGA_JOB_LEASE_SECONDS", 60)))
        self.retry_base = float(config.get("TAMGA_JOB_RETRY_SECONDS", 5))
        self.retry_cap = float(config.get("TAMGA_JOB_RETRY_CAP_SECONDS", 60))
        self.poll_seconds = float(config.get("TAMGA_JOB_POLL_SECONDS", 2))
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.waker = Waker(config.get("TAMGA_REDIS_URL"),
                           config.get("TAMGA_JOB_WAKE_KEY", "tamga:jobs:wake"))
        self._inline = threading.local()
        self._periodic_checked = 0.0

    @property
    def mode(self) -> str:
        return self.app.config["TAMGA_WORKER"]

    # Registration ---------------------------------------------------------------

    def handler(self, kind: str, run: Handler, *, on_failed: Handler | None = None,
                max_attempts: int = 6) -> None:
        self.kinds[kind] = Kind(run, on_failed, max_attempts)

    def every(self, name: str, seconds: float, run: Handler, *, max_attempts: int = 3) -> None:
        """A periodic task in one line: ``runner.every("ledger.checkpoint", 600, func)``."""
        self.handler(name, run, max_attempts=max_attempts)
        self.periodic[name] = Periodic(name, seconds)

    # After commit -----------------------------------------------------------------

    def jobs_committed(self, job_ids: list[int]) -> None:
        """Called after a commit that queued jobs: start them the way this process runs jobs."""
        if self.mode == "sync":
            self.run_inline()
        elif self.mode in ("thread", "external"):
            self.waker.notify(len(job_ids))

    def run_inline(self) -> None:
        """Run every due job now, in a fresh app context (its own session)."""
        if getattr(self._inline, "active", False):
            return  # jobs queued by a job run in the same loop
        self._inline.active = True
        try:
            with self.app.app_context():
                try:
                    while self.run_due():
                        pass
                finally:
                    db.session.remove()
        finally:
            self._inline.active = False

    # Claiming and running ---------------------------------------------------------------

    @staticmethod
    def _claimable(now: datetime):
        return or_(
            and_(Job.status == JobStatus.QUEUED,
                 or_(Job.run_after.is_(None), Job.run_after <= now)),
            and_(Job.status == JobStatus.RUNNING, Job.lease_until < now),
        )

    def due_job_ids(self, limit: int = 20) -> list[int]:
        ids = list(db.session.scalars(
            select(Job.id).where(self._claimable(utcnow())).order_by(Job.id).limit(limit)))
        db.session.rollback()  # end the read: on SQLite it would hold the write lock
        return ids

    def run_due(self, limit: int = 20) -> int:
        """Claim and run the jobs that are due now; how many ran."""
        ran = 0
        for job_id in self.due_job_ids(limit):
            if self.run_one(job_id) is not None:
                ran += 1
        return ran

    def claim(self, job_id: int) -> bool:
        now = utcnow()
        result = db.session.execute(
            update(Job).where(Job.id == job_id, self._claimable(now))
            .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now,
                    lease_until=now + self.lease, worker=self.name,
                    attempts=Job.attempts + 1, run_after=None)
            .execution_options(synchronize_session=False))
        db.session.commit()
        return result.rowcount == 1

    def run_one(self, job_id: int) -> JobStatus | None:
        """Claim and run one job; None when another worker has it (or it is not due)."""
        if not self.claim(job_id):
            return None
        job = db.session.get(Job, job_id)
        kind_name = job.kind
        kind = self.kinds.get(kind_name)
        if kind is None:
            self._finish_failed(job_id, Failure("unknown_kind", f"no handler for {job.kind}",
                                                False), dead=True)
            return JobStatus.DEAD
        if job.attempts > kind.max_attempts:  # its workers kept dying while running it
            self._finish_failed(job_id, Failure(
                "worker_lost", f"the worker stopped during each of {kind.max_attempts} attempts",
                False), dead=True)
            return JobStatus.DEAD
        with Heartbeat(self, job_id):
            try:
                kind.run(JobContext(job, self))
                db.session.execute(
                    update(Job).where(Job.id == job_id).values(
                        status=JobStatus.DONE, progress=100, stage="done", error=None,
                        error_code=None, finished_at=utcnow(), lease_until=None)
                    .execution_options(synchronize_session=False))
                db.session.commit()
                return JobStatus.DONE
            except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
                self._rollback()
                failure = classify(exc)
                if failure.code == "internal":
                    log.exception("job %s (%s) failed", job_id, kind_name)
                else:
                    log.warning("job %s failed: %s", job_id, failure.reason)
                return self._after_failure(job_id, kind, failure)

    def _rollback(self) -> None:
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone
            db.session.remove()

    def _after_failure(self, job_id: int, kind: Kind, failure: Failure) -> JobStatus:
        """Retry later, or fail for good. If the database itself is gone this raises,
        and the job stays claimed until its lease lapses and someone takes it over."""
        job = db.session.get(Job, job_id)
        if not failure.transient:
            return self._finish_failed(job_id, failure, dead=False)
        if job.attempts >= kind.max_attempts:
            return self._finish_failed(job_id, failure, dead=True)
        delay = min(self.retry_base * 2 ** max(job.attempts - 1, 0), self.retry_cap)
        db.session.execute(
            update(Job).where(Job.id == job_id).values(
                status=JobStatus.QUEUED, error_code=failure.code, error=failure.reason,
                run_after=utcnow() + timedelta(seconds=delay), lease_until=None)
            .execution_options(synchronize_session=False))
        db.session.commit()
        self.waker.notify_later(delay)
        return JobStatus.QUEUED

    def _finish_failed(self, job_id: int, failure: Failure, *, dead: bool) -> JobStatus:
        status = JobStatus.DEAD if dead else JobStatus.FAILED
        db.session.execute(
            update(Job).where(Job.id == job_id).values(
                status=status, error_code=failure.code, error=failure.reason,
                finished_at=utcnow(), lease_until=None)
            .execution_options(synchronize_session=False))
        job = db.session.get(Job, job_id)
        db.session.refresh(job)
        kind = self.kinds.get(job.kind)
        if kind is not None and kind.on_failed is not None:
            kind.on_failed(JobContext(job, self))
        db.session.commit()
        return status

    # Periodic tasks ---------------------------------------------------------------------

    def queue_periodic(self, now: datetime | None = None) -> list[str]:
        """Queue one job for every periodic task that is due; the names queued."""
        now = now or utcnow()
        queued = []
        for task in self.periodic.values():
            row = db.session.get(PeriodicTask, task.name)
            if row is None:
                try:
                    db.session.execute(insert(PeriodicTask).values(
                        name=task.name, next_run_at=now))
                    db.session.commit()
                except IntegrityError:
                    db.session.rollback()
                row = db.session.get(PeriodicTask, task.name)
            if row.next_run_at > now:
                continue
            claimed = db.session.execute(
                update(PeriodicTask).where(PeriodicTask.name == task.name,
                                           PeriodicTask.next_run_at == row.next_run_at)
                .values(next_run_at=now + timedelta(seconds=task.seconds), last_run_at=now)
                .execution_options(synchronize_session=False)).rowcount == 1
            if claimed:
                # Runs that finished leave no row behind: a task due every second would
                # otherwise add 86,400 rows a day. Failed and dead runs stay for moderators.
                db.session.execute(delete(Job).where(
                    Job.kind == task.name, Job.status == JobStatus.DONE))
                db.session.add(Job(kind=task.name, status=JobStatus.QUEUED))
                queued.append(task.name)
            db.session.commit()
        db.session.rollback()
        return queued

    # The worker loop ------------------------------------------------------------------

    def work(self, stop: threading.Event | None = None, *, burst: bool = False) -> int:
        """Run jobs until ``stop`` is set (with ``burst``: until nothing is due).

        Survives the loss of the database and of Redis: it waits with back-off and
        tries again; whatever it held comes back to the queue when its lease lapses.
        """
        stop = stop or threading.Event()
        ran_total, outage = 0, 0
        while not stop.is_set():
            try:
                with self.app.app_context():
                    try:
                        if time.monotonic() - self._periodic_checked >= 1.0:
                            self.queue_periodic()
                            self._periodic_checked = time.monotonic()
                        ran = self.run_due()
                    finally:
                        db.session.remove()
                if outage:
                    log.warning("job runner: the database is back")
                outage = 0
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any outage
                outage += 1
                log.warning("job runner: %s; retrying in %.0f s", classify(exc).reason,
                            min(2 ** outage, 30))
                self._dispose()
                stop.wait(min(2 ** outage, 30))
                continue
            ran_total += ran
            if burst and not ran:
                break
            if not ran:
                self.waker.wait(self.poll_seconds, stop)
        return ran_total

    def _dispose(self) -> None:
        try:
            with self.app.app_context():
                db.engine.dispose()
        except Exception:  # noqa: BLE001
            log.debug("engine dispose failed", exc_info=True)

    def run_many(self, job_ids: Iterable[int], threads: int,
                 then: Callable[[int], T]) -> Iterable[T]:
        """Run the given jobs with ``threads`` threads of this runner, in order; for
        each, ``then(job_id)`` reads the result in the same (fresh) session."""
        ids = list(job_ids)
        if threads <= 1:
            for job_id in ids:
                yield self._run_in_context(job_id, then)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            yield from pool.map(lambda job_id: self._run_in_context(job_id, then), ids)

    def _run_in_context(self, job_id: int, then: Callable[[int], T]) -> T:
        with self.app.app_context():
            try:
                self.run_one(job_id)
                return then(job_id)
            finally:
                db.session.remove()


class Heartbeat:
    """Renews a running job's lease from a side thread, on its own connection."""

    def __init__(self, runner: Runner, job_id: int) -> None:
        self.runner, self.job_id = runner, job_id
        self.engine = db.engine
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}",
                                        daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        interval = max(self.runner.lease.total_seconds() / 3, 0.05)
        while not self._stop.wait(interval):
            now = utcnow()
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(Job.__table__).where(
                        Job.__table__.c.id == self.job_id,
                        Job.__table__.c.status == JobStatus.RUNNING.value,
                        Job.__table__.c.worker == self.runner.name,
                    ).values(lease_until=now + self.runner.lease, heartbeat_at=now))
            except Exception as exc:  # noqa: BLE001 - a missed beat only risks a takeover
                log.warning("heartbeat of job %s failed: %s", self.job_id, exc)


@dataclass
class Waker:
    """Wakes idle workers: a local event, and a Redis list when Redis is configured.

    Every Redis call has a short timeout and its failure is only logged: without
    Redis the workers poll the table every few seconds instead.
    """

    redis_url: str | None
    key: str
    event: threading.Event = field(default_factory=threading.Event)
    _clients: dict[str, Any] = field(default_factory=dict)
    _down_since: float | None = None

    def client(self, blocking: bool = False):
        """A quick client for pushes, one with a longer socket timeout for BLPOP."""
        if not self.redis_url:
            return None
        name = "blocking" if blocking else "quick"
        if name not in self._clients:
            from redis import Redis

            self._clients[name] = Redis.from_url(
                self.redis_url, socket_connect_timeout=0.5,
                socket_timeout=30 if blocking else 0.5)
        return self._clients[name]

    def notify(self, count: int = 1) -> None:
        self.event.set()
        client = self.client()
        if client is None:
            return
        try:
            client.rpush(self.key, *(["1"] * max(1, min(count, 50))))
            client.ltrim(self.key, -100, -1)
            self._down_since = None
        except Exception as exc:  # noqa: BLE001 - Redis down: workers poll instead
            self._redis_down(exc)

    def notify_later(self, seconds: float) -> None:
        timer = threading.Timer(seconds, self.event.set)
        timer.daemon = True
        timer.start()

    def wait(self, timeout: float, stop: threading.Event) -> None:
        client = self.client(blocking=True)
        if client is not None and self._down_since is None and not self.event.is_set():
            try:
                client.blpop([self.key], timeout=max(1, min(int(timeout), 20)))
                return
            except Exception as exc:  # noqa: BLE001
                self._redis_down(exc)
        if self.event.wait(timeout):
            self.event.clear()
        elif self._down_since is not None and time.monotonic() - self._down_since > 5:
            self._down_since = None  # try Redis again

    def _redis_down(self, exc: Exception) -> None:
        if self._down_since is None:
            log.warning("Redis unavailable (%s): workers poll the jobs table instead", exc)
        self._down_since = time.monotonic()
