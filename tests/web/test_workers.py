"""Both ways of running jobs: the in-process thread and an RQ worker on Redis."""

from __future__ import annotations

import time

from registry.extensions import db
from registry.models import Job, JobStatus, Work, WorkStatus
from tests.web.test_registration import form_data, number_from

REDIS_URL = "redis://127.0.0.1:6379/15"


def _register(app, accounts, media, seed: int) -> str:
    accounts.create()
    accounts.login()
    response = accounts.client.post("/works/new", data=form_data(media.picture(seed)),
                                    content_type="multipart/form-data")
    assert response.status_code == 302
    return number_from(response)


def _status(app, number: str) -> WorkStatus:
    with app.app_context():
        status = db.session.scalar(db.select(Work.status).filter_by(registration_number=number))
        db.session.remove()
        return status


def test_thread_worker_runs_queued_jobs_and_picks_up_leftovers(app, accounts, media):
    from registry.tasks import start_thread_worker

    app.config["TAMGA_WORKER"] = "off"  # queue without running: as if the process had died
    number = _register(app, accounts, media, 31)
    assert _status(app, number) == WorkStatus.PROCESSING
    app.config["TAMGA_WORKER"] = "thread"
    worker = start_thread_worker(app)  # a restarted process finds the queued job
    try:
        deadline = time.monotonic() + 60
        while _status(app, number) == WorkStatus.PROCESSING and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _status(app, number) == WorkStatus.REGISTERED
    finally:
        worker.stop()


def test_rq_worker_runs_jobs_from_redis(app, accounts, media):
    import redis
    from rq import SimpleWorker

    from registry.tasks import QUEUE_NAME, rq_entry, rq_queue

    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    app.config.update(TAMGA_WORKER="rq", TAMGA_REDIS_URL=REDIS_URL)
    number = _register(app, accounts, media, 32)
    queue = rq_queue(REDIS_URL)
    assert queue.count == 1
    rq_entry.bind(app)
    SimpleWorker([queue], connection=connection).work(burst=True)
    assert _status(app, number) == WorkStatus.REGISTERED
    with app.app_context():
        job = db.session.scalar(db.select(Job))
        assert job.status == JobStatus.DONE and job.attempts == 1
    connection.flushdb()
    assert QUEUE_NAME == "tamga"


def test_a_job_is_claimed_once_even_if_dispatched_twice(app, accounts, media):
    from registry.services import jobs

    app.config["TAMGA_WORKER"] = "off"
    _register(app, accounts, media, 33)
    with app.app_context():
        job_id = db.session.scalar(db.select(Job.id))
        assert jobs.run_job(job_id) == JobStatus.DONE
        assert jobs.run_job(job_id) is None  # already done: nobody claims it again
