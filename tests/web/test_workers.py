"""The job runner: the in-process thread, a worker woken through Redis, leases and
heartbeats, retries with back-off, dead letters, periodic tasks, one runner per app."""

from __future__ import annotations

import errno
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from registry.extensions import db
from registry.models import Job, JobStatus, PeriodicTask, Work, WorkStatus
from tests.conftest import _app_config
from tests.registration import register_form

REDIS_URL = os.environ.get("TAMGA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _register(app, accounts, media, seed: int) -> str:
    accounts.create()
    accounts.login()
    return register_form(accounts.client, media.picture(seed))


def _status(app, number: str) -> WorkStatus:
    with app.app_context():
        status = db.session.scalar(db.select(Work.status).filter_by(registration_number=number))
        db.session.remove()
        return status


def _wait_for(app, number: str, seconds: float = 60) -> WorkStatus:
    deadline = time.monotonic() + seconds
    while _status(app, number) == WorkStatus.PROCESSING and time.monotonic() < deadline:
        time.sleep(0.1)
    return _status(app, number)


def _job(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.refresh(job)
        db.session.expunge(job)
        db.session.remove()
        return job


def _add_job(app, kind: str, **values) -> int:
    with app.app_context():
        job = Job(kind=kind, status=JobStatus.QUEUED, **values)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.session.remove()
        return job_id


def test_thread_worker_runs_queued_jobs_and_picks_up_leftovers(app, accounts, media):
    from registry.tasks import start_thread_worker

    app.config["TAMGA_WORKER"] = "off"  # queue without running: as if the process had died
    number = _register(app, accounts, media, 31)
    assert _status(app, number) == WorkStatus.PROCESSING
    app.config["TAMGA_WORKER"] = "thread"
    worker = start_thread_worker(app)  # a restarted process finds the queued job
    try:
        assert _wait_for(app, number) == WorkStatus.REGISTERED
    finally:
        worker.stop()


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"needs a Redis server at {REDIS_URL} (set TAMGA_TEST_REDIS_URL): {exc}")
    return redis.Redis.from_url(REDIS_URL)


def test_redis_wakes_an_idle_worker_of_another_process(database_url, tmp_path, media):
    """The web app and the worker are two apps (two runners): only Redis can tell the
    worker, which polls once a minute, that a job was queued. The test uses a key of
    its own and deletes only that key."""
    from registry import create_app
    from registry.tasks import runner_of
    from tests.conftest import Accounts, EnglishClient

    connection = _redis_or_skip()
    key = f"tamga-test:{uuid.uuid4().hex}"
    config = {**_app_config(database_url, tmp_path / "instance"), "TAMGA_REDIS_URL": REDIS_URL,
              "TAMGA_JOB_WAKE_KEY": key, "TAMGA_JOB_POLL_SECONDS": 60}
    web = create_app({**config, "TAMGA_WORKER": "external"})
    web.test_client_class = EnglishClient
    worker_app = create_app({**config, "TAMGA_WORKER": "external"})
    stop = threading.Event()
    worker = threading.Thread(target=runner_of(worker_app).work, args=(stop,), daemon=True)
    worker.start()
    try:
        time.sleep(1.5)  # the worker found nothing to do and waits on Redis
        number = _register(web, Accounts(web.test_client(), web), media, 34)
        started = time.monotonic()
        assert _wait_for(web, number, 30) == WorkStatus.REGISTERED
        assert time.monotonic() - started < 20  # woken, not polled
    finally:
        stop.set()
        connection.rpush(key, "1")
        worker.join(timeout=30)
        connection.delete(key)
        for application in (web, worker_app):
            with application.app_context():
                db.engine.dispose()


def test_jobs_run_by_polling_while_redis_is_down(database_url, tmp_path, media):
    """Redis configured but unreachable: the request still succeeds at once (no 500,
    no wait) and the worker falls back to polling the table."""
    from registry import create_app
    from registry.tasks import runner_of
    from tests.conftest import Accounts, EnglishClient

    config = {**_app_config(database_url, tmp_path / "instance"),
              "TAMGA_REDIS_URL": "redis://127.0.0.1:5299/2",  # nothing listens there
              "TAMGA_JOB_POLL_SECONDS": 0.5, "TAMGA_WORKER": "external"}
    app = create_app(config)
    app.test_client_class = EnglishClient
    stop = threading.Event()
    worker = threading.Thread(target=runner_of(app).work, args=(stop,), daemon=True)
    worker.start()
    try:
        started = time.monotonic()
        number = _register(app, Accounts(app.test_client(), app), media, 35)
        assert time.monotonic() - started < 20  # no wait on the dead Redis
        assert _wait_for(app, number, 120) == WorkStatus.REGISTERED
    finally:
        stop.set()
        worker.join(timeout=30)
        with app.app_context():
            db.engine.dispose()


def test_a_job_is_claimed_once_even_if_dispatched_twice(app, accounts, media):
    from registry.tasks import runner_of

    app.config["TAMGA_WORKER"] = "off"
    _register(app, accounts, media, 33)
    with app.app_context():
        job_id = db.session.scalar(db.select(Job.id))
        assert runner_of(app).run_one(job_id) == JobStatus.DONE
        assert runner_of(app).run_one(job_id) is None  # already done: nobody claims it again


def test_a_dead_workers_job_is_taken_over_once_its_lease_lapses(app, accounts, media):
    from registry.tasks import runner_of

    app.config["TAMGA_WORKER"] = "off"
    number = _register(app, accounts, media, 36)
    runner = runner_of(app)
    with app.app_context():
        job = db.session.scalar(db.select(Job))
        job_id = job.id
        # kill -9 during the job: it stays "running", claimed by a worker that is gone
        job.status, job.worker, job.attempts = JobStatus.RUNNING, "gone:1", 1
        job.lease_until = datetime.now(UTC) + timedelta(seconds=30)
        db.session.commit()
        assert runner.run_due() == 0  # the lease still holds: nobody takes it
        job.lease_until = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
        assert runner.run_due() == 1
    assert _status(app, number) == WorkStatus.REGISTERED
    job = _job(app, job_id)
    assert job.attempts == 2 and job.worker == runner.name and job.status == JobStatus.DONE


def test_heartbeats_keep_a_long_job_from_being_taken_over(app):
    from registry.tasks import runner_of
    from registry.tasks.runner import Runner

    app.config.update(TAMGA_JOB_LEASE_SECONDS=1.0)
    runner = Runner(app)  # a runner with the short lease
    other = Runner(app)
    other.name = "other-worker"
    runner.handler("test.slow", lambda ctx: time.sleep(3.5))
    job_id = _add_job(app, "test.slow")

    def run():
        with app.app_context():
            runner.run_one(job_id)
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.2)
    taken = []
    # Well past the 1 s lease (wide margins: CI machines are loaded; a heartbeat
    # every 1/3 s must be late by a whole second for the job to be taken).
    deadline = time.monotonic() + 2.8
    while time.monotonic() < deadline:
        with app.app_context():
            taken.append(other.claim(job_id))
            db.session.remove()
        time.sleep(0.1)
    thread.join()
    assert not any(taken)
    job = _job(app, job_id)
    assert job.status == JobStatus.DONE and job.attempts == 1 and job.heartbeat_at is not None
    assert runner_of(app) is not runner


