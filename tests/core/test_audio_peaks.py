"""The pitch- and tempo-tolerant peak-quad fingerprint and its SQL index.

Recordings are the committed MIDI fixtures rendered with fluidsynth and the
committed speech clip; every transformation is made here with ffmpeg
(``rubberband`` for pitch with tempo kept, ``atempo`` for tempo with pitch
kept, ``asetrate`` for speed: pitch and tempo together). Runs on SQLite, and on
PostgreSQL when DATABASE_URL points there.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from registry.core import audio_peaks as ap
from registry.core.audio_query import fingerprint_query_file, merge_matches
from registry.core.errors import CorruptMedia, MediaTooShort
from registry.core.matching import peak_index as pi
from registry.core.media import MediaLimits
from registry.core.sql import metadata
from tests.media import render_midi

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
SONG_A, SONG_B, SPEECH = 11, 22, 33
RATE = 22050


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True,
                   capture_output=True)  # fmt: skip


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("audio_peaks")
    paths: dict[str, Path] = {"dir": out, "speech": FIXTURES / "speech.opus"}
    for name in ("song_a", "song_b", "song_c"):
        wav = out / f"{name}.wav"
        render_midi(FIXTURES / f"{name}.mid", wav, rate=RATE)
        paths[name] = wav
    return paths


@pytest.fixture(scope="module")
def registered(media: dict[str, Path]) -> dict[int, ap.PeakPrint]:
    return {
        work: ap.peaks_of_samples(ap.decode(media[name]), ap.REFERENCE)
        for work, name in ((SONG_A, "song_a"), (SONG_B, "song_b"), (SPEECH, "speech"))
    }


@pytest.fixture
def conn(core_engine: Engine) -> Iterator[Connection]:
    with core_engine.begin() as c:
        metadata.drop_all(c, tables=pi.PEAK_TABLES)
        metadata.create_all(c, tables=pi.PEAK_TABLES)
    try:
        with core_engine.begin() as c:
            yield c
    finally:
        with core_engine.begin() as c:
            metadata.drop_all(c, tables=pi.PEAK_TABLES)


@pytest.fixture
def index(conn: Connection, registered: dict[int, ap.PeakPrint]) -> Connection:
    pi.add_recordings(conn, list(registered.items()))
    return conn


def query(conn: Connection, path: Path) -> list[pi.PeakMatch]:
    q = fingerprint_query_file(path, MediaLimits(min_audio_seconds=3.0))
    return pi.search(conn, q.peaks)


def transformed(media: dict[str, Path], name: str, start: float, seconds: float,
                af: str | None, suffix: str = "wav", *extra: str) -> Path:  # fmt: skip
    dest = media["dir"] / f"q_{abs(hash((name, start, seconds, af, extra)))}.{suffix}"
    ffmpeg("-ss", str(start), "-t", str(seconds), "-i", str(media[name]),
           *(["-af", af] if af else []), *extra, str(dest))  # fmt: skip
    return dest


# --------------------------------------------------------------------------- fingerprint


def test_peaks_round_trip_and_density(registered: dict[int, ap.PeakPrint]) -> None:
    fp = registered[SONG_A]
    again = ap.PeakPrint.from_bytes(fp.to_bytes())
    assert np.array_equal(again.times, fp.times) and np.array_equal(again.bins, fp.bins)
    assert again.duration_s == pytest.approx(fp.duration_s)
    per_second = len(fp) / fp.duration_s
    assert 2 < per_second <= 64 / 11  # at most 3 per 32-frame block
    with pytest.raises(ValueError):
        ap.PeakPrint.from_bytes(b"XXXX" + fp.to_bytes()[4:])


def test_quad_hash_ignores_pitch_shift_and_tempo_change() -> None:
    """Moving every peak by whole bins and stretching time leaves the hashes."""
    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0, 1000, 120)).astype(np.float32)
    bins = rng.uniform(20, 80, 120).astype(np.float32)
    fp = ap.PeakPrint(times, bins, 20.0)
    keys = ap.quads(fp, ap.REFERENCE).key
    moved = ap.PeakPrint(times, bins + 4, 20.0)
    assert np.array_equal(ap.quads(moved, ap.REFERENCE).key, keys)
    # A 10 % slower copy keeps every quad whose span still fits the target zone.
    slower = ap.quads(ap.PeakPrint(times * 1.1, bins, 22.0), ap.QUERY)
    assert np.isin(keys, slower.key).mean() > 0.8


def test_decode_bounds_and_errors(media: dict[str, Path], tmp_path: Path) -> None:
    x = ap.decode(media["song_a"], max_seconds=4.0)
    assert x.size == 4 * ap.SAMPLE_RATE and x.dtype == np.float32
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\xff\xfb" + b"\x00" * 4000)
    with pytest.raises(CorruptMedia):
        ap.decode(bad)
    short = transformed(media, "song_a", 5, 1.5, None)
    with pytest.raises(MediaTooShort):
        fingerprint_query_file(short, MediaLimits(min_audio_seconds=3.0))


# --------------------------------------------------------------------------- index


def test_add_remove_rebuild(conn: Connection, registered: dict[int, ap.PeakPrint]) -> None:
    pi.add_recordings(conn, list(registered.items()))
    assert pi.count_recordings(conn) == 3

    def snapshot() -> dict[int, bytes]:
        rows = conn.execute(sa.select(pi.audio_peak_postings.c.key,
                                      pi.audio_peak_postings.c.postings))  # fmt: skip
        return {k: bytes(p) for k, p in rows}

    before = snapshot()
    assert pi.rebuild(conn) == 3
    assert snapshot() == before
    assert pi.remove_recording(conn, SONG_B)
    assert not pi.remove_recording(conn, SONG_B)
    left = np.frombuffer(b"".join(snapshot().values()), dtype=pi.POSTING)
    assert set(left["work"].tolist()) == {SONG_A, SPEECH}
    assert pi.load_peaks(conn, SONG_B) is None


TRANSFORMS = [
    # name, ffmpeg filter, expected speed, expected semitones
    ("pitch +1", "rubberband=pitch=1.059463", 1.0, 1.0),
    ("pitch -1", "rubberband=pitch=0.943874", 1.0, -1.0),
    ("pitch +2", "rubberband=pitch=1.122462", 1.0, 2.0),
    ("pitch -2", "rubberband=pitch=0.890899", 1.0, -2.0),
    ("speed 0.85", f"asetrate={RATE}*0.85,aresample={RATE}", 0.85, 12 * math.log2(0.85)),
    ("speed 1.10", f"asetrate={RATE}*1.10,aresample={RATE}", 1.10, 12 * math.log2(1.10)),
    ("speed 1.25", f"asetrate={RATE}*1.25,aresample={RATE}", 1.25, 12 * math.log2(1.25)),
    ("tempo +10%", "atempo=1.1", 1.1, 0.0),
    ("tempo -10%", "atempo=0.9", 0.9, 0.0),
]


@pytest.mark.parametrize(("name", "af", "speed", "semitones"), TRANSFORMS,
                         ids=[t[0] for t in TRANSFORMS])  # fmt: skip
def test_transformed_clip_found_with_its_transform(
    index: Connection, media: dict[str, Path], name: str, af: str, speed: float,
    semitones: float,
) -> None:
    start = 12.0
    # 10 s of the original, played at the new speed.
    path = transformed(media, "song_a", start, 10 * speed, af, "mp3", "-b:a", "128k")
    found = query(index, path)
    assert found and found[0].work_id == SONG_A, name
    m = found[0]
    assert m.speed == pytest.approx(speed, abs=0.02)
    assert m.pitch_semitones == pytest.approx(semitones, abs=0.4)
    assert m.work_start == pytest.approx(start, abs=1.0)
    assert all(o.work_id != SONG_B for o in found)


@pytest.mark.parametrize("seconds", [3.0, 5.0])
def test_short_clips(index: Connection, media: dict[str, Path], seconds: float) -> None:
    for start in (8.0, 20.0):
        found = query(index, transformed(media, "song_a", start, seconds, None))
        assert found and found[0].work_id == SONG_A
        assert found[0].work_start == pytest.approx(start, abs=1.0)


def test_slowed_with_reverb(index: Connection, media: dict[str, Path]) -> None:
    af = f"asetrate={RATE}*0.85,aresample={RATE},aecho=0.8:0.7:60|90:0.35|0.25"
    found = query(index, transformed(media, "song_a", 10.0, 12.0, af))
    assert found and found[0].work_id == SONG_A
    assert found[0].speed == pytest.approx(0.85, abs=0.02)


def test_a_query_reads_its_rarest_keys_first(conn: Connection) -> None:
    """Past ``max_postings``, the postings of the keys in the fewest works are read;
    keys in too many works are never read; all of them when they fit."""
    works = {101: 5, 102: 1, 103: 40, 104: 2, 105: 3000}
    one = np.zeros(1, dtype=pi.POSTING).tobytes()
    conn.execute(pi.audio_peak_postings.insert(), [
        {"key": k, "works": n, "postings": one * n} for k, n in works.items()])
    keys = list(works)
    assert sorted(pi.rarest_keys(conn, keys, 2000, 10)) == [101, 102, 104]
    assert sorted(pi.rarest_keys(conn, keys, 2000, 2)) == [102]
    assert sorted(pi.rarest_keys(conn, keys, 2000, 10_000)) == [101, 102, 103, 104]
    pk, postings = pi.fetch_postings(conn, keys, 2000, max_postings=10)
    assert sorted(set(pk.tolist())) == [101, 102, 104] and postings.size == 8
    pk, _ = pi.fetch_postings(conn, keys, 2000)
    assert sorted(set(pk.tolist())) == [101, 102, 103, 104]


def _synthetic_copy(scale: float, pitch_bins: float, start_s: float, seconds: float
                    ) -> tuple[ap.PeakPrint, ap.PeakPrint]:  # fmt: skip
    """A recording's peaks (6 a second, 60 s) and a copy of ``seconds`` from ``start_s``
    that plays ``scale`` times as fast, ``pitch_bins`` higher, with its own peaks too."""
    rng = np.random.default_rng(8)
    n = int(60 * 6)
    t = np.sort(rng.uniform(0, 60 * ap.FPS, n)).astype(np.float32)
    b = rng.uniform(10, ap.N_BINS - 10, n).astype(np.float32)
    work = ap.PeakPrint(t, b, 60.0)
    a = start_s * ap.FPS
    keep = (t >= a) & (t < a + seconds * scale * ap.FPS)
    qt = (t[keep] - a) / scale
    extra = rng.uniform(0, seconds * ap.FPS, 30)  # the copy's own peaks (a voice, noise)
    times = np.concatenate([qt, extra])
    bins = np.concatenate([b[keep] + pitch_bins, rng.uniform(0, ap.N_BINS - 1, 30)])
    order = np.argsort(times)
    return work, ap.PeakPrint(times[order].astype(np.float32), bins[order].astype(np.float32),
                              seconds)


def test_verification_climbs_from_a_loosely_voted_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slowed copy whose peaks voted for a scale 3.5 % off (reverb smears them):
    only the middle of the clip lines up at the voted transform; the climb finds
    the copy's true scale and re-finds nearly every peak."""
    scale, pitch = 0.85, -5.6
    work, copy = _synthetic_copy(scale, pitch, 20.0, 15.0)
    centre = copy.duration_s * ap.FPS / 2
    voted = 0.82  # the centre of the clip is where the votes agree
    offset = 20.0 * ap.FPS + centre * (scale - voted)
    guess = ap.Transform(voted, pitch + 0.4, offset)
    found = ap.verify(copy, work, guess)
    copied = int(np.sum((work.times >= 20 * ap.FPS) & (work.times < (20 + 15 * scale) * ap.FPS)))
    assert found is not None and found.transform.scale == pytest.approx(scale, abs=0.005)
    assert found.matched >= 0.95 * copied and found.query_end - found.query_start > 14
    monkeypatch.setattr(ap, "CLIMB_ROUNDS", 0)  # the small grid alone stays near the vote
    stuck = ap.verify(copy, work, guess)
    assert stuck is not None and stuck.matched < 0.5 * copied


