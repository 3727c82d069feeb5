"""Registering works through the website, and what owners do with them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry.extensions import db
from registry.models import Job, JobStatus, Work, WorkStatus
from tests.registration import form_data, number_from, post_form, register_form


@pytest.fixture
def creator(app, accounts):
    app.config["TAMGA_WORKER"] = "sync"
    accounts.create()
    accounts.login()
    return accounts


def work_by_number(app, number: str) -> Work:
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        db.session.expunge_all()
        return work


def test_registering_an_image_gives_number_time_iscc_and_ledger_entry(creator, client, app, media):
    response = post_form(client, media.picture(1))
    assert response.status_code == 302
    number = number_from(response)
    assert re.fullmatch(r"KZ-20\d\d-000001", number)
    page = client.get(f"/works/{number}")
    assert page.status_code == 200
    assert b"Dombra at dawn" in page.data
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        assert work.status == WorkStatus.REGISTERED
        assert work.iscc.startswith("ISCC:")
        assert work.ledger_index == 0
        assert work.width == 640 and work.height == 480
        stored = Path(app.config["TAMGA_STORAGE_DIR"]) / "files" / work.main_file.storage_key
        assert stored.exists()
        assert work.main_file.storage_key.startswith(
            f"{work.main_file.sha256[:2]}/{work.main_file.sha256[2:4]}/{work.main_file.sha256}")


def test_registering_audio(creator, client, app, media):
    response = post_form(client, media.song("song_a"), title="Көктем", work_type="sound_recording",
                         **{"authors-0-role": "performer"})
    assert response.status_code == 302
    work = work_by_number(app, number_from(response))
    assert work.status == WorkStatus.REGISTERED
    assert work.media_kind == "audio" and 40 < work.duration_s < 60
    assert work.fingerprint_digest and work.iscc


def test_same_account_same_bytes_is_told_it_is_already_registered(creator, client, media):
    first = post_form(client, media.picture(2))
    again = post_form(client, media.picture(2), title="Another title")
    assert again.status_code == 409
    assert number_from(first).encode() in again.data
    assert b"already registered" in again.data


def test_another_account_registering_the_same_or_similar_work_is_a_conflict(
        creator, client, app, media, accounts):
    original = register_form(client, media.picture(3))
    song = register_form(client, media.song("song_b"), work_type="sound_recording")
    other = app.test_client()
    accounts.client = other
    accounts.create("copycat@example.kz", name="Copycat")
    accounts.login("copycat@example.kz")
    exact = register_form(other, media.picture(3), title="Mine now")
    clip = register_form(other, media.clip("song_b", 10, 20), work_type="sound_recording",
                         title="Clip")
    with app.app_context():
        for number, earlier, kind in ((exact, original, "exact"), (clip, song, "audio")):
            work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
            assert work.status == WorkStatus.CONFLICT
            (match,) = [m for m in work.matches if m.is_conflict]
            assert match.other_work.registration_number == earlier
            assert match.kind == kind
        clip_match = db.session.scalar(
            db.select(Work).filter_by(registration_number=clip)).matches[0]
        assert abs(clip_match.details["work_start"] - 10) < 1.5
    page = other.get(f"/works/{clip}")
    assert song.encode() in page.data and b"conflict" in page.data


def test_unsupported_file_is_refused_with_415_and_the_form_keeps_its_entries(creator, client,
                                                                           tmp_path):
    text = tmp_path / "notes.mp3"
    text.write_text("these are my lyrics, not a song\n" * 20)
    response = post_form(client, text, title="Keep this title")
    assert response.status_code == 415
    assert b"plain text" in response.data
    assert b'value="Keep this title"' in response.data


def test_corrupt_and_empty_files_are_refused_with_422(creator, client, tmp_path, media):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(media.picture(4).read_bytes()[:600])
    assert post_form(client, broken).status_code == 422
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert post_form(client, empty).status_code in (400, 422)


def test_too_large_upload_is_refused_with_413(creator, client, app, media):
    app.config["TAMGA_MAX_UPLOAD_BYTES"] = 10_000
    app.extensions["tamga.settings"] = type(app.extensions["tamga.settings"]).from_config(
        app.config, app.instance_path)
    response = post_form(client, media.picture(5))
    assert response.status_code == 413
    assert b"registration-form" in response.data


def test_missing_title_and_shares_not_adding_up_are_422(creator, client, media):
    no_title = post_form(client, media.picture(6), title="")
    assert no_title.status_code == 422
    shares = post_form(client, media.picture(6), **{
        "authors-0-share": "60", "authors-1-full_name": "Marat", "authors-1-role": "artist",
        "authors-1-share": "30"})
    assert shares.status_code == 422
    assert b"add up to 100" in shares.data
    missing_file = post_form(client, None)
    assert missing_file.status_code == 422


def test_registration_numbers_are_sequential_and_never_reused(creator, client, app, media,
                                                              tmp_path):
    first = register_form(client, media.picture(7))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    assert post_form(client, bad).status_code in (415, 422)
    second = register_form(client, media.picture(8))
    assert int(second[-6:]) == int(first[-6:]) + 1


def test_someone_elses_work_is_403_and_private_works_show_only_number_date_hashes(
        creator, client, app, media, accounts):
    private = register_form(client, media.picture(9), title="Secret sketch",
                            visibility="private")
    stranger = app.test_client()
    accounts.client = stranger
    accounts.create("stranger@example.kz", name="Stranger")
    accounts.login("stranger@example.kz")
    assert stranger.get(f"/works/{private}").status_code == 403
    public_page = stranger.get(f"/w/{private}")
    assert public_page.status_code == 200
    assert b"Secret sketch" not in public_page.data
    sha = work_by_number(app, private)
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=private))
        assert work.main_file.sha256.encode() in public_page.data
    assert stranger.get(f"/w/{private}/thumbnail.jpg").status_code == 404
    assert stranger.get("/w/KZ-1999-999999").status_code == 404
    assert sha is not None


def test_public_page_shows_metadata_and_thumbnail(creator, client, media):
    number = register_form(client, media.picture(10), title="Шарын шатқалы",
                           ai_use="ai_assisted", ai_tools="Upscaler",
                           human_contribution="Composition and shooting")
    anonymous = client.application.test_client()
    page = anonymous.get(f"/w/{number}")
    assert "Шарын шатқалы".encode() in page.data
    assert b"compositeWithTrainedAlgorithmicMedia" in page.data
    thumb = anonymous.get(f"/w/{number}/thumbnail.jpg")
    thumb.close()
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert anonymous.get(f"/w/{number}/original").status_code == 404


def test_amendment_creates_a_version_and_keeps_time_and_hashes(creator, client, app, media):
    number = register_form(client, media.picture(11))
    before = work_by_number(app, number)
    response = client.post(f"/works/{number}/edit", data=form_data(
        title="Dombra at dawn (final)", note="typo in title"))
    assert response.status_code == 302
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        assert work.title == "Dombra at dawn (final)" and work.version == 2
        assert [v.version for v in work.versions] == [1, 2]
        assert work.versions[0].metadata_json["title"] == "Dombra at dawn"
        assert work.registered_at == before.registered_at
    history = client.get(f"/works/{number}")
    assert b"typo in title" in history.data


def test_withdrawal_keeps_the_record(creator, client, app, media):
    number = register_form(client, media.picture(12))
    assert client.post(f"/works/{number}/withdraw", data={"reason": "Registered by mistake"}
                       ).status_code == 302
    assert work_by_number(app, number).status == WorkStatus.WITHDRAWN
    assert b"withdrawn" in client.get(f"/w/{number}").data


def test_transfer_needs_the_recipients_acceptance(creator, client, app, media, accounts):
    number = register_form(client, media.picture(13))
    recipient = app.test_client()
    accounts.client = recipient
    new_owner_id = accounts.create("heir@example.kz", name="Heir")
    accounts.login("heir@example.kz")
    client.post(f"/works/{number}/transfer", data={"email": "heir@example.kz"})
    assert work_by_number(app, number).owner_id != new_owner_id
    mine = recipient.get("/works/")
    transfer_id = re.search(rb"/works/transfers/(\d+)/accept", mine.data).group(1).decode()
    recipient.post(f"/works/transfers/{transfer_id}/accept")
    assert work_by_number(app, number).owner_id == new_owner_id
    assert client.get(f"/works/{number}").status_code == 403


def test_my_works_lists_searches_and_filters(creator, client, media):
    post_form(client, media.picture(14), title="Алатау таңы")
    post_form(client, media.picture(15), title="Steppe")
    listing = client.get("/works/")
    assert "Алатау таңы".encode() in listing.data and b"Steppe" in listing.data
    assert b"Steppe" not in client.get("/works/?q=алатау").data
    assert b"Steppe" not in client.get("/works/?status=withdrawn").data


def test_failed_processing_shows_why_and_can_be_retried(creator, client, app, media):
    app.config["TAMGA_WORKER"] = "off"
    number = register_form(client, media.picture(16))
    settings = app.extensions["tamga.settings"]
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        stored = settings.store.path(work.main_file.storage_key)
        job_id = db.session.scalar(db.select(Job.id).filter_by(work_id=work.id))
    original = stored.read_bytes()
    stored.write_bytes(b"not an image any more")
    with app.app_context():
        from registry.tasks import runner_of

        assert runner_of(app).run_one(job_id) == JobStatus.FAILED
    assert work_by_number(app, number).status == WorkStatus.FAILED
    page = client.get(f"/works/{number}")
    assert b"Processing failed" in page.data
    stored.write_bytes(original)
    app.config["TAMGA_WORKER"] = "sync"
    assert client.post(f"/works/{number}/retry").status_code == 302
    assert work_by_number(app, number).status == WorkStatus.REGISTERED


def test_status_endpoint_reports_job_progress(creator, client, app, media):
    app.config["TAMGA_WORKER"] = "off"
    number = register_form(client, media.picture(17))
    status = client.get(f"/works/{number}/status.json").get_json()
    assert status == {"status": "processing", "progress": 0, "stage": None, "error": None}
