"""What the fault tests and ``benchmarks/faults.py`` share: a site (the web app in this
process, whose 302s are the acknowledgements), ``flask worker`` processes, a Redis
server of our own, and the checks (nothing lost, nothing stuck, the ledger valid).

Every process and server here is started by the harness and stopped by it; nothing
else is touched (PostgreSQL connections are terminated only in the test's own
database)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from registry.config import PROJECT_ROOT

FLASK = str(Path(sys.executable).with_name("flask"))
#: A periodic task's run younger than this is not counted as unfinished (see
#: ``Site.unfinished_jobs``); one older than this is stuck like any other job.
PERIODIC_GRACE_SECONDS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A throw-away ``redis-server`` on a free port."""

    def __init__(self, folder: Path) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        if self.binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def keys(self) -> list[bytes]:
        import redis

        return redis.Redis.from_url(self.url).keys("*")


@dataclass
class Outcome:
    acknowledged: int = 0
    registered: int = 0
    failed: int = 0  # failed with a reason the owner sees
    stuck: int = 0  # still processing, or a job queued/running
    lost: int = 0  # acknowledged but no row
    ledger_ok: bool = False
    ledger_problem: str | None = None
    receipts_breached: list = field(default_factory=list)  # flask ledger monitor's breaches
    recovery_seconds: float = 0.0
    reasons: Counter = field(default_factory=Counter)


