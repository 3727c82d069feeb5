"""``flask backup create DIR`` and ``flask backup restore DIR`` (issue 13, item 6): the
round trip into an empty instance on the test's database (SQLite by default, PostgreSQL
when ``DATABASE_URL`` says so: the restore then goes into a new database of its own).
After the restore the ledger verifies, a certificate issued before still verifies, and
a lookup still finds the works."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from registry.core.tamga_verify import verify_certificate
from registry.extensions import db
from tests.conftest import Accounts, EnglishClient, _app_config
from tests.registration import register_form, run_jobs


@pytest.fixture
def empty_database(database_url, tmp_path):
    """A database with no tables: a new SQLite file, or a new PostgreSQL database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'tamga.db'}"
        return
    name = f"{url.database}_restore"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _instance(database_url: str, folder):
    from registry import create_app

    app = create_app(_app_config(database_url, folder))
    app.test_client_class = EnglishClient
    return app


def test_backup_round_trip_into_an_empty_instance(app, accounts, media, empty_database,
                                                 tmp_path):
    accounts.create()
    accounts.login()
    numbers = []
    for seed in (301, 302):
        numbers.append(register_form(accounts.client, media.picture(seed)))
    run_jobs(app)
    certificate = accounts.client.get(f"/w/{numbers[0]}/certificate.pdf")
    assert certificate.status_code == 200
    source_keys = app.extensions["tamga.settings"].keyring.vkeys()

    folder = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(folder)])
    assert result.exit_code == 0, result.output
    assert "2 works, 2 ledger entries" in result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "tamga-backup/1"
    assert manifest["missing_from_store"] == []
    assert any(name.startswith("keys/") for name in manifest["files"])
    assert sum(name.startswith("storage/") for name in manifest["files"]) >= 2

    # A new folder each time; the backup of a live registry can be taken again.
    again = app.test_cli_runner().invoke(args=["backup", "create", str(folder)])
    assert again.exit_code == 1 and "not empty" in again.output

    restored = _instance(empty_database, tmp_path / "restored")
    fresh_key = restored.extensions["tamga.settings"].keyring.vkeys()
    assert fresh_key != source_keys  # a new instance made a key of its own at start
    result = restored.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 0, result.output
    assert "The restored ledger verifies: 2 entries" in result.output
    assert "moved to" in result.output
    with restored.app_context():
        db.engine.dispose()
    restored = _instance(empty_database, tmp_path / "restored")  # restarted, as it says
    try:
        assert restored.extensions["tamga.settings"].keyring.vkeys() == source_keys
        runner = restored.test_cli_runner()
        verify = runner.invoke(args=["ledger", "verify"])
        assert verify.exit_code == 0 and "The ledger is consistent." in verify.output
        check = runner.invoke(args=["storage", "check"])
        assert check.exit_code == 0 and "0 orphans, 0 missing" in check.output
        monitor = runner.invoke(args=["ledger", "monitor"])
        assert monitor.exit_code == 0 and "2 honoured" in monitor.output

        # A certificate issued before the backup verifies against the restored keys.
        checks = verify_certificate(certificate.data, restored.extensions[
            "tamga.settings"].keyring.vkeys())
        assert all(c.ok for c in checks), checks

        client = restored.test_client()
        for seed, number in zip((301, 302), numbers, strict=True):
            found = client.post("/api/v1/lookup", content_type="multipart/form-data", data={
                "file": (io.BytesIO(media.picture(seed).read_bytes()), "query.jpg")})
            assert found.status_code == 200
            assert found.get_json()["matches"][0]["registration_number"] == number
        assert client.get(f"/w/{numbers[1]}/proof.json").status_code == 200
        again = Accounts(client, restored)
        assert again.login().status_code == 302  # the accounts came back too
        original = client.get(f"/works/{numbers[0]}/receipt.json")
        assert original.status_code == 200
    finally:
        with restored.app_context():
            db.engine.dispose()


def test_restore_refuses_a_damaged_backup_and_a_database_in_use(app, accounts, media,
                                                                empty_database, tmp_path):
    accounts.create()
    folder = tmp_path / "backup"
    assert app.test_cli_runner().invoke(args=["backup", "create", str(folder)]).exit_code == 0

    # Into the source itself: its database holds tables.
    refused = app.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert refused.exit_code == 1 and "already holds tables" in refused.output

    # A changed key file is caught before anything is written.
    key = next(p for p in (folder / "keys").rglob("*") if p.is_file())
    key.write_bytes(key.read_bytes() + b"x")
    target = _instance(empty_database, tmp_path / "restored")
    try:
        store = target.extensions["tamga.settings"].store.root
        damaged = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
        assert damaged.exit_code == 1 and "differs from its checksum" in damaged.output
        assert not any(p.is_file() for p in store.parent.rglob("*"))
        with target.app_context():
            from sqlalchemy import inspect

            assert inspect(db.engine).get_table_names() == []
            db.engine.dispose()
        no_backup = target.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path)])
        assert no_backup.exit_code == 1 and "not a Tamga backup" in no_backup.output
    finally:
        with target.app_context():
            db.engine.dispose()
