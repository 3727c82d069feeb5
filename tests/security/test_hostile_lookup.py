"""Issue 12, item 2: one anonymous lookup took the site down.

A 178-minute, 20 MB MP3 (under the 3-hour limit) was decoded completely by
``POST /api/v1/lookup`` (82 s, 1.95 GB); a 10-hour file was decoded completely
before the duration limit refused it. Now the declared duration decides before any
decoding, a lookup decodes only its first ``TAMGA_LOOKUP_MAX_SECONDS`` (and says so),
and at most ``TAMGA_LOOKUP_CONCURRENCY`` lookups decode at once (then 503).
The load test is ``benchmarks/lookup_load.py``.
"""

from __future__ import annotations

import io
import re
import subprocess
import time
from pathlib import Path

import pytest

from registry.core import audio, audio_peaks
from registry.services import lookup
from tests.registration import form_data


def long_mp3(folder: Path, minutes: int) -> Path:
    """``minutes`` of pink noise as a 16 kbit/s MP3 with no Xing header: one minute is
    encoded, then its frames repeated (MP3 frames concatenate)."""
    one = folder / "one-minute.mp3"
    if not one.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "anoisesrc=d=60:c=pink:r=22050", "-ac", "1", "-b:a", "16k",
                        "-write_xing", "0", "-id3v2_version", "0", str(one)], check=True)
    path = folder / f"{minutes}-minutes.mp3"
    path.write_bytes(one.read_bytes() * minutes)
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {"178min": long_mp3(folder, 178), "10h": long_mp3(folder, 600)}


@pytest.fixture
def decodes(monkeypatch) -> list[float | None]:
    """The ``max_seconds`` of every real decoding run of a lookup (a probe, not a
    stand-in): the in-process decoder both audio fingerprints are made from."""
    calls: list[float | None] = []
    real = audio_peaks.decode

    def spy(*args, **kwargs):
        calls.append(kwargs.get("max_seconds"))
        return real(*args, **kwargs)

    monkeypatch.setattr(audio_peaks, "decode", spy)
    return calls


def _post(client, url: str, fields: dict):
    """A multipart POST encoded in memory (the test client's own encoder would leave a
    temporary file of a large body open)."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart(MultiDict({
        k: FileStorage(v[0], filename=v[1]) if isinstance(v, tuple) else v
        for k, v in fields.items()}))
    return client.post(url, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _lookup(client, path: Path):
    started = time.perf_counter()
    response = _post(client, "/api/v1/lookup", {"file": (io.BytesIO(path.read_bytes()),
                                                         path.name)})
    return response, time.perf_counter() - started


def test_a_long_file_is_looked_up_by_its_first_two_minutes(client, hostile, decodes):
    response, seconds = _lookup(client, hostile["178min"])
    assert response.status_code == 200, response.json
    checked = response.json["checked"]
    assert checked["duration_s"] > 170 * 60
    assert 100 <= checked["analysed_s"] <= 120 and checked["truncated"] is True
    assert decodes == [120.0]
    assert seconds < 60  # was 82 s on an idle machine; ~3 s now


def test_a_ten_hour_file_is_refused_before_decoding(client, hostile, decodes):
    response, seconds = _lookup(client, hostile["10h"])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "too_long"
    assert decodes == []
    assert seconds < 30  # was 114 s and 4.1 GB of temporary files


def test_a_ten_hour_registration_is_refused_before_decoding(app, accounts, client, hostile,
                                                           decodes, monkeypatch):
    app.config["TAMGA_WORKER"] = "sync"
    ran: list[list[str]] = []
    real = audio._run_fpcalc
    monkeypatch.setattr(audio, "_run_fpcalc", lambda cmd, *a, **k: ran.append(cmd) or real(
        cmd, *a, **k))
    accounts.create()
    accounts.login()
    response = _post(client, "/works/new", form_data(hostile["10h"],
                                                     work_type="sound_recording"))
    assert response.status_code == 422
    assert "limit is 180 min" in response.get_data(as_text=True)
    assert ran == [] and decodes == []


def test_the_web_lookup_says_what_it_ignored(client, hostile):
    path = hostile["178min"]
    response = _post(client, "/lookup", {"file": (io.BytesIO(path.read_bytes()), path.name)})
    assert response.status_code == 200
    assert re.search(r"Only the first [12]:\d\d of it were compared", response.get_data(
        as_text=True))


def test_busy_decoders_answer_503_with_retry_after(app, client, media, monkeypatch):
    app.extensions["tamga.settings"] = __import__("dataclasses").replace(
        app.extensions["tamga.settings"], lookup_concurrency=1)
    bounds = lookup.QueryBounds(120.0, 1, wait_s=0.2)
    monkeypatch.setattr(lookup, "query_bounds", lambda settings: bounds)
    import registry.api.lookup as api_lookup

    monkeypatch.setattr(api_lookup, "query_bounds", lambda settings: bounds)
    with lookup.heavy_slot(bounds):  # another request is decoding
        response, _ = _lookup(client, media.picture(3))
    assert response.status_code == 503
    assert response.json["error"]["code"] == "busy"
    assert int(response.headers["Retry-After"]) >= 1
    response, _ = _lookup(client, media.picture(3))
    assert response.status_code == 200
