"""Shared fixtures.

``DATABASE_URL`` picks the database the suite runs against (CI runs it once on
SQLite and once on PostgreSQL); unset means temporary SQLite files. The schema
is always built by the Alembic migrations, once per run; each test then gets a
fresh copy (SQLite) or emptied tables (PostgreSQL).
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, make_url, text

FIXTURES = Path(__file__).parent / "fixtures"
CORE_TEST_SCHEMA = "tamga_core_tests"
#: PostgreSQL connection arguments of every engine a core test makes (its own schema).
CORE_CONNECT_ARGS = {"options": f"-csearch_path={CORE_TEST_SCHEMA}"}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def external_database_url() -> str | None:
    """DATABASE_URL, or with pytest-xdist a database of this worker's own beside it."""
    url = os.environ.get("DATABASE_URL") or None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker and url.startswith("postgresql"):
        return _worker_database(url, worker)
    return url


@functools.cache
def _worker_database(url: str, worker: str) -> str:
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                              {"name": name}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def is_postgres() -> bool:
    return (external_database_url() or "").startswith("postgresql")


#: A test that uses one of these touches a database (every other one runs the same
#: code whatever DATABASE_URL says).
DATABASE_FIXTURES = frozenset({"core_engine", "migrated_database", "database_url", "app"})


