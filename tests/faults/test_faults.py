"""Faults during registrations, on the production shape (``flask worker`` processes,
Redis, PostgreSQL when ``DATABASE_URL`` says so): each asserts that no acknowledged
registration is lost, none is stuck, and the ledger stays valid, with no manual step.

The tests start and stop only their own processes and servers."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.conftest import is_postgres
from tests.faults.harness import OwnRedis, Site, wait_for_running_job

RECOVERY_SECONDS = 120  # the target: done within 2 minutes of coming back


def _assert_all_finished(site: Site, recovery: float) -> None:
    outcome = site.outcome(recovery)
    assert outcome.acknowledged > 0
    assert outcome.lost == 0 and outcome.stuck == 0, outcome
    assert outcome.registered + outcome.failed == outcome.acknowledged, outcome
    assert outcome.failed == 0, outcome.reasons  # these faults all heal: nothing fails
    assert outcome.ledger_ok, outcome.ledger_problem
    assert outcome.receipts_breached == []  # every receipt given was honoured in time
    assert recovery < RECOVERY_SECONDS


@pytest.fixture
def site(database_url, tmp_path):
    running = Site(database_url, tmp_path)
    yield running
    running.close()


def test_kill_9_of_the_worker_during_registrations(site, media):
    for seed in range(4):
        assert site.register(media.picture(60 + seed))
    first = site.start_worker()
    assert wait_for_running_job(site), "the worker never started a job"
    first.kill9()  # mid-job: its job stays "running" under a lease nobody renews
    assert site.job_states().get("running") == 1
    site.start_worker()  # a supervisor restarts it
    recovery = site.wait_settled(RECOVERY_SECONDS)
    _assert_all_finished(site, recovery)


@pytest.mark.skipif(not is_postgres(), reason="pg_terminate_backend needs PostgreSQL "
                    "(set DATABASE_URL); SQLite has no connections to drop")
def test_database_connections_dropped_under_load(site, media):
    site.start_worker()
    terminated = 0
    for seed in range(6):
        site.register(media.picture(70 + seed))  # some may fail: those are not acknowledged
        terminated += site.terminate_database_connections()
        time.sleep(0.3)
    assert terminated > 0
    recovery = site.wait_settled(RECOVERY_SECONDS)
    _assert_all_finished(site, recovery)


def test_redis_stopped_and_started_under_load(database_url, tmp_path, media):
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server program (Debian package redis-server)")
    redis = OwnRedis(tmp_path)
    redis.start()
    site = Site(database_url, tmp_path, redis_url=redis.url)
    try:
        site.start_worker()
        assert site.register(media.picture(80))
        redis.stop()
        started = time.monotonic()
        for seed in range(3):  # acknowledged at once while Redis is down: no 500
            assert site.register(media.picture(81 + seed))
        assert time.monotonic() - started < 30
        redis.start()
        assert site.register(media.picture(84))
        recovery = site.wait_settled(RECOVERY_SECONDS)
        _assert_all_finished(site, recovery)
    finally:
        site.close()
        redis.stop()
