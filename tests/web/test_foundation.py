"""The application shell: secret key, CSRF, rate limits, languages, time zones, CLI."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

from registry import create_app
from registry.extensions import db
from registry.models.user import Role, User
from tests.conftest import _app_config


def test_secret_key_is_generated_once_with_mode_0600(database_url, tmp_path):
    config = _app_config(database_url, tmp_path / "inst")
    config.pop("SECRET_KEY")
    first = create_app(config)
    key_file = tmp_path / "inst" / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    second = create_app(config)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 64


def test_forms_without_csrf_token_are_rejected(app, accounts):
    app.config["WTF_CSRF_ENABLED"] = True
    accounts.create()
    client = app.test_client()
    response = client.post("/login", data={"email": "aigerim@example.kz",
                                            "password": accounts.password},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert b"The form expired" in response.data
    assert client.post("/language", data={"lang": "ru"}).status_code == 400


def test_csrf_token_from_the_page_is_accepted(app, accounts):
    app.config["WTF_CSRF_ENABLED"] = True
    accounts.create()
    client = app.test_client()
    page = client.get("/login").data.decode()
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"email": "aigerim@example.kz",
                                            "password": accounts.password, "csrf_token": token})
    assert response.status_code == 302


def test_failed_logins_are_limited_per_account_with_translated_429(app, accounts):
    accounts.create()
    app.config["TAMGA_LOGIN_LIMIT_ACCOUNT"] = "3 per minute"
    for _ in range(3):
        assert accounts.login(password="wrong wrong wrong").status_code == 200
    blocked = app.test_client().post(
        "/login", data={"email": "aigerim@example.kz", "password": accounts.password},
        headers={"Accept-Language": "ru"})
    assert blocked.status_code == 429
    assert "Слишком много попыток".encode() in blocked.data
    other = app.test_client().post("/login", data={"email": "someone@example.kz",
                                                   "password": "whatever123"})
    assert other.status_code == 200


def test_failed_logins_are_limited_per_address(app, accounts):
    app.config["TAMGA_LOGIN_LIMIT_ADDRESS"] = "4 per minute"
    for n in range(4):
        accounts.login(f"user{n}@example.kz", password="wrong wrong wrong")
    assert accounts.login("fresh@example.kz").status_code == 429


def test_successful_logins_do_not_count_against_the_limit(app, accounts):
    accounts.create()
    app.config["TAMGA_LOGIN_LIMIT_ACCOUNT"] = "2 per minute"
    for _ in range(4):
        assert accounts.login().status_code == 302
        accounts.logout()


def test_language_from_accept_language_cookie_and_account(client, accounts, app):
    assert "Тіркеңіз".encode() in client.get("/", headers={"Accept-Language": "kk"}).data
    assert "Зарегистрируйте".encode() in client.get(
        "/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).data
    assert b"Register your work" in client.get("/", headers={"Accept-Language": "en"}).data
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE")
    assert "Тіркеңіз".encode() in client.get("/").data  # Kazakh when nothing matches
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    client.post("/language", data={"lang": "ru", "next": "/login"})
    page = client.get("/", headers={"Accept-Language": "en"})
    assert b'lang="ru"' in page.data

    user_id = accounts.create()
    accounts.login()
    client.post("/language", data={"lang": "en"})
    with app.app_context():
        assert db.session.get(User, user_id).locale == "en"
    fresh = app.test_client()
    accounts.client = fresh
    accounts.login()
    assert b'lang="en"' in fresh.get("/", headers={"Accept-Language": "kk"}).data


def test_language_switch_redirects_only_to_local_pages(client):
    response = client.post("/language", data={"lang": "kk", "next": "https://evil.example/"})
    assert response.headers["Location"] in ("/", "http://tamga.test/")
    response = client.post("/language", data={"lang": "kk", "next": "//evil.example/x"})
    assert "evil" not in response.headers["Location"]
    response = client.post("/language", data={"lang": "kk", "next": "/login"})
    assert response.headers["Location"].endswith("/login")


def test_every_page_has_the_language_switcher(client):
    for url in ("/", "/login", "/signup", "/reset", "/no-such-page"):
        page = client.get(url).data.decode()
        assert "Қазақша" in page and "Русский" in page and "English" in page


def test_times_shown_in_almaty_unless_account_picks_another_zone(app, accounts):
    from registry.i18n import local_datetime

    moment = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert "12:00" in local_datetime(moment)  # UTC+5 since March 2024
    user_id = accounts.create()
    with app.app_context():
        db.session.get(User, user_id).timezone = "Europe/Moscow"
        db.session.commit()
    accounts.login()
    page = accounts.client.get("/account/profile", headers={"Accept-Language": "en"})
    assert b"Europe/Moscow" in page.data


def test_dates_and_numbers_follow_the_locale(app):
    from flask_babel import format_decimal

    from registry.i18n import local_datetime

    moment = datetime(2026, 5, 9, 7, 0, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        assert "мая" in local_datetime(moment, "long")
        assert format_decimal(1234567.5) == "1\xa0234\xa0567,5"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert "May" in local_datetime(moment, "long")
        assert format_decimal(1234567.5) == "1,234,567.5"


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/definitely-not-here", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert b"There is nothing at this address" in response.data


def test_cli_creates_and_lists_users(app, runner):
    result = runner.invoke(args=["users", "create", "mod@example.kz", "--moderator",
                                 "--password", "moderation is fun"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "boss@example.kz", "--admin"],
                           input="an admin password\nan admin password\n")
    assert result.exit_code == 0, result.output
    weak = runner.invoke(args=["users", "create", "weak@example.kz", "--password", "123456"])
    assert weak.exit_code != 0 and "at least" in weak.output.lower()
    listing = runner.invoke(args=["users", "list"])
    assert "mod@example.kz\tmoderator\tconfirmed" in listing.output
    assert "boss@example.kz\tadmin\tconfirmed" in listing.output
    with app.app_context():
        boss = db.session.scalar(db.select(User).filter_by(email="boss@example.kz"))
        assert boss.role == Role.ADMIN and boss.is_moderator


def test_sqlite_connections_use_wal_and_memory_mapping(app):
    """The embedded default: WAL for readers beside writers, the file mapped
    into memory for index lookups (the lookup reader engine too)."""
    from registry.services.lookup import _reader

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        for engine in (db.engine, _reader(db.engine.url)):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() > 1 << 30
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_every_optional_float_setting_is_read_from_the_environment(monkeypatch, tmp_path):
    """Both the ledger's and the job runner's float settings arrive (one list, not two)."""
    from registry.config import load_config

    monkeypatch.setenv("TAMGA_CHECKPOINT_INTERVAL", "2.5")
    monkeypatch.setenv("TAMGA_JOB_LEASE_SECONDS", "45")
    config = load_config(tmp_path)
    assert config["TAMGA_CHECKPOINT_INTERVAL"] == 2.5
    assert config["TAMGA_JOB_LEASE_SECONDS"] == 45.0


def test_a_served_app_freezes_its_start_up_objects_and_a_test_app_does_not(database_url,
                                                                           tmp_path):
    """Full garbage collections walked the ~220,000 start-up objects (~100 ms on one
    lookup in eight); a served app moves them out of the collector's reach."""
    import gc

    gc.unfreeze()
    try:
        create_app(_app_config(database_url, tmp_path / "a"))
        assert gc.get_freeze_count() == 0
        create_app(_app_config(database_url, tmp_path / "b") | {"TESTING": False})
        assert gc.get_freeze_count() > 50_000
    finally:
        gc.unfreeze()
