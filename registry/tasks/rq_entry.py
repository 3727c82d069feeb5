"""What an RQ worker runs: a job by id, inside the app the worker was started with."""

from __future__ import annotations

from flask import Flask

_app: Flask | None = None


def bind(app: Flask) -> None:
    """``flask worker`` binds its own app so jobs run with the same configuration."""
    global _app
    _app = app


def _get_app() -> Flask:
    global _app
    if _app is None:
        from registry import create_app

        _app = create_app()
    return _app


def run(job_id: int) -> str | None:
    from registry.extensions import db
    from registry.services import jobs

    with _get_app().app_context():
        try:
            status = jobs.run_job(job_id)
            return status.value if status else None
        finally:
            db.session.remove()
