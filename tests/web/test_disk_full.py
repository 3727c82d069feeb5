"""A full disk: 507 with a message in the user's language, the job's reason "storage
full", no partial file anywhere; ``flask storage check`` finds and repairs leftovers.

The full-disk tests put the storage on a small tmpfs of their own (root only: they
are skipped with the reason otherwise); the database stays where it is."""

from __future__ import annotations

import io
import os
import subprocess
import time
from pathlib import Path

import pytest

from registry.extensions import db
from registry.models import Job, JobStatus, Work, WorkStatus
from tests.conftest import Accounts, EnglishClient, _app_config
from tests.registration import form_data, register_form


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """Fill the disk until only about ``leave`` bytes are free."""
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    filler = disk / "filler"
    with open(filler, "ab") as out:
        out.write(b"\0" * max(free - leave, 0))
    return filler


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "filler")


@pytest.fixture
def disk_app(small_disk, database_url, tmp_path):
    from registry import create_app

    app = create_app({**_app_config(database_url, tmp_path / "instance"),
                      "TAMGA_STORAGE_DIR": str(small_disk / "storage"), "TAMGA_WORKER": "off",
                      "TAMGA_JOB_RETRY_SECONDS": 60})
    app.test_client_class = EnglishClient
    yield app
    with app.app_context():
        db.engine.dispose()


def test_upload_on_a_full_disk_is_507_in_the_users_language_and_leaves_nothing(
        disk_app, small_disk):
    accounts = Accounts(disk_app.test_client(), disk_app)
    accounts.create()
    accounts.login()
    _fill(small_disk, 64 * 1024)
    big = os.urandom(400 * 1024)
    response = accounts.client.post(
        "/works/new", data=form_data(file=(io.BytesIO(big), "photo.png")),
        content_type="multipart/form-data", headers={"Accept-Language": "ru"})
    assert response.status_code == 507
    assert "Хранилище реестра заполнено" in response.get_data(as_text=True)
    assert _files(small_disk) == []  # no partial upload, no .part file
    with disk_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Work)) == 0
        db.session.remove()


def test_api_upload_on_a_full_disk_is_507_json(disk_app, small_disk):
    from registry.services import tokens

    accounts = Accounts(disk_app.test_client(), disk_app)
    user_id = accounts.create()
    with disk_app.app_context():
        from registry.models import User

        token = tokens.create_token(db.session.get(User, user_id), "test").secret
        db.session.commit()
    _fill(small_disk, 64 * 1024)
    response = accounts.client.post(
        "/api/v1/works", headers={"Authorization": f"Bearer {token}"},
        data={"title": "Steppe", "work_type": "photograph",
              "file": (io.BytesIO(os.urandom(400 * 1024)), "steppe.png")},
        content_type="multipart/form-data")
    assert response.status_code == 507
    assert response.get_json()["error"]["code"] == "storage_full"
    assert _files(small_disk) == []


def test_a_job_that_runs_out_of_disk_says_storage_full_and_leaves_no_part_file(
        disk_app, small_disk, media):
    from registry.tasks import runner_of

    accounts = Accounts(disk_app.test_client(), disk_app)
    accounts.create()
    accounts.login()
    number = register_form(accounts.client, media.picture(51))
    stored = _files(small_disk)
    _fill(small_disk, 0)  # the thumbnail the job writes no longer fits
    with disk_app.app_context():
        job_id = db.session.scalar(db.select(Job.id))
        assert runner_of(disk_app).run_one(job_id) == JobStatus.QUEUED  # retried later
        job = db.session.get(Job, job_id)
        assert job.error_code == "storage_full" and job.error == "storage full"
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        assert work.status == WorkStatus.PROCESSING and work.ledger_index is None
        db.session.remove()
    assert _files(small_disk) == stored  # no .part file of the thumbnail


def test_storage_check_lists_and_repairs_orphans_leftovers_and_missing(app, runner, accounts,
                                                                        media):
    app.config["TAMGA_WORKER"] = "sync"
    accounts.create()
    accounts.login()
    number = register_form(accounts.client, media.picture(52))
    settings = app.extensions["tamga.settings"]
    store_root = settings.store.root
    orphan = store_root / "ab" / "cd" / ("ab" + "cd" + "0" * 60 + ".png")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"a file of a registration that rolled back")
    part = store_root / "ab" / "cd" / ".x.png.123.part"
    part.write_bytes(b"half")
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    upload = settings.upload_dir / "upload-dead.bin"
    upload.write_bytes(b"a killed worker's upload")
    old = time.time() - 7200
    for path in (orphan, part, upload):
        os.utime(path, (old, old))

    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code == 0, result.output
    assert f"orphan    {orphan.relative_to(store_root).as_posix()}" in result.output
    assert "1 orphans, 0 missing, 2 leftovers" in result.output
    assert orphan.exists() and part.exists() and upload.exists()

    result = runner.invoke(args=["storage", "check", "--repair"])
    assert "3 removed" in result.output
    assert not orphan.exists() and not part.exists() and not upload.exists()
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        assert settings.store.exists(work.main_file.storage_key)  # kept: a row refers to it
        settings.store.path(work.main_file.storage_key).unlink()
        db.session.remove()
    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code != 0 and f"(work {number})" in result.output


def test_storage_check_keeps_key_frames_and_comparison_pictures(app, runner, accounts, media):
    """Video key frames and the stills of a dispute's comparison are stored files that
    rows refer to from JSON: the hourly sweep must not take them for orphans."""
    import hashlib

    from registry.core.storage import keys_in

    app.config["TAMGA_WORKER"] = "sync"
    accounts.create()
    accounts.login()
    number = register_form(accounts.client, media.picture(53))
    settings = app.extensions["tamga.settings"]
    frame, still = b"a key frame", b"a comparison still"
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        key = settings.store.put_bytes(frame, hashlib.sha256(frame).hexdigest(), "jpg")
        work.key_frames = [{"t": 1.5, "key": key}]
        db.session.commit()
    still_key = settings.store.put_bytes(still, hashlib.sha256(still).hexdigest(), "jpg")
    comparison = {"video": {"stills": [[still_key, key]]}, "query": {"thumbnail_key": None}}
    assert list(keys_in(comparison)) == [still_key, key]
    old = time.time() - 7200
    for k in (key, still_key):
        os.utime(settings.store.path(k), (old, old))

    result = runner.invoke(args=["storage", "check", "--repair"])
    assert settings.store.exists(key)  # the key frame stays
    assert f"orphan    {still_key}" in result.output  # no dispute refers to this one
