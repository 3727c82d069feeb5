"""Chromaprint fingerprints through the real fpcalc: errors, storage form, query variants."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from registry.core.audio import (
    DEFAULT_SPEEDS,
    ITEMS_PER_SECOND,
    SILENCE_ITEMS,
    AudioFingerprint,
    _accept,
    _FpcalcResult,
    _parse_fpcalc_stream,
    expected_items,
    fingerprint_file,
    fingerprint_query,
)
from registry.core.errors import CorruptMedia, MediaTooShort, SilentAudio
from registry.core.media import AudioInfo, MediaLimits
from tests.media import render_midi

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LIMITS = MediaLimits()


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """song_a.mid rendered with fluidsynth (about 45 s)."""
    wav = tmp_path_factory.mktemp("fp") / "song_a.wav"
    render_midi(FIXTURES / "audio" / "song_a.mid", wav)
    return wav


@pytest.fixture(scope="module")
def song_fp(song: Path) -> AudioFingerprint:
    return fingerprint_file(song, LIMITS)


def test_fingerprint_has_about_eight_items_per_second(song_fp: AudioFingerprint) -> None:
    assert 40 < song_fp.duration_s < 60
    assert len(song_fp) == pytest.approx(expected_items(song_fp.duration_s), abs=3)
    assert song_fp.items.dtype == np.uint32
    assert song_fp.non_silent_count() > 0.9 * len(song_fp)


def test_binary_round_trip_and_digest(song_fp: AudioFingerprint) -> None:
    blob = song_fp.to_bytes()
    assert len(blob) == 16 + 4 * len(song_fp)  # compact: header + 4 bytes per item
    back = AudioFingerprint.from_bytes(blob)
    assert np.array_equal(back.items, song_fp.items)
    assert back.duration_s == pytest.approx(song_fp.duration_s, rel=1e-6)
    assert back == song_fp
    assert back.digest() == song_fp.digest()
    assert len(song_fp.digest()) == 64
    # Little-endian uint32 items right after the header.
    assert int.from_bytes(blob[16:20], "little") == int(song_fp.items[0])


def test_from_bytes_rejects_garbage(song_fp: AudioFingerprint) -> None:
    with pytest.raises(ValueError):
        AudioFingerprint.from_bytes(b"nonsense-bytes-here")
    with pytest.raises(ValueError):
        AudioFingerprint.from_bytes(song_fp.to_bytes()[:-4])


def test_reencoded_fingerprint_is_deterministic(song: Path, song_fp: AudioFingerprint) -> None:
    again = fingerprint_file(song, LIMITS)
    assert again.digest() == song_fp.digest()


def test_stream_parser_handles_any_chunking() -> None:
    values = [0, 1, 4294967295, 627964279, 123456789] * 50
    text = b"DURATION=12\nFINGERPRINT=" + b",".join(str(v).encode() for v in values) + b"\n"
    for size in (1, 7, 64, len(text)):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert _parse_fpcalc_stream(chunks).tolist() == values


# --------------------------------------------------------------------------- fpcalc exit codes


def test_fpcalc_trailing_decode_error_is_accepted(song: Path, tmp_path: Path) -> None:
    """Debian's fpcalc exits 3 after "Error decoding audio frame" at the end of a file.

    An MP3 with junk appended after its last frame makes that happen for real; the
    fingerprint still covers the whole recording, so it is accepted.
    """
    mp3 = tmp_path / "song.mp3"
    ffmpeg("-i", str(song), "-c:a", "libmp3lame", "-b:a", "128k", str(mp3))
    junk = tmp_path / "junk_tail.mp3"
    junk.write_bytes(mp3.read_bytes() + np.random.default_rng(1).bytes(3000))
    raw = subprocess.run(["fpcalc", "-raw", "-length", "0", str(junk)], capture_output=True)
    assert raw.returncode != 0
    assert b"Error decoding audio frame" in raw.stderr
    fp = fingerprint_file(junk, LIMITS)
    clean = fingerprint_file(mp3, LIMITS)
    assert abs(len(fp) - len(clean)) <= 2


def _info(seconds: float) -> AudioInfo:
    return AudioInfo(seconds, "flac", 44100, 2, "flac")


def test_accept_rules_for_nonzero_exit() -> None:
    full = np.arange(int(expected_items(60)), dtype=np.uint32)
    eof = ["ERROR: Error decoding audio frame (End of file)"]
    _accept(_FpcalcResult(full, 3, eof), _info(60))  # whole file covered: fine
    with pytest.raises(CorruptMedia, match="truncated"):  # stopped early: damaged
        _accept(_FpcalcResult(full[: full.size // 2], 3, eof), _info(60))
    with pytest.raises(CorruptMedia, match="damaged"):  # not a decode error
        _accept(_FpcalcResult(full, 2, ["ERROR: Could not open the input file"]), _info(60))
    with pytest.raises(CorruptMedia):  # nothing printed
        _accept(_FpcalcResult(full[:0], 3, eof), _info(60))


def test_truncated_wav_is_rejected(song: Path, tmp_path: Path) -> None:
    data = song.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])  # header still announces the full length
    with pytest.raises(CorruptMedia) as err:
        fingerprint_file(cut, LIMITS)
    assert "truncated" in err.value.message


# --------------------------------------------------------------------------- content errors


def test_digital_silence_is_rejected() -> None:
    with pytest.raises(SilentAudio):
        fingerprint_file(FIXTURES / "media" / "silence.flac", LIMITS)


def test_mostly_silent_recording_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "blip.wav"  # a half-second beep, then 20 s of digital silence
    ffmpeg("-f", "lavfi", "-i", "sine=f=500:d=0.5", "-af", "apad=pad_dur=20", str(path))
    with pytest.raises(SilentAudio):
        fingerprint_file(path, LIMITS)


def test_too_short_is_rejected() -> None:
    with pytest.raises(MediaTooShort):
        fingerprint_file(FIXTURES / "media" / "short.wav", LIMITS)


def test_silence_item_constant_matches_fpcalc(tmp_path: Path) -> None:
    fp_items = subprocess.run(
        ["fpcalc", "-raw", "-length", "0", str(FIXTURES / "media" / "silence.flac")],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    values = {int(v) for v in fp_items.split("FINGERPRINT=")[1].strip().split(",")}
    assert values <= SILENCE_ITEMS


# --------------------------------------------------------------------------- query variants


def test_query_variants(song: Path, tmp_path: Path, song_fp: AudioFingerprint) -> None:
    clip = tmp_path / "clip.wav"
    ffmpeg("-ss", "10", "-t", "15", "-i", str(song), str(clip))
    variants = fingerprint_query(clip, LIMITS)
    assert len(variants) == 1 + 2 * len(DEFAULT_SPEEDS)
    plain = variants[0]
    assert plain.speed == 1.0
    assert len(plain) == pytest.approx(15 * ITEMS_PER_SECOND - 21.3, abs=3)
    # A faster query, once slowed back down, has more items than the plain one.
    by = {(fp.variant, fp.speed): len(fp) for fp in variants}
    slow, fast = min(DEFAULT_SPEEDS), max(DEFAULT_SPEEDS)
    assert slow < 1 < fast
    assert by[("speed", fast)] > len(plain) > by[("speed", slow)]
    assert by[("tempo", fast)] > len(plain) > by[("tempo", slow)]
    # The unmodified query variant equals the clip's own items inside the song.
    offset = round(10 * ITEMS_PER_SECOND)
    window = song_fp.items[offset - 2 : offset + 2 + len(plain)]
    best = min(
        np.mean(np.bitwise_count(plain.items ^ window[k : k + len(plain)]))
        for k in range(0, 5)
    )
    assert best < 4  # under 4 differing bits of 32 per item


def test_query_of_silence_is_rejected() -> None:
    with pytest.raises(SilentAudio):
        fingerprint_query(FIXTURES / "media" / "silence.flac", LIMITS)