@pytest.mark.xfail(strict=True, reason="known gap (issue 16): speech over this fixture's "
                   "sparse MIDI mix masks too many of its peaks")
def test_voice_over_at_minus_6db(index: Connection, media: dict[str, Path]) -> None:
    """Speech mixed 6 dB under the music's loudness over a 10 s clip (at 0 dB the
    synthetic fixture is not found: see benchmarks/README_audio.md)."""
    music = transformed(media, "song_a", 15.0, 10.0, "loudnorm=I=-20")
    voice = transformed(media, "speech", 0.0, 10.0, "loudnorm=I=-26")
    mixed = media["dir"] / "voice_over.wav"
    ffmpeg("-i", str(music), "-i", str(voice), "-filter_complex",
           "[0:a][1:a]amix=inputs=2:normalize=0", str(mixed))  # fmt: skip
    found = {m.work_id: m for m in query(index, mixed)}
    # Both are there: the music, and the (registered) speech itself.
    assert SONG_A in found and found[SONG_A].work_start == pytest.approx(15.0, abs=1.0)


def test_unrelated_music_and_noise_do_not_match(index: Connection, media: dict[str, Path],
                                                tmp_path: Path) -> None:  # fmt: skip
    for start in (0.0, 10.0, 20.0):
        assert query(index, transformed(media, "song_c", start, 8.0, None)) == []
    noise = tmp_path / "noise.wav"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=8:c=pink:a=0.3", str(noise))
    assert query(index, noise) == []


