"""The application keeps a copy of the audio indexes' key counts per process
(``TAMGA_KEY_COUNTS_REFRESH``), off in tests unless a test asks for it."""

from __future__ import annotations

import time
from pathlib import Path

from registry import create_app
from registry.core import audio_peaks
from registry.core.matching import key_counts
from registry.extensions import db
from registry.services.lookup import reading
from tests.conftest import _app_config


def _copy_after(app, seconds: float):
    """The copy a lookup's connection sees (on SQLite lookups read through an
    engine of their own, on the same file), waiting up to ``seconds`` for it."""
    with app.app_context():
        deadline = time.monotonic() + seconds
        while True:
            with reading() as conn:
                found = key_counts.counts_for(conn, "audio_peak_postings")
            if found is not None or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def test_the_copy_is_loaded_when_the_setting_asks_for_it(database_url: str, tmp_path: Path):
    config = _app_config(database_url, tmp_path / "instance") | {"TAMGA_KEY_COUNTS_REFRESH": 60}
    app = create_app(config)
    try:
        counts = _copy_after(app, 30)
        assert counts is not None and counts.size == audio_peaks.N_KEYS
    finally:
        with app.app_context():
            key_counts.disable(db.engine)
            db.engine.dispose()


def test_tests_read_the_counts_from_the_database(app):
    assert _copy_after(app, 0.5) is None
