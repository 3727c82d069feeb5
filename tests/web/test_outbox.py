"""Side effects after commit: mail is an outbox row (a ``mail.send`` job) written in the
request's transaction and delivered by the job runner after the commit."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from registry.extensions import db
from registry.models import Job, JobStatus, User
from tests.conftest import EnglishClient, _app_config
from tests.web.test_accounts import signup


def _eml_files(app) -> list[Path]:
    return sorted(Path(app.config["TAMGA_OUTBOX_DIR"]).glob("*.eml"))


def _jobs(app) -> list[tuple[str, JobStatus]]:
    with app.app_context():
        rows = [(j.kind, j.status) for j in db.session.scalars(db.select(Job).order_by(Job.id))]
        db.session.remove()
        return rows


def test_a_rolled_back_registration_sends_no_mail_and_queues_no_job(app, accounts, media):
    from registry.services import emails, works
    from registry.services.metadata_input import metadata_from_fields
    from registry.tasks import runner_of

    app.config["TAMGA_WORKER"] = "sync"  # anything committed would run at once
    user_id = accounts.create()
    with app.app_context():
        user = db.session.get(User, user_id)
        meta = metadata_from_fields({"title": "Steppe", "work_type": "photograph"}, user, None)
        with open(media.picture(41), "rb") as stream:
            work = works.register_work(user, works.Upload(stream, "steppe.png"), meta,
                                       settings=app.extensions["tamga.settings"])
        emails.send_confirmation(app.extensions["tamga.outbox"], user, "https://x/confirm/t")
        assert {j.kind for j in db.session.scalars(db.select(Job))} == {
            "process_registration", "mail.send"}  # queued in the transaction ...
        assert work.id is not None
        db.session.rollback()  # ... which fails
        db.session.remove()
    runner_of(app).run_inline()
    assert _jobs(app) == [] and _eml_files(app) == []


def test_mail_leaves_only_after_the_commit(client, app):
    from registry.tasks import runner_of

    app.config["TAMGA_WORKER"] = "off"
    assert signup(client).status_code == 302
    assert _jobs(app) == [("mail.send", JobStatus.QUEUED)]
    assert _eml_files(app) == []  # nothing was written during the request
    runner_of(app).run_inline()
    assert _jobs(app) == [("mail.send", JobStatus.DONE)]
    (message,) = _eml_files(app)
    assert b"To: dana@example.kz" in message.read_bytes()


class SilentSMTPServer:
    """Accepts connections and never answers: an SMTP server that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self) -> None:
        self._stop = True
        self.thread.join(timeout=2)
        for conn in self.held:
            conn.close()
        self.sock.close()


def test_a_dead_smtp_server_delays_no_request(database_url, tmp_path):
    from registry import create_app
    from registry.tasks import runner_of

    smtp = SilentSMTPServer()
    app = create_app({**_app_config(database_url, tmp_path / "instance"),
                      "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
                      "TAMGA_SMTP_TIMEOUT": 8, "TAMGA_WORKER": "off",
                      "TAMGA_JOB_RETRY_SECONDS": 30})
    app.test_client_class = EnglishClient
    try:
        client = app.test_client()
        for address, name in (("dana@example.kz", "Dana"), ("erlan@example.kz", "Erlan")):
            started = time.monotonic()
            assert signup(client, address, name=name).status_code == 302
            assert time.monotonic() - started < 6  # well under the SMTP timeout
        with app.app_context():
            runner = runner_of(app)
            job_id = db.session.scalar(db.select(Job.id).order_by(Job.id).limit(1))
            db.session.remove()
            started = time.monotonic()
            assert runner.run_one(job_id) == JobStatus.QUEUED  # to be retried later
            assert time.monotonic() - started >= 7.5  # the worker, not a request, waited
            job = db.session.get(Job, job_id)
            assert job.error_code == "io_error" and "timed out" in job.error
            assert job.run_after is not None and job.attempts == 1
            db.session.remove()
    finally:
        smtp.close()
        with app.app_context():
            db.engine.dispose()
