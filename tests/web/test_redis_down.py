"""Redis down: rate limits fall back to this process's memory (with a warning), no
request answers 500, and the counters go back to Redis when it returns.

The test starts and stops a Redis server of its own (``redis-server`` on a free port);
it never touches another Redis."""

from __future__ import annotations

import shutil
import time

import pytest

from registry.extensions import db, limiter
from tests.conftest import EnglishClient, _app_config
from tests.faults.harness import OwnRedis


@pytest.fixture
def own_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server program (Debian package redis-server)")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def _bad_login(client):
    return client.post("/login", data={"email": "nobody@example.kz", "password": "wrong pass"})


def test_rate_limits_survive_redis_stopping_and_starting(own_redis, database_url, tmp_path,
                                                          caplog):
    from registry import create_app

    app = create_app({**_app_config(database_url, tmp_path / "instance"),
                      "TAMGA_REDIS_URL": own_redis.url, "TAMGA_WORKER": "off",
                      "RATELIMIT_STORAGE_URI": own_redis.url,
                      "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5,
                                                    "socket_timeout": 0.5},
                      "TAMGA_LOGIN_LIMIT_ADDRESS": "3 per minute"})
    app.test_client_class = EnglishClient
    client = app.test_client()
    try:
        assert _bad_login(client).status_code == 200
        assert own_redis.keys()  # counted in Redis while it runs

        own_redis.stop()
        started = time.monotonic()
        answers = [_bad_login(client).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]  # limited in memory, never a 500
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/openapi.json").status_code == 200
        assert client.get("/lookup").status_code == 200
        assert time.monotonic() - started < 15
        assert "falling back to in-memory storage" in caplog.text

        own_redis.start()
        deadline = time.monotonic() + 60  # Flask-Limiter probes Redis with back-off
        while not own_redis.keys() and time.monotonic() < deadline:
            assert client.get("/").status_code == 200
            _bad_login(client)
            time.sleep(0.5)
        assert own_redis.keys()  # back in Redis
    finally:
        limiter._storage_dead = False
        with app.app_context():
            db.engine.dispose()
