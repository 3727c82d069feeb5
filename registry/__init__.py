"""Tamga: a copyright registry for creators in Central Asia."""

from __future__ import annotations

import gc
import os

from registry.cpu import numpy_environment  # imports no numpy

# Before anything imports numpy: one BLAS thread, and no AVX-512 sorts on processors
# where they are slow (registry/cpu.py). An explicit setting wins.
os.environ.update(numpy_environment(os.environ))

from collections.abc import Mapping  # noqa: E402
from pathlib import Path
from typing import Any

from flask import Flask

from registry.config import PROJECT_ROOT, instance_path, load_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web application; ``config`` overrides the environment's settings."""
    instance = (config or {}).get("INSTANCE_PATH") or instance_path()
    app = Flask(__name__, instance_path=str(instance), static_folder=str(PROJECT_ROOT / "static"))
    init_config(app, config)
    from registry import auth, cli, i18n, security, tasks, web
    from registry.web import errors

    security.init_security(app)
    init_extensions(app)
    init_registry(app)
    auth.init_auth(app)
    i18n.init_i18n(app)
    web.init_blueprints(app)
    errors.init_errors(app)
    cli.init_cli(app)
    tasks.init_tasks(app)
    init_gc(app)
    return app


def init_gc(app: Flask) -> None:
    """Move the objects built at start-up (modules, routes, templates, mappers:
    ~220,000) out of the cyclic garbage collector's reach (``gc.freeze``).

    They live as long as the process, yet every full collection walked all of them:
    ~100 ms, falling on one lookup in eight or so, because a lookup allocates tens
    of thousands of rows (a miss at 10,000 recordings took 270-280 ms instead of
    170 ms on those; benchmarks/README_audio.md, "Session 13"). Tests build many
    applications in one process, so they keep the default (nothing would collect
    the cycles of the apps they drop)."""
    if not app.testing:
        gc.collect()
        gc.freeze()


def init_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(load_config(Path(app.instance_path)))
    if overrides:
        app.config.from_mapping(overrides)


def init_registry(app: Flask) -> None:
    """The registry's own settings, signing keys and storage, as plain objects."""
    from registry.services.settings import RegistrySettings

    settings = RegistrySettings.from_config(app.config, app.instance_path)
    app.extensions["tamga.settings"] = settings


def configure_sqlite(engine) -> None:
    """The embedded default: the pragmas of ``registry.core.sql.SQLITE_PRAGMAS``,
    and BEGIN IMMEDIATE so that two writers queue instead of failing when one of
    them read first."""
    if engine.dialect.name != "sqlite":
        return
    from registry.core.ledger.store import use_immediate_transactions
    from registry.core.sql import use_sqlite_pragmas

    use_sqlite_pragmas(engine)
    use_immediate_transactions(engine)


def init_key_counts(app: Flask, engine) -> None:
    """Each process keeps a copy of the audio indexes' key counts (a lookup's
    rarest keys are picked from it instead of ~20,000 reads), loaded when the first
    lookup needs it (not at start: a ``flask`` command would only wait for it), and
    refreshed every ``TAMGA_KEY_COUNTS_REFRESH`` seconds; 0 turns it off (the default in tests: a
    loading thread per test application would only add noise)."""
    from registry.core.audio_query import KEY_SPACES
    from registry.core.matching import key_counts

    refresh = app.config.get("TAMGA_KEY_COUNTS_REFRESH", 0 if app.testing else 300)
    if refresh and refresh > 0:
        key_counts.enable(engine, KEY_SPACES, float(refresh), start=False)


def init_extensions(app: Flask) -> None:
    from registry.extensions import csrf, db, limiter, migrate
    from registry.models import migration_include_object

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True, compare_type=True, include_object=migration_include_object,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
        init_key_counts(app, db.engine)
    from registry.services.mail import OutboxMailer, mailer_from_config

    app.extensions["tamga.mailer"] = mailer_from_config(app.config)
    app.extensions["tamga.outbox"] = OutboxMailer(app.extensions["tamga.mailer"])
