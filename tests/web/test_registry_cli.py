"""`flask index rebuild`, `flask ledger verify`, `flask keys rotate|list`, `flask worker`."""

from __future__ import annotations

from sqlalchemy import text

from registry.extensions import db
from registry.models import Work, WorkStatus
from tests.conftest import is_postgres
from tests.registration import register_form


def _register_two(app, accounts, media) -> list[str]:
    app.config["TAMGA_WORKER"] = "sync"
    accounts.create()
    accounts.login()
    return [register_form(accounts.client, media.picture(41)),
            register_form(accounts.client, media.song("song_c"), work_type="sound_recording")]


def test_index_rebuild_recreates_both_indexes(app, accounts, media, runner):
    _register_two(app, accounts, media)
    result = runner.invoke(args=["index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "audio: 1 indexed" in result.output and "image: 1 indexed" in result.output
    assert "image_features: 1 indexed" in result.output
    assert "audio_peaks: 1 indexed" in result.output and "audio_pairs: 1 indexed" in result.output
    assert "search: 2 works read" in result.output
    with app.app_context():
        pairs = db.session.execute(text("SELECT count(*) FROM audio_pair_postings")).scalar()
    assert pairs and pairs > 100


def test_index_rebuild_extracts_features_of_pictures_indexed_before_them(app, accounts, media,
                                                                        runner):
    """Pictures registered before migration image_01 have hashes but no keypoints:
    the rebuild extracts them from the stored file."""
    from registry.core.matching import feature_index

    _register_two(app, accounts, media)
    with app.app_context():
        conn = db.session.connection()
        [work_id] = conn.execute(feature_index.image_features.select()).scalars().all()
        feature_index.remove_features(conn, work_id)
        db.session.commit()
    result = runner.invoke(args=["index", "rebuild", "--only", "image_features"])
    assert result.exit_code == 0, result.output
    assert "image_features: 1 indexed" in result.output
    with app.app_context():
        assert feature_index.stored_features(db.session.connection(), work_id) is not None
        db.session.rollback()


def test_index_rebuild_extracts_again_keypoints_stored_without_geometry(app, accounts, media,
                                                                        runner):
    """Keypoints stored before migration image_02 (format 1: no orientation, no
    size) vote as plain votes; the rebuild extracts them again from the file."""
    from registry.core.image_features import LocalFeatures
    from registry.core.matching import feature_index

    _register_two(app, accounts, media)
    with app.app_context():
        conn = db.session.connection()
        [work_id] = conn.execute(feature_index.image_features.select()).scalars().all()
        f = feature_index.stored_features(conn, work_id)
        assert f is not None and f.has_geometry
        old = LocalFeatures(f.width, f.height, f.points, f.descriptors, f.original_width,
                            f.original_height)
        feature_index.add_features(conn, work_id, old)
        assert feature_index.works_without_geometry(conn) == [work_id]
        db.session.commit()
    result = runner.invoke(args=["index", "rebuild", "--only", "image_features"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        conn = db.session.connection()
        assert feature_index.works_without_geometry(conn) == []
        back = feature_index.stored_features(conn, work_id)
        assert back is not None and back.has_geometry
        db.session.rollback()


def test_index_rebuild_search_alone_refolds_the_documents(app, accounts, media, runner):
    _register_two(app, accounts, media)
    result = runner.invoke(args=["index", "rebuild", "--only", "search"])
    assert result.exit_code == 0, result.output
    assert "search: 2 works read" in result.output and "audio" not in result.output


def test_ledger_verify_passes_then_detects_an_edited_entry(app, accounts, media, runner):
    _register_two(app, accounts, media)
    ok = runner.invoke(args=["ledger", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "2 entries" in ok.output and "consistent" in ok.output
    with app.app_context():
        if is_postgres():
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
            edited = "convert_to(replace(convert_from(entry, 'UTF8'), 'KZ-', 'XX-'), 'UTF8')"
        else:
            db.session.execute(text("DROP TRIGGER ledger_entries_no_update"))
            edited = "CAST(replace(CAST(entry AS TEXT), 'KZ-', 'XX-') AS BLOB)"
        db.session.execute(text(f"UPDATE ledger_entries SET entry = {edited} WHERE leaf_index = 0"))
        db.session.commit()
    bad = runner.invoke(args=["ledger", "verify"])
    assert bad.exit_code != 0
    assert "inconsistent" in bad.output


def test_ledger_rows_cannot_be_changed_through_the_database(app, accounts, media):
    import pytest
    from sqlalchemy.exc import DBAPIError

    _register_two(app, accounts, media)
    with app.app_context():
        for statement in ("UPDATE ledger_entries SET kind = 'x'", "DELETE FROM ledger_entries"):
            with pytest.raises(DBAPIError):
                db.session.execute(text(statement))
            db.session.rollback()


def test_keys_rotate_keeps_old_key_published_and_new_entries_verify(app, accounts, media, runner):
    _register_two(app, accounts, media)
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    listing = runner.invoke(args=["keys", "list"])
    assert len(listing.output.strip().splitlines()) == 2
    assert listing.output.count("→ now") == 1
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_worker_burst_runs_queued_jobs(app, accounts, media, runner):
    app.config["TAMGA_WORKER"] = "off"
    accounts.create()
    accounts.login()
    number = register_form(accounts.client, media.picture(42))
    app.config["TAMGA_WORKER"] = "thread"
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        assert work.status == WorkStatus.REGISTERED


def test_index_rebuild_hashes_the_corner_quarters_of_pictures_indexed_before_them(
        app, accounts, media, runner):
    """Pictures indexed before the corner-quarter search windows: the rebuild hashes
    the quarters from the stored file; the work's fingerprint digest stays."""
    from registry.core.image import ImageHashes
    from registry.core.matching import image_index

    _register_two(app, accounts, media)
    with app.app_context():
        conn = db.session.connection()
        [work_id] = conn.execute(image_index.image_works.select()).scalars().all()
        new = image_index.registered_hashes(conn, work_id)
        assert new is not None and new.search_windows
        old = ImageHashes.from_dict(new.to_dict())  # as stored before the search windows
        image_index.add_image(conn, work_id, old)
        assert image_index.works_without_search_windows(conn) == [work_id]
        digest = db.session.get(Work, work_id).fingerprint_digest
        db.session.commit()
    result = runner.invoke(args=["index", "rebuild", "--only", "image"])
    assert result.exit_code == 0, result.output
    assert "image: 1 indexed" in result.output
    with app.app_context():
        conn = db.session.connection()
        assert image_index.works_without_search_windows(conn) == []
        assert image_index.registered_hashes(conn, work_id) == new
        assert new.digest() == digest == db.session.get(Work, work_id).fingerprint_digest
        db.session.rollback()
