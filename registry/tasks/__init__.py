"""Running background jobs: an RQ worker when Redis is configured, otherwise a
thread in the web process. Jobs themselves live in the database
(``registry.services.jobs``); this module only decides who runs them."""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

from registry.services import jobs, processing

log = logging.getLogger(__name__)
QUEUE_NAME = "tamga"


def init_tasks(app: Flask) -> None:
    processing.register_handlers(app.extensions["tamga.settings"])
    mode = app.config.get("TAMGA_WORKER") or ("rq" if app.config.get("TAMGA_REDIS_URL")
                                             else "thread")
    app.config["TAMGA_WORKER"] = mode
    if mode == "thread" and not app.config.get("TESTING"):
        # Started by the first request, so that CLI commands never run one.
        app.before_request(_ensure_thread_worker)


def dispatch(job_id: int) -> None:
    """Hand a committed job to whoever runs jobs in this configuration."""
    mode = current_app.config["TAMGA_WORKER"]
    if mode == "rq":
        rq_queue(current_app.config["TAMGA_REDIS_URL"]).enqueue(
            "registry.tasks.rq_entry.run", job_id, job_timeout=3600)
    elif mode == "sync":
        jobs.run_job(job_id)
    elif mode == "thread":
        worker = current_app.extensions.get("tamga.worker")
        if worker is not None:
            worker.wake()


def rq_queue(redis_url: str):
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))


class ThreadWorker:
    """Polls the jobs table; woken at once when a request queues a job."""

    def __init__(self, app: Flask, poll_seconds: float = 5.0) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="tamga-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.thread.join(timeout=10)

    def run_pending(self) -> int:
        from registry.extensions import db

        with self.app.app_context():
            try:
                ran = 0
                for job_id in jobs.pending_job_ids():
                    if jobs.run_job(job_id) is not None:
                        ran += 1
                return ran
            finally:
                db.session.remove()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while self.run_pending():
                    pass
            except Exception:  # noqa: BLE001 - the worker must survive a bad job
                log.exception("background worker error")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()


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