def test_transient_failures_back_off_then_dead_letter_seen_by_moderators(app, accounts):
    from registry.tasks.runner import Runner

    app.config.update(TAMGA_JOB_RETRY_SECONDS=1.0)  # a second: wide margins on a loaded machine
    runner = Runner(app)
    calls = []

    def full_disk(ctx):
        calls.append(time.monotonic())
        raise OSError(errno.ENOSPC, "No space left on device")

    runner.handler("test.full", full_disk, max_attempts=3)
    job_id = _add_job(app, "test.full")
    with app.app_context():
        assert runner.run_one(job_id) == JobStatus.QUEUED
        job = db.session.get(Job, job_id)
        assert job.error == "storage full" and job.error_code == "storage_full"
        assert job.run_after > datetime.now(UTC)
        assert runner.run_one(job_id) is None  # not before its back-off ends
        time.sleep(1.1)
        assert runner.run_one(job_id) == JobStatus.QUEUED
        assert runner.run_one(job_id) is None
        time.sleep(2.1)  # the second wait is twice as long
        assert runner.run_one(job_id) == JobStatus.DEAD
        db.session.remove()
    assert len(calls) == 3 and calls[2] - calls[1] >= 2.0
    accounts.create("mod@example.kz", role="moderator")
    accounts.login("mod@example.kz")
    page = accounts.client.get("/moderation/")
    assert b"Jobs that kept failing" in page.data and b"test.full" in page.data
    assert b"Reason: storage full" in page.data
    assert accounts.client.post(f"/moderation/jobs/{job_id}/retry").status_code == 302
    job = _job(app, job_id)
    assert job.status == JobStatus.QUEUED and job.attempts == 0
    assert b"test.full" not in accounts.client.get("/moderation/").data
    with app.app_context():  # a moderator's action lands in the audit trail
        from registry.models.user import AuditEvent

        event = db.session.scalar(db.select(AuditEvent).filter_by(action="job_requeued"))
        assert event.target == f"job {job_id}" and event.actor.email == "mod@example.kz"


