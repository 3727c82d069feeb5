"""Slow clients cannot starve the site: gunicorn with the production settings
(``gunicorn.conf.py``: threaded workers) serves the home page at once while 8 uploads
trickle in at 100 bytes a second. The test starts and stops its own gunicorn."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from registry.config import PROJECT_ROOT
from tests.faults.harness import free_port

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _slow_upload(port: int, stop: threading.Event, sent: list[int]) -> None:
    """A multipart POST whose body arrives at 100 B/s (it never finishes in the test)."""
    body_size = 200_000
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall((f"POST /works/new HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Content-Type: multipart/form-data; boundary=xyz\r\n"
                      f"Content-Length: {body_size}\r\n\r\n--xyz\r\n").encode())
        while not stop.is_set():
            sock.sendall(b"a" * 10)
            sent.append(10)
            stop.wait(0.1)


def _get_home(port: int, timeout: float = 30) -> float:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Accept-Language": "en"})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert response.status == 200
    return time.monotonic() - started


def test_eight_slow_uploads_do_not_delay_the_home_page(database_url, tmp_path):
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("TAMGA_")}
    env.update({"TAMGA_DATABASE_URL": database_url, "TAMGA_INSTANCE_PATH": str(instance),
                "TAMGA_SECRET_KEY": "test-secret-key", "TAMGA_WORKER": "off",
                "TAMGA_BIND": f"127.0.0.1:{port}"})
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115
    server = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", "app:app"],
                              cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 300  # a loaded machine imports slowly
        while True:
            try:
                _get_home(port, timeout=240)  # the first request imports the views' modules
                break
            except (OSError, AssertionError):
                assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
        for _ in range(6):
            _get_home(port, timeout=240)  # warm both workers
        sent: list[int] = []
        slow = [threading.Thread(target=_slow_upload, args=(port, stop, sent), daemon=True)
                for _ in range(8)]
        for thread in slow:
            thread.start()
        time.sleep(2)  # every slow upload is now being read by the server
        times = [_get_home(port) for _ in range(40)]
        p95 = statistics.quantiles(times, n=20)[18]
        assert sum(sent) > 8 * 100  # the uploads were really trickling in meanwhile
        assert p95 < 1.0, f"home page p95 {p95:.2f} s with 8 slow uploads"
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)
        log.close()
