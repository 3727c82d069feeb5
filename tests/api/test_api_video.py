"""Video works through the API (``POST /api/v1/works``, work type ``audiovisual``) and the
command line (``flask works import``): accepted formats, limits, clear errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.api.test_api_works import error_of
from tests.registration import post_api, run_jobs


def test_register_a_video_and_read_its_media_record(client, app, api_account, media):
    response = post_api(client, api_account, media.video("film"), title="Дала",
                        work_type="audiovisual")
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["registration_number"]
    run_jobs(app)
    record = client.get(f"/api/v1/works/{number}", headers=api_account.headers).get_json()
    assert record["status"] == "registered"
    media = record["media"]
    assert media["kind"] == "video" and media["format"] == "mp4"
    assert media["duration_s"] == pytest.approx(20, abs=0.3)
    assert (media["width"], media["height"]) == (480, 270)
    assert 6 <= len(media["key_frames"]) <= 12
    page = client.get(f"/w/{number}").get_data(as_text=True)
    assert page.count(f"/w/{number}/keyframes/") == len(media["key_frames"])
    frame = client.get(f"/w/{number}/keyframes/0.jpg")
    assert frame.status_code == 200 and frame.mimetype == "image/jpeg"
    frame.close()


@pytest.mark.parametrize("fmt", ["webm", "gif"])
def test_webm_and_animated_gif_are_videos(client, app, api_account, media, fmt, tmp_path):
    source = media.video("film")
    if fmt == "webm":
        path = media.video("film-webm", fmt="webm", seconds_each=2.0, size=(320, 180))
    else:
        path = tmp_path / "loop.gif"
        from tests.media import run

        run("ffmpeg", "-y", "-v", "error", "-t", "6", "-i", str(source), "-vf",
            "fps=5,scale=160:-2", str(path))
    response = post_api(client, api_account, path, title=fmt, work_type="audiovisual")
    assert response.status_code == 201, response.get_json()
    run_jobs(app)
    number = response.get_json()["registration_number"]
    record = client.get(f"/api/v1/works/{number}", headers=api_account.headers).get_json()
    assert record["status"] == "registered" and record["media"]["kind"] == "video"


def test_video_over_the_length_limit_is_refused(client, app, api_account, media):
    settings = app.extensions["tamga.settings"]
    app.extensions["tamga.settings"] = replace(
        settings, limits=replace(settings.limits, max_video_seconds=10.0))
    try:
        response = post_api(client, api_account, media.video("film"), work_type="audiovisual")
    finally:
        app.extensions["tamga.settings"] = settings
    assert response.status_code == 422 and error_of(response)["code"] == "too_long"


def test_damaged_video_and_video_as_sound_recording_are_clear_errors(client, api_account,
                                                                    media, tmp_path):
    broken = tmp_path / "broken.webm"
    webm = media.video("film-webm", fmt="webm", seconds_each=2.0, size=(320, 180))
    broken.write_bytes(webm.read_bytes()[:300])
    response = post_api(client, api_account, broken, work_type="audiovisual")
    assert response.status_code == 422 and error_of(response)["code"] == "corrupt"
    wrong = post_api(client, api_account, media.video("film"), work_type="sound_recording")
    assert wrong.status_code == 422 and "audio file" in error_of(wrong)["message"]


def test_flask_works_import_registers_a_video_as_audiovisual(app, accounts, media, tmp_path):
    from sqlalchemy import select

    from registry.extensions import db
    from registry.models.work import Work

    folder = tmp_path / "import"
    folder.mkdir()
    (folder / "steppe-film.mp4").write_bytes(media.video("film").read_bytes())
    accounts.create("importer@example.kz", name="Importer")
    app.config["TAMGA_WORKER"] = "sync"
    result = app.test_cli_runner().invoke(args=["works", "import", str(folder), "--owner",
                                                "importer@example.kz"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        work = db.session.scalar(select(Work))
        assert (work.media_kind, work.work_type.value, work.title) == (
            "video", "audiovisual", "steppe film")
        assert work.status.value == "registered"
