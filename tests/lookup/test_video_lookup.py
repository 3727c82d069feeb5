"""Video works: registration (frames, soundtrack, key frames), lookup of excerpts in
their variants through the API and the page, a still frame, and registration conflicts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from registry.extensions import db
from registry.models.work import Work
from tests.registration import register_file

SEGMENT_KEYS = {"query_start", "query_end", "work_start", "work_end"}


def post_file(client, path: Path, url: str = "/api/v1/lookup"):
    return client.post(url, data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                       content_type="multipart/form-data")


@pytest.fixture
def film(app, accounts, media) -> str:
    return register_file(app, media.video("film"), title="Дала фильмі", work_type="audiovisual",
                         accounts=accounts)


def _work(app, number: str) -> Work:
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        db.session.expunge(work)
        return work


def test_registration_keeps_frames_soundtrack_and_key_frames(app, film):
    from registry.core.matching import audio_index, video_index

    work = _work(app, film)
    assert work.status.value == "registered" and work.media_kind == "video"
    assert work.duration_s == pytest.approx(20.0, abs=0.2) and (work.width, work.height) == (
        480, 270)
    assert 6 <= len(work.key_frames) <= 12
    assert [k["t"] for k in work.key_frames] == sorted(k["t"] for k in work.key_frames)
    with app.app_context():
        conn = db.session.connection()
        frames = video_index.load_frames(conn, work.id)
        assert frames is not None and len(frames) >= 20  # one per second, two windows
        assert audio_index.load_fingerprint(conn, work.id) is not None  # the soundtrack


@pytest.mark.parametrize(("variant", "start", "vf", "af"), [
    ("vertical_crop", 6.3, "crop=ih*9/16:ih,scale=360:640", None),
    ("mirror", 3.7, "hflip", None),
    ("letterbox", 8.2, "scale=384:216,pad=480:270:48:27", None),
    ("speed_1_1", 5.5, "setpts=PTS/1.1", "atempo=1.1"),
])
def test_excerpt_variants_are_found_with_their_segment(client, film, media, variant, start,
                                                       vf, af):
    clip = media.video_clip(media.video("film"), start, 10, variant, vf=vf, af=af)
    body = post_file(client, clip).get_json()
    assert body["checked"]["media"] == "video"
    match = body["matches"][0]
    assert match["registration_number"] == film and match["media"] == "video"
    assert set(match["segment"]) == SEGMENT_KEYS
    assert match["segment"]["work_start"] == pytest.approx(start, abs=1.0)
    assert "picture" in match["tracks"] and match["track_scores"]["picture"] > 0.4


LOGO_TEXT = ("drawbox=x=iw-80:y=8:w=70:h=42:color=red@0.8:t=fill,"
             "drawtext=text='Subscribe for more':fontcolor=white:fontsize=22:"
             "x=(w-tw)/2:y=h-44:box=1:boxcolor=black@0.5")
SCREEN_RECORDING = ("scale=iw*0.6:ih*0.6,pad=iw/0.6:ih/0.6:(ow-iw)/2:(oh-ih)/2:color=0x2b2d31,"
                    "drawbox=x=0:y=0:w=iw:h=20:color=0x3c4043:t=fill")


@pytest.mark.parametrize(("variant", "start", "vf", "crf"), [
    ("reencode_360p", 2.4, "scale=640:360", 32),
    ("logo_text", 7.1, LOGO_TEXT, 28),
    ("screen_recording", 9.6, SCREEN_RECORDING, 28),
])
def test_reencoded_logo_and_screen_recorded_excerpts_are_found(client, film, media, variant,
                                                                start, vf, crf):
    """The issue's variants reencode_360p (H.264 CRF 32 at 640x360), logo_text (corner
    logo + burned-in caption) and screen_recording (the picture at 60 % in a larger frame)."""
    clip = media.video_clip(media.video("film"), start, 10, variant, vf=vf, crf=crf)
    from registry.core.media import MediaLimits
    from registry.core.video import probe_video

    info = probe_video(clip, MediaLimits())
    assert (info.width, info.height) == ((640, 360) if variant == "reencode_360p" else (480, 270))
    body = post_file(client, clip).get_json()
    match = body["matches"][0]
    assert match["registration_number"] == film and match["media"] == "video"
    assert match["segment"]["work_start"] == pytest.approx(start, abs=1.0)
    assert match["tracks"] == ["picture", "sound"] and match["track_scores"]["picture"] > 0.4


def test_new_music_is_found_by_the_picture_alone(client, film, media):
    """new_music: the original picture with its sound replaced by other music."""
    other_song = media.song("song_b", "wav")
    clip = media.video_clip(media.video("film"), 5.2, 10, "new_music", sound=other_song)
    body = post_file(client, clip).get_json()
    assert body["checked"]["media"] == "video"
    match = body["matches"][0]
    assert match["registration_number"] == film and match["tracks"] == ["picture"]
    assert match["segment"]["work_start"] == pytest.approx(5.2, abs=1.0)
    assert match["track_scores"]["picture"] > 0.4


def test_picture_alone_and_sound_alone_are_found(client, film, media):
    silent = media.video_clip(media.video("film"), 4, 10, "mute", mute=True)
    body = post_file(client, silent).get_json()
    assert body["matches"][0]["tracks"] == ["picture"]
    black = media.video_clip(media.video("film"), 4, 10, "black", vf="drawbox=t=fill:c=black")
    body = post_file(client, black).get_json()
    match = body["matches"][0]
    assert match["registration_number"] == film and match["tracks"] == ["sound"]
    assert match["segment"]["work_start"] == pytest.approx(4, abs=1.5)


def test_a_still_frame_finds_the_video(client, film, media, tmp_path):
    still = tmp_path / "grab.jpg"
    from tests.media import run

    run("ffmpeg", "-y", "-v", "error", "-ss", "7.5", "-i", str(media.video("film")),
        "-frames:v", "1", str(still))
    body = post_file(client, still).get_json()
    assert body["checked"]["media"] == "image"
    match = next(m for m in body["matches"] if m["registration_number"] == film)
    assert match["media"] == "video" and match["segment"]["work_start"] == pytest.approx(7.5,
                                                                                         abs=1.0)


def test_unrelated_video_is_no_match(client, film, media):
    other = media.video("other", pictures=("gradient", "landscape"), sound="song_b")
    body = post_file(client, media.video_clip(other, 0, 8, "other-clip")).get_json()
    assert [m for m in body["matches"] if m["registration_number"] == film] == []


def test_reupload_of_a_short_by_another_account_is_a_conflict(app, client, film, media,
                                                              accounts):
    short = media.video_clip(media.video("film"), 6, 10, "short",
                             vf="crop=ih*9/16:ih,scale=360:640")
    number = register_file(app, short, title="Short", work_type="audiovisual",
                           email="copier@example.kz", name="Copier", accounts=accounts)
    work = _work(app, number)
    assert work.status.value == "conflict"
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        match = work.matches[0]
        assert match.other_work.registration_number == film and match.kind == "video"
        assert match.details["work_start"] == pytest.approx(6, abs=1.0)
        assert set(match.details["tracks"]) == {"picture", "sound"}


def test_lookup_page_draws_both_timelines(client, film, media):
    clip = media.video_clip(media.video("film"), 6.3, 10, "vertical_crop",
                            vf="crop=ih*9/16:ih,scale=360:640")
    page = post_file(client, clip, url="/lookup").get_data(as_text=True)
    assert 'class="timeline' in page and "timeline-picture" in page and "timeline-sound" in page
    assert "Picture and sound place your clip at the same moment" in page  # both at 0:06


def test_certificate_shows_key_frames_only_where_thumbnails_are_allowed(app, client, film):
    """The key frames are on the certificate where the owner allows thumbnails;
    the bilingual certificate stays one page."""
    from pypdf import PdfReader

    work = _work(app, film)
    times = [f"{int(k['t']) // 60}:{int(k['t']) % 60:02d}" for k in work.key_frames]
    page = PdfReader(io.BytesIO(client.get(f"/w/{film}/certificate.pdf").data)).pages
    assert len(page) == 1 and len(page[0].images) == min(6, len(times))
    text = page[0].extract_text()
    assert times[0] in text and times[-1] in text and "Негізгі кадрлар" in text
    with app.app_context():
        stored = db.session.get(Work, work.id)
        stored.allow_thumbnail = False
        db.session.commit()
    page = PdfReader(io.BytesIO(client.get(f"/w/{film}/certificate.pdf").data)).pages
    assert len(page) == 1 and len(page[0].images) == 0
    assert "Негізгі кадрлар" not in page[0].extract_text()


def test_registration_progress_moves_while_the_video_is_decoded(app, accounts, media,
                                                                monkeypatch):
    """Watch the progress: a video's fingerprinting reports how far it is,
    so the bar moves from 10 % towards 80 % instead of standing still for a long film."""
    from registry.core.media import MediaLimits
    from registry.core.video import fingerprint_video
    from registry.services import jobs

    fractions: list[float] = []
    fingerprint_video(media.video("film"), MediaLimits(), progress=fractions.append)
    assert len(fractions) >= 10 and fractions == sorted(fractions)
    assert fractions[0] < 0.2 and fractions[-1] > 0.85

    seen: list[tuple[int, str]] = []
    real = jobs.set_progress
    monkeypatch.setattr(jobs, "set_progress",
                        lambda job, p, stage: (seen.append((p, stage)), real(job, p, stage)))
    register_file(app, media.video("film"), title="Дала фильмі", work_type="audiovisual",
                  accounts=accounts)
    during = [p for p, stage in seen if stage == "fingerprint" and 10 < p < 80]
    assert seen[0] == (10, "fingerprint") and len(during) >= 5 and during == sorted(during)
    assert seen.index((80, "matching")) > seen.index((during[-1], "fingerprint"))