class Site:
    """The web app (in this process) and the settings its workers share."""

    def __init__(self, database_url: str, folder: Path, *, redis_url: str | None = None,
                 lease_seconds: float = 3.0, checkpoint_interval: float = 1.0,
                 storage_dir: Path | None = None) -> None:
        from registry import create_app
        from tests.conftest import EnglishClient, _app_config

        self.database_url, self.folder, self.redis_url = database_url, folder, redis_url
        self.lease_seconds = lease_seconds
        # The production setting, shared by the web and the workers: one checkpoint per
        # interval, the entries in between covered by the next one (the periodic task).
        self.checkpoint_interval = checkpoint_interval
        self.storage_dir = storage_dir or folder / "instance" / "storage"
        config = {**_app_config(database_url, folder / "instance"), "TAMGA_WORKER": "external",
                  "TAMGA_REDIS_URL": redis_url, "TAMGA_JOB_LEASE_SECONDS": lease_seconds,
                  "TAMGA_CHECKPOINT_INTERVAL": checkpoint_interval,
                  "TAMGA_STORAGE_DIR": str(self.storage_dir)}
        if redis_url:
            config["RATELIMIT_STORAGE_URI"] = redis_url
            config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": 0.5,
                                                   "socket_timeout": 0.5}
        self.app = create_app(config)
        self.app.test_client_class = EnglishClient
        self.client = self.app.test_client()
        self.numbers: list[str] = []
        self.workers: list[WorkerProcess] = []
        self._login()

    def _login(self) -> None:
        from tests.conftest import Accounts

        accounts = Accounts(self.client, self.app)
        accounts.create()
        assert accounts.login().status_code == 302

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("TAMGA_")}
        instance = self.folder / "instance"
        env.update({
            "TAMGA_DATABASE_URL": self.database_url, "TAMGA_INSTANCE_PATH": str(instance),
            "TAMGA_STORAGE_DIR": str(self.storage_dir),
            "TAMGA_OUTBOX_DIR": str(instance / "outbox"), "TAMGA_SECRET_KEY": "test-secret-key",
            "TAMGA_WORKER": "external", "TAMGA_JOB_LEASE_SECONDS": str(self.lease_seconds),
            "TAMGA_JOB_POLL_SECONDS": "0.5", "TAMGA_JOB_RETRY_SECONDS": "0.5",
            "TAMGA_JOB_RETRY_CAP_SECONDS": "5", "PYTHONUNBUFFERED": "1",
            "TAMGA_CHECKPOINT_INTERVAL": str(self.checkpoint_interval),
        })
        if self.redis_url:
            env["TAMGA_REDIS_URL"] = self.redis_url
        return env

    def register(self, picture: Path) -> str | None:
        """One registration through the form; its number when acknowledged (302)."""
        from tests.registration import number_from, post_form

        try:
            response = post_form(self.client, picture)
        except Exception:  # noqa: BLE001 - a request that failed is simply not acknowledged
            return None
        if response.status_code != 302:
            return None
        number = number_from(response)
        self.numbers.append(number)
        return number

    def start_worker(self) -> WorkerProcess:
        worker = WorkerProcess(self.env(), self.folder / f"worker-{len(self.workers)}.log")
        worker.start()
        self.workers.append(worker)
        return worker

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()

    def job_states(self) -> Counter:
        from registry.extensions import db
        from registry.models import Job

        with self.app.app_context():
            try:
                return Counter(s.value for s in db.session.scalars(db.select(Job.status)))
            finally:
                db.session.remove()

    def settled(self) -> bool:
        from registry.extensions import db

        with self.app.app_context():
            try:
                return self.unfinished_jobs() == 0
            finally:
                db.session.remove()

    def unfinished_jobs(self) -> int:
        """Jobs queued or running (in an app context), except a periodic task's run
        queued in the last few seconds: the workers queue one every second or so
        (checkpoint signing), so one may be queued at any instant with nothing stuck."""
        from datetime import UTC, datetime, timedelta

        from registry.extensions import db
        from registry.models import Job, JobStatus, PeriodicTask

        periodic = db.session.scalars(db.select(PeriodicTask.name)).all()
        fresh = datetime.now(UTC) - timedelta(seconds=PERIODIC_GRACE_SECONDS)
        just_queued = Job.kind.in_(periodic) & (Job.created_at > fresh)
        return db.session.scalar(db.select(db.func.count()).select_from(Job).where(
            Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]), ~just_queued)) or 0

    def wait_settled(self, seconds: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            try:
                if self.settled():
                    break
            except Exception:  # noqa: BLE001 - the database may still be coming back
                pass
            time.sleep(0.25)
        return time.monotonic() - started

    def outcome(self, recovery_seconds: float = 0.0) -> Outcome:
        from registry.extensions import db
        from registry.models import Job, Work, WorkStatus

        result = Outcome(acknowledged=len(self.numbers), recovery_seconds=recovery_seconds)
        with self.app.app_context():
            works = {w.registration_number: w for w in db.session.scalars(
                db.select(Work).where(Work.registration_number.in_(self.numbers)))}
            for number in self.numbers:
                work = works.get(number)
                if work is None:
                    result.lost += 1
                elif work.status in (WorkStatus.REGISTERED, WorkStatus.CONFLICT):
                    result.registered += 1
                elif work.status == WorkStatus.FAILED:
                    job = db.session.scalar(db.select(Job).where(Job.work_id == work.id)
                                            .order_by(Job.id.desc()).limit(1))
                    if job is not None and job.error:
                        result.failed += 1
                        result.reasons[job.error] += 1
                    else:
                        result.stuck += 1
                else:
                    result.stuck += 1
            result.stuck = max(result.stuck, self.unfinished_jobs())
            from datetime import UTC, datetime

            from registry.services import receipts

            report = receipts.monitor(self.app.extensions["tamga.settings"], datetime.now(UTC))
            result.receipts_breached = report.breaches
            db.session.remove()  # SQLite: release the write lock before the ledger check
        result.ledger_ok, result.ledger_problem = self.ledger_valid()
        return result

    def ledger_valid(self, wait: float = 10.0) -> tuple[bool, str | None]:
        """What ``flask ledger verify`` checks (with one checkpoint per interval not every
        size has one), and that a signed checkpoint covers every entry: the workers'
        periodic task signs one within the interval, so wait a little for it."""
        from sqlalchemy.exc import OperationalError

        from registry.core.ledger import store
        from registry.extensions import db

        settings = self.app.extensions["tamga.settings"]
        deadline = time.monotonic() + wait
        while True:
            with self.app.app_context():
                try:
                    conn = db.session.connection()
                    vkeys = ([k["vkey"] for k in store.published_keys(conn)]
                             or settings.keyring.vkeys())
                    report = store.verify_ledger(
                        conn, vkeys, origin=settings.ledger_origin,
                        every_size_checkpointed=self.checkpoint_interval == 0)
                    size = store.tree_size(conn)
                    latest = store.latest_checkpoint(conn)
                except OperationalError:  # SQLite: a worker holds the write lock a moment
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.25)
                    continue
                finally:
                    db.session.remove()
            covered = latest.tree_size if latest is not None else 0
            if not report.ok:
                return False, report.first_problem
            if covered == size:
                return True, None
            if time.monotonic() > deadline:
                return False, f"no signed checkpoint covers entries {covered}..{size - 1}"
            time.sleep(0.25)

    def terminate_database_connections(self) -> int:
        """PostgreSQL: end every other connection to this database (the web's and the
        workers'), as a restart of the server would."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        try:
            with engine.begin() as conn:
                return len(conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
        finally:
            engine.dispose()

    def close(self) -> None:
        from registry.extensions import db

        self.stop_workers()
        with self.app.app_context():
            db.engine.dispose()


class WorkerProcess:
    """``flask worker`` in a process of its own."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen([FLASK, "--app", "app", "worker"], cwd=PROJECT_ROOT,
                                        env=self.env, stdout=out, stderr=subprocess.STDOUT)
        out.close()

    def kill9(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.process = None


def wait_for_running_job(site: Site, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if site.job_states().get("running"):
            return True
        time.sleep(0.05)
    return False
