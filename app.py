"""Entry point for `flask` and gunicorn: `gunicorn app:app`."""

from registry import create_app

app = create_app()
