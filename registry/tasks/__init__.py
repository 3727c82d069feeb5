"""Background work: one runner per app (``registry.tasks.runner``), its job kinds and
periodic tasks, and the hook that starts queued jobs once their transaction commits."""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app, has_app_context
from sqlalchemy import event

from registry.extensions import db
from registry.models.job import Job, JobStatus
from registry.services import attestations
from registry.tasks.runner import MODES, JobContext, Runner

log = logging.getLogger(__name__)
RUNNER = "tamga.runner"


def init_tasks(app: Flask) -> None:
    mode = app.config.get("TAMGA_WORKER") or (
        "external" if app.config.get("TAMGA_REDIS_URL") else "thread")
    mode = {"rq": "external"}.get(mode, mode)
    if mode not in MODES:
        raise ValueError(f"TAMGA_WORKER must be one of {', '.join(MODES)}, not {mode!r}")
    app.config["TAMGA_WORKER"] = mode
    runner = Runner(app)
    app.extensions[RUNNER] = runner
    register_kinds(runner)
    _listen_for_commits()
    if mode == "thread" and not app.config.get("TESTING"):
        # Started by the first request, so that CLI commands never run one.
        app.before_request(_ensure_thread_worker)


def register_kinds(runner: Runner) -> None:
    """Every job kind and periodic task, bound to this runner's app."""
    from registry.tasks import kinds

    kinds.register(runner)


def runner_of(app: Flask | None = None) -> Runner:
    return (app or current_app).extensions[RUNNER]


def dispatch(job_id: int | None = None) -> None:
    """Wake the workers for committed jobs. The commit hook already does this (and in
    ``sync`` mode has already run them), so scripts need not call it."""
    runner = runner_of()
    if runner.mode in ("thread", "external"):
        runner.waker.notify()


# Starting jobs after commit ------------------------------------------------------------

_listening = False


def _listen_for_commits() -> None:
    """Remember the jobs each transaction queues; after its commit, start them. A
    rolled-back transaction's jobs are forgotten with it (the outbox rule)."""
    global _listening
    if _listening:
        return
    _listening = True
    session_class = db.session.session_factory.class_
    event.listen(session_class, "after_flush", _collect_new_jobs)
    event.listen(session_class, "after_commit", _start_committed_jobs)
    event.listen(session_class, "after_rollback", _forget_jobs)


def _collect_new_jobs(session, flush_context) -> None:
    ids = [obj.id for obj in (*session.new, *session.dirty)
           if isinstance(obj, Job) and obj.status == JobStatus.QUEUED]
    if ids:
        session.info.setdefault("tamga.new_jobs", []).extend(ids)


def _forget_jobs(session) -> None:
    session.info.pop("tamga.new_jobs", None)


def _start_committed_jobs(session) -> None:
    ids = session.info.pop("tamga.new_jobs", None)
    if not ids or not has_app_context():
        return
    runner = current_app.extensions.get(RUNNER)
    if runner is None:
        return
    try:
        runner.jobs_committed(ids)
    except Exception:  # noqa: BLE001 - the commit stands; the jobs run at the next poll
        log.exception("starting jobs %s after commit failed", ids)


# The in-process worker thread ----------------------------------------------------------

class ThreadWorker:
    """The runner's loop in a daemon thread of the web process."""

    def __init__(self, app: Flask) -> None:
        self.runner = runner_of(app)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self.runner.work, args=(self._stop,),
                                       name="tamga-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wake(self) -> None:
        self.runner.waker.event.set()

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        self.thread.join(timeout=10)


_start_lock = threading.Lock()


def _ensure_thread_worker() -> None:
    app = current_app._get_current_object()
    if "tamga.worker" not in app.extensions:
        with _start_lock:
            if "tamga.worker" not in app.extensions:
                start_thread_worker(app)


def start_thread_worker(app: Flask) -> ThreadWorker:
    worker = ThreadWorker(app)
    app.extensions["tamga.worker"] = worker
    worker.start()
    return worker


__all__ = ["JobContext", "Runner", "ThreadWorker", "dispatch", "init_tasks", "runner_of",
           "start_thread_worker"]


class AttestationTicker:
    """The periodic task of the ledger: every ``interval`` seconds, sign a checkpoint if
    entries are waiting, then give each time-stamping authority and witness (each in a
    thread of its own, so a slow one delays nobody) the chance to attest the latest one.
    Registration never waits for it; ``attestations`` spaces and backs off requests."""

    def __init__(self, app: Flask, interval: float = 1.0) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.app = app
        self.settings = app.extensions["tamga.settings"]
        self.interval = interval
        self._stop = threading.Event()
        targets = len(self.settings.authorities) + len(self.settings.witnesses)
        self._pool = ThreadPoolExecutor(max_workers=max(1, targets),
                                        thread_name_prefix="tamga-attest")
        self._running: dict[str, object] = {}
        self.thread = threading.Thread(target=self._loop, name="tamga-ticker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)
        self._pool.shutdown(wait=True)

    def _in_app(self, func, *args) -> None:
        from registry.extensions import db

        with self.app.app_context():
            try:
                func(*args, timeout=self.settings.attest_timeout) if args else func(
                    self.settings)
            except Exception:  # noqa: BLE001 - the ticker must survive anything
                log.exception("periodic ledger task failed")
            finally:
                db.session.remove()

    def tick(self) -> None:
        self._in_app(attestations.sign_pending_checkpoint)
        jobs_ = [(a.url, attestations.timestamp_once, a) for a in self.settings.authorities]
        jobs_ += [(w.url, attestations.cosign_once, w) for w in self.settings.witnesses]
        for key, func, target in jobs_:
            running = self._running.get(key)
            if running is None or running.done():
                self._running[key] = self._pool.submit(self._in_app, func, target)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval)


def start_attestation_ticker(app: Flask) -> AttestationTicker:
    ticker = AttestationTicker(app)
    app.extensions["tamga.ticker"] = ticker
    ticker.start()
    return ticker
