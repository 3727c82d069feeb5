"""“Is this registered?” through the API and the page: clips, pictures, SHA-256, no match."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from tests.registration import register_file

MATCH_KEYS = {"registration_number", "title", "work_type", "media", "score", "registered_at",
              "status", "url", "provenance"}


def post_file(client, path: Path, url: str = "/api/v1/lookup", **headers):
    return client.post(url, data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                       content_type="multipart/form-data", headers=headers)


def upload_dir_files(app) -> list[Path]:
    folder = app.extensions["tamga.settings"].upload_dir
    return list(folder.glob("*")) if folder.exists() else []


@pytest.fixture
def song(app, accounts, media) -> str:
    return register_file(app, media.song("song_a"), title="Көктем", work_type="sound_recording",
                         accounts=accounts)


def test_clip_matches_with_segment_and_exact_json_shape(app, client, song, media):
    response = post_file(client, media.clip("song_a", 20, 12))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"matches", "checked"}
    assert body["checked"]["media"] == "audio"
    assert body["checked"]["works_compared"] == 1
    assert 11.5 < body["checked"]["duration_s"] < 12.5
    assert set(body["checked"]) == {"media", "duration_s", "analysed_s", "truncated",
                                    "works_compared", "provenance"}
    assert body["checked"]["provenance"]["c2pa"]["state"] == "none"  # the clip's own
    assert body["checked"]["truncated"] is False
    [match] = body["matches"]
    assert set(match) == MATCH_KEYS | {"segment", "transform"}
    assert abs(match["transform"]["speed"] - 1) < 0.01
    assert abs(match["transform"]["pitch_semitones"]) < 0.5
    assert match["registration_number"] == song and match["title"] == "Көктем"
    assert match["media"] == "audio" and match["work_type"] == "sound_recording"
    assert match["status"] == "registered" and match["url"].endswith(f"/w/{song}")
    assert match["registered_at"].endswith("Z") and 0.5 < match["score"] <= 1
    segment = match["segment"]
    assert abs(segment["work_start"] - 20) < 3 and abs(segment["work_end"] - 32) < 3
    assert segment["query_start"] < 3 and segment["query_end"] > 9
    assert upload_dir_files(app) == []


def test_unrelated_audio_is_no_match_with_what_was_checked(client, song, media):
    body = post_file(client, media.clip("song_b", 10, 10)).get_json()
    assert body["matches"] == []
    assert body["checked"]["works_compared"] == 1 and body["checked"]["media"] == "audio"


def test_identical_file_and_sha256_lookup(app, client, song, media):
    body = post_file(client, media.song("song_a")).get_json()
    assert body["matches"][0]["registration_number"] == song
    assert body["matches"][0]["score"] == 1.0
    import hashlib

    digest = hashlib.sha256(media.song("song_a").read_bytes()).hexdigest()
    by_hash = client.post("/api/v1/lookup", json={"sha256": digest.upper()}).get_json()
    assert [m["registration_number"] for m in by_hash["matches"]] == [song]
    assert by_hash["checked"]["media"] == "sha256" and by_hash["checked"]["works_compared"] == 1
    none = client.post("/api/v1/lookup", json={"sha256": "0" * 64}).get_json()
    assert none["matches"] == []


def test_lookup_page_shows_timeline_and_says_file_not_stored(app, client, song, media):
    page = post_file(client, media.clip("song_a", 20, 12), url="/lookup")
    assert page.status_code == 200
    text = page.text
    assert "Same recording" in text and song in text and "Көктем" in text
    assert 'class="timeline"' in text and "0:20" in text
    assert "was not stored" in text
    assert upload_dir_files(app) == []


def test_no_match_page_says_what_was_checked(client, song, media):
    page = post_file(client, media.clip("song_b", 10, 10), url="/lookup")
    assert "No registered work matches" in page.text
    assert "compared with 1 registered recording" in page.text


@pytest.fixture
def picture(app, accounts, media) -> str:
    return register_file(app, media.picture(1), title="Дала", work_type="photograph",
                         accounts=accounts)


def transformed(media, tmp_path: Path, how: str) -> Path:
    image = Image.open(media.picture(1)).convert("RGB")
    if how == "mirror":
        image = ImageOps.mirror(image)
    else:
        image = image.resize((480, 360))
    out = tmp_path / f"{how}.jpg"
    image.save(out, quality=60)
    return out


@pytest.mark.parametrize("how", ["reencode", "mirror"])
def test_reencoded_and_mirrored_pictures_match(client, picture, media, tmp_path, how):
    body = post_file(client, transformed(media, tmp_path, how)).get_json()
    [match] = body["matches"]
    assert set(match) == MATCH_KEYS | {"distance", "region", "transform", "transformation"}
    assert match["registration_number"] == picture and match["media"] == "image"
    assert set(match["region"]) == {"x", "y", "w", "h"}
    assert set(match["transform"]) == {"rotation_degrees", "scale", "mirrored", "crop"}
    assert match["transform"]["mirrored"] is (how == "mirror")
    assert match["transformation"] == ("mirrored" if how == "mirror" else "identical")
    assert isinstance(match["distance"], int) and match["distance"] <= 10
    assert body["checked"].pop("provenance")["file_declares"] is None
    assert body["checked"] == {"media": "image", "width": 480 if how == "reencode" else 640,
                               "height": 360 if how == "reencode" else 480, "works_compared": 1}


def test_mirrored_picture_page_shows_both_images_and_transformation(client, picture, media,
                                                                    tmp_path):
    page = post_file(client, transformed(media, tmp_path, "mirror"), url="/lookup")
    assert "data:image/jpeg;base64," in page.text
    assert f"/w/{picture}/thumbnail.jpg" in page.text
    assert "mirrored" in page.text and "Likely the same image" in page.text


def test_unrelated_picture_no_match(client, picture, media):
    body = post_file(client, media.picture(7)).get_json()
    assert body["checked"].pop("provenance")["c2pa"]["state"] == "none"
    assert body == {"matches": [], "checked": {"media": "image", "width": 640, "height": 480,
                                               "works_compared": 1}}


def test_private_work_has_no_title(app, accounts, client, media):
    number = register_file(app, media.picture(3), title="Hidden", work_type="photograph",
                           visibility="private", accounts=accounts)
    [match] = post_file(client, media.picture(3)).get_json()["matches"]
    assert match["registration_number"] == number and match["title"] is None
    page = post_file(client, media.picture(3), url="/lookup")
    assert "Hidden" not in page.text and "Private registration" in page.text


def test_bad_uploads(app, client, media, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("just some words, not media at all\n" * 20)
    assert post_file(client, text).status_code == 415
    short = post_file(client, media.clip("song_a", 5, 2))
    assert short.status_code == 422 and short.get_json()["error"]["code"] == "too_short"
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(media.picture(2).read_bytes()[:600])
    assert post_file(client, corrupt).status_code == 422
    assert client.post("/api/v1/lookup", data={}).status_code == 400
    assert client.post("/api/v1/lookup", json={"sha": "x"}).status_code == 400
    assert client.post("/api/v1/lookup", json={"sha256": "xyz"}).status_code == 422
    settings = app.extensions["tamga.settings"]
    app.extensions["tamga.settings"] = replace(settings, limits=replace(settings.limits,
                                                                        max_bytes=10_000))
    too_big = post_file(client, media.picture(2))
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "too_large"
    page = post_file(client, text, url="/lookup")
    assert page.status_code == 415 and "not stored" in page.text
    assert upload_dir_files(app) == []


def test_rotated_picture_found_by_the_second_pass(client, picture, media, tmp_path):
    rotated = tmp_path / "rotated.jpg"
    Image.open(media.picture(1)).convert("RGB").rotate(4, resample=Image.Resampling.BICUBIC,
                                                       expand=True).save(rotated, quality=85)
    [match] = post_file(client, rotated).get_json()["matches"]
    assert match["registration_number"] == picture
