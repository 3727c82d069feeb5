"""Issue 16 through the API and the page: a sped-up, pitch-shifted or re-tempoed
copy is found, with the ``transform`` that explains it, in every language."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.lookup.test_file_lookup import post_file
from tests.registration import register_file

RATE = 22050


def transformed(media, af: str, name: str, start: float = 15.0, seconds: float = 12.0) -> Path:
    out = media.folder / f"{name}.mp3"
    if not out.exists():
        subprocess.run(["ffmpeg", "-y", "-v", "error", "-ss", str(start), "-t", str(seconds),
                        "-i", str(media.song("song_a", "wav")), "-af", af, "-b:a", "96k",
                        str(out)], check=True, capture_output=True)  # fmt: skip
    return out


@pytest.fixture
def song(app, accounts, media) -> str:
    return register_file(app, media.song("song_a"), title="Көктем", work_type="sound_recording",
                         accounts=accounts)


def test_sped_up_copy_reports_speed_and_pitch(client, song, media):
    clip = transformed(media, f"asetrate={RATE}*1.12,aresample={RATE}", "faster")
    body = post_file(client, clip).get_json()
    [match] = body["matches"]
    assert match["registration_number"] == song
    assert match["transform"]["speed"] == pytest.approx(1.12, abs=0.02)
    assert match["transform"]["pitch_semitones"] == pytest.approx(1.96, abs=0.4)
    assert match["segment"]["work_start"] == pytest.approx(15, abs=1.5)


def test_pitch_shift_alone_keeps_speed_one(client, song, media):
    clip = transformed(media, "rubberband=pitch=0.890899", "lower")  # -2 semitones
    [match] = post_file(client, clip).get_json()["matches"]
    assert match["registration_number"] == song
    assert match["transform"]["speed"] == pytest.approx(1.0, abs=0.02)
    assert match["transform"]["pitch_semitones"] == pytest.approx(-2.0, abs=0.4)


def test_three_second_clip_is_accepted_and_found(client, song, media):
    body = post_file(client, media.clip("song_a", 25, 3)).get_json()
    assert [m["registration_number"] for m in body["matches"]] == [song]


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["This copy is", "faster", "semitones higher"]),
    ("ru", ["Эта копия", "быстрее", "полутона выше"]),
    ("kk", ["Бұл көшірме", "жылдам", "жартылай тонға жоғары"]),
])  # fmt: skip
def test_result_page_says_how_the_copy_was_changed(client, song, media, lang, words):
    clip = transformed(media, f"asetrate={RATE}*1.12,aresample={RATE}", "faster")
    page = post_file(client, clip, url="/lookup", **{"Accept-Language": lang})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for word in words:
        assert word in text, (lang, word)
    assert any(f"{n}%" in text for n in (11, 12, 13))