def test_a_worker_killed_during_every_attempt_ends_in_the_dead_letters(app):
    from registry.tasks.runner import Runner

    runner = Runner(app)
    runner.handler("test.crashes", lambda ctx: None, max_attempts=2)
    past = datetime.now(UTC) - timedelta(seconds=1)
    job_id = _add_job(app, "test.crashes", worker="gone:2", attempts=2, lease_until=past)
    with app.app_context():
        db.session.execute(db.update(Job).where(Job.id == job_id).values(
            status=JobStatus.RUNNING))
        db.session.commit()
        assert runner.run_one(job_id) == JobStatus.DEAD
        db.session.remove()
    assert _job(app, job_id).error_code == "worker_lost"


def test_periodic_tasks_are_queued_once_per_interval_across_workers(app):
    from registry.tasks import runner_of
    from registry.tasks.runner import Runner

    assert "disputes.tick" in runner_of(app).periodic  # instead of cron
    ran = []
    first, second = Runner(app), Runner(app)
    for runner in (first, second):
        runner.every("test.every", 3600, lambda ctx: ran.append(ctx.job.id))
    with app.app_context():
        assert first.queue_periodic() == ["test.every"]
        assert second.queue_periodic() == []  # the other worker already queued it
        assert first.queue_periodic() == []
        while first.run_due():
            pass
        row = db.session.get(PeriodicTask, "test.every")
        assert row.next_run_at > datetime.now(UTC) + timedelta(minutes=59)
        later = datetime.now(UTC) + timedelta(hours=1, seconds=1)
        assert second.queue_periodic(now=later) == ["test.every"]
        kinds = db.session.scalars(db.select(Job.status).where(Job.kind == "test.every")).all()
        assert kinds == [JobStatus.QUEUED]  # the finished run left no row behind
        db.session.remove()
    assert len(ran) == 1


def test_two_apps_in_one_process_each_run_jobs_with_their_own_settings(
        app, accounts, media, database_url, tmp_path):
    """The handler registry used to be global: the app created last captured it, and
    the first app's jobs looked for their files in the second app's storage."""
    from registry import create_app

    app.config["TAMGA_WORKER"] = "sync"
    other = create_app(_app_config(database_url, tmp_path / "other-instance"))
    number = _register(app, accounts, media, 37)
    assert _status(app, number) == WorkStatus.REGISTERED
    with other.app_context():
        db.engine.dispose()