def test_merge_prefers_measured_transform() -> None:
    from registry.core.matching.audio_index import AudioMatch

    chroma = [AudioMatch(5, 0.8, 0, 10, 20, 30, 70, 0.1, 1.03)]
    peaks = [pi.PeakMatch(5, 0.7, 40, 50, 1.0, 90, 0.5, 10.1, 21, 31, 1.12, 2.04),
             pi.PeakMatch(6, 0.6, 40, 50, 1.0, 90, 0, 5, 0, 5, 0.9, 0.0)]  # fmt: skip
    merged = merge_matches(chroma, peaks)
    assert [m.work_id for m in merged] == [5, 6]
    assert merged[0].transform.as_dict() == {"speed": 1.12, "pitch_semitones": 2.0}
    assert merged[0].score == 0.8 and merged[0].found_by == ("chromaprint", "peaks")
    # A changed copy is placed by the peaks' fitted scale, not by Chromaprint's
    # nearest speed variant; an unchanged one by Chromaprint's finer items.
    assert (merged[0].query_start, merged[0].work_start) == (0.5, 21)
    same = [pi.PeakMatch(5, 0.7, 40, 50, 1.0, 90, 0.5, 10.1, 21, 31, 1.002, 0.1)]
    unchanged = merge_matches([AudioMatch(5, 0.8, 0, 10, 20, 30, 70, 0.1, 1.0)], same)
    assert (unchanged[0].query_start, unchanged[0].work_start) == (0, 20)
    only_chroma = merge_matches(chroma, [])[0].transform
    assert only_chroma.speed == 1.03 and only_chroma.pitch_semitones == 0.5