def pytest_collection_modifyitems(config, items) -> None:
    """``TAMGA_ONLY_DATABASE_TESTS=1`` (CI's second, PostgreSQL run) deselects the tests
    that touch no database: the first run already ran them, on the same code."""
    if os.environ.get("TAMGA_ONLY_DATABASE_TESTS") != "1":
        return
    keep = [item for item in items
            if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))]
    dropped = [item for item in items if item not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


#: scrypt at a test cost: the production cost (``accounts.PASSWORD_METHOD``, N = 32768)
#: takes ~0.12 s a hash, and the suite creates and logs in over a thousand accounts.
#: Only the work factor differs (the same scrypt code runs); tests that measure the
#: cost itself use ``production_password_cost``.
TEST_PASSWORD_METHOD = "scrypt:1024:8:1"


_PRODUCTION: list[str] = []  # accounts.PASSWORD_METHOD as the module pins it


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    from registry.services import accounts

    _PRODUCTION.append(accounts.PASSWORD_METHOD)
    accounts.PASSWORD_METHOD = TEST_PASSWORD_METHOD
    accounts._dummy_hash.cache_clear()
    yield
    accounts.PASSWORD_METHOD = _PRODUCTION[0]


@pytest.fixture
def production_password_cost() -> Iterator[str]:
    """The production scrypt cost for this test (timing tests); yields the method."""
    from registry.services import accounts

    accounts.PASSWORD_METHOD = _PRODUCTION[0]
    accounts._dummy_hash.cache_clear()
    yield _PRODUCTION[0]
    accounts.PASSWORD_METHOD = TEST_PASSWORD_METHOD
    accounts._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, started once per test process; every test
    opens its own context (cookies, storage and viewport are per context), see
    ``tests/browser/conftest.py``'s ``page``."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def core_engine(tmp_path: Path) -> Iterator[Engine]:
    """A bare SQLAlchemy engine for core store tests (no Flask, no app).

    Core tests create only the tables they exercise and drop them afterwards. On
    PostgreSQL they work in a schema of their own, so they never touch the
    application's tables in the same database.
    """
    url = external_database_url()
    if url and is_postgres():
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {CORE_TEST_SCHEMA}"))
        admin.dispose()
        engine = create_engine(url, connect_args=CORE_CONNECT_ARGS)
    else:
        engine = create_engine(f"sqlite:///{tmp_path / 'core.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


# The application ---------------------------------------------------------------

def _app_config(database_url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "TAMGA_STORAGE_DIR": str(instance / "storage"),
        "TAMGA_OUTBOX_DIR": str(instance / "outbox"),
        "SERVER_NAME": "tamga.test",
        "TAMGA_BASE_URL": "http://tamga.test",
        "TAMGA_REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        # A checkpoint at every append, so tests read proofs right after registering;
        # tests of the interval (tests/ledger/) set their own.
        "TAMGA_CHECKPOINT_INTERVAL": 0.0,
    }


def _upgrade(database_url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    from registry import create_app

    app = create_app(_app_config(database_url, instance))
    with app.app_context():
        upgrade()
        from registry.extensions import db

        db.engine.dispose()


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """The URL of a database built by the migrations (a template file on SQLite)."""
    instance = tmp_path_factory.mktemp("migrate-instance")
    url = external_database_url()
    if url:
        _reset_postgres_schema(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
    _upgrade(url, instance)
    return url


def _empty_postgres_tables(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"
        )).scalars().all()
        if tables:
            # The ledger's append-only triggers refuse TRUNCATE; tests may bypass them.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    if migrated_database.startswith("sqlite:///"):
        copy = tmp_path / "tamga.db"
        shutil.copyfile(migrated_database.removeprefix("sqlite:///"), copy)
        return f"sqlite:///{copy}"
    _empty_postgres_tables(migrated_database)
    return migrated_database


class EnglishClient(FlaskClient):
    """A test client whose browser asks for English unless a test says otherwise."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")


@pytest.fixture
def app(database_url: str, tmp_path: Path):
    from registry import create_app
    from registry.extensions import db

    application = create_app(_app_config(database_url, tmp_path / "instance"))
    application.test_client_class = EnglishClient
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


#: The authenticator secret the helper gives moderators and administrators, who must use
#: two-factor sign-in (issue 12): their logins pass the second step with a real code.
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class Accounts:
    """Small helper in the spirit of flaskr's ``auth`` fixture."""

    password = "correct horse battery"

    def __init__(self, client, app):
        self.client = client
        self.app = app

    def create(self, email: str = "aigerim@example.kz", *, name: str = "Aigerim",
               confirmed: bool = True, role: str = "creator"):
        from registry.extensions import db
        from registry.models.user import Role
        from registry.services import accounts

        with self.app.app_context():
            user = accounts.register_account(email, self.password, name, role=Role(role))
            if confirmed:
                accounts.confirm_email_now(user)
            if user.is_moderator:
                from datetime import UTC, datetime

                user.totp_secret = STAFF_TOTP_SECRET
                user.totp_enabled_at = datetime.now(UTC)
            db.session.commit()
            return user.id

    def login(self, email: str = "aigerim@example.kz", password: str | None = None,
              remember: bool = False):
        """Log in; an account with two-factor sign-in on gets the current code from
        :data:`STAFF_TOTP_SECRET` (tests that set their own secret do the step themselves)."""
        data = {"email": email, "password": password or self.password}
        if remember:
            data["remember"] = "y"
        response = self.client.post("/login", data=data)
        if response.status_code == 302 and response.headers["Location"].endswith(
                "/login/two-factor"):
            response = self.second_step(email)
        return response

    def second_step(self, email: str):
        import time

        from registry.core import totp
        from registry.extensions import db
        from registry.services import accounts

        with self.app.app_context():
            user = accounts.find_user_by_email(email)
            if user.totp_secret != STAFF_TOTP_SECRET:
                raise AssertionError(f"{email} has its own two-factor secret")
            user.totp_last_step = None  # as if the next 30-second window had come
            db.session.commit()
        return self.client.post("/login/two-factor",
                                data={"code": totp.code_at(STAFF_TOTP_SECRET, time.time())})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def accounts(client, app) -> Accounts:
    return Accounts(client, app)


@dataclass
class ApiAccount:
    """A confirmed account with an API token (``headers`` for ``Authorization``)."""

    user_id: int
    token: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_account(app, accounts):
    """Create a (confirmed) account with an API token."""

    def make(email: str = "aigerim@example.kz", name: str = "Aigerim",
             confirmed: bool = True) -> ApiAccount:
        from registry.extensions import db
        from registry.models.user import User
        from registry.services import tokens

        user_id = accounts.create(email, name=name, confirmed=confirmed)
        with app.app_context():
            created = tokens.create_token(db.session.get(User, user_id), "tests")
            db.session.commit()
            return ApiAccount(user_id, created.secret, email)

    return make


@pytest.fixture
def api_account(make_account) -> ApiAccount:
    return make_account()


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    """The session's test media (tests/media.py); how to register them: tests/registration.py."""
    from tests.media import MediaFactory

    return MediaFactory(tmp_path_factory.mktemp("media"))
