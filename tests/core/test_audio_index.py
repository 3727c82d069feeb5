"""The SQL audio index: storage, search at any offset, robustness, no false matches.

Runs on SQLite by default and on PostgreSQL when DATABASE_URL points there.
Recordings are the committed MIDI fixtures rendered with fluidsynth and the
committed speech clip; every query transformation is made here with ffmpeg.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from registry.core.audio import (
    ITEMS_PER_SECOND,
    SILENCE_ITEMS,
    AudioFingerprint,
    fingerprint_file,
    fingerprint_query,
)
from registry.core.matching import audio_index as audio_index_module
from registry.core.matching.audio_index import (
    AUDIO_TABLES,
    KEY_BITS,
    POSTING,
    STRICT,
    QueryVariants,
    SearchParams,
    _verify,
    add_recording,
    add_recordings,
    audio_postings,
    bit_errors,
    count_recordings,
    effective_items,
    index_keys,
    item_change,
    item_keys,
    load_fingerprint,
    rebuild,
    remove_recording,
    search,
    verify_candidates,
)
from registry.core.media import MediaLimits
from registry.core.sql import metadata
from tests.media import render_midi

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
LIMITS = MediaLimits()
SONG_A, SONG_B, SPEECH = 101, 202, 303


def ffmpeg(*args: str, data: bytes | None = None) -> bytes:
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *args], input=data, capture_output=True,
        check=True,
    )  # fmt: skip
    return done.stdout


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("audio_index")
    paths: dict[str, Path] = {}
    for name in ("song_a", "song_b", "song_c"):
        wav = out / f"{name}.wav"
        render_midi(FIXTURES / f"{name}.mid", wav)
        paths[name] = wav
    paths["speech"] = FIXTURES / "speech.opus"
    paths["dir"] = out
    return paths


@pytest.fixture(scope="module")
def registered(media: dict[str, Path]) -> dict[int, AudioFingerprint]:
    return {
        SONG_A: fingerprint_file(media["song_a"], LIMITS),
        SONG_B: fingerprint_file(media["song_b"], LIMITS),
        SPEECH: fingerprint_file(media["speech"], LIMITS),
    }


@pytest.fixture
def conn(core_engine: Engine) -> Iterator[Connection]:
    with core_engine.begin() as c:
        metadata.drop_all(c, tables=AUDIO_TABLES)
        metadata.create_all(c, tables=AUDIO_TABLES)
    try:
        with core_engine.begin() as c:
            yield c
    finally:
        with core_engine.begin() as c:
            metadata.drop_all(c, tables=AUDIO_TABLES)


@pytest.fixture
def index(conn: Connection, registered: dict[int, AudioFingerprint]) -> Connection:
    for work_id, fp in registered.items():
        add_recording(conn, work_id, fp)
    return conn


def clip(src: Path, dest: Path, start: float, seconds: float, *args: str) -> Path:
    ffmpeg("-ss", str(start), "-t", str(seconds), "-i", str(src), *args, str(dest))
    return dest


def add_noise(src: Path, dest: Path, snr_db: float) -> Path:
    raw = ffmpeg("-i", str(src), "-ac", "1", "-ar", "22050", "-f", "s16le", "-")
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    noise = np.random.default_rng(7).normal(0, np.sqrt(np.mean(x**2) / 10 ** (snr_db / 10)), x.size)
    y = np.clip(x + noise, -32768, 32767).astype("<i2").tobytes()
    ffmpeg("-f", "s16le", "-ar", "22050", "-ac", "1", "-i", "-", str(dest), data=y)
    return dest


def best(conn: Connection, path: Path):
    matches = search(conn, fingerprint_query(path, LIMITS))
    assert matches, "no match"
    return matches[0], matches


# --------------------------------------------------------------------------- storage


def postings(conn: Connection) -> list[tuple[int, int, int]]:
    """Every (key, work, position) held by the index, decoded."""
    out = []
    for key, blob in conn.execute(sa.select(audio_postings.c.key, audio_postings.c.postings)):
        out += [(key, int(w), int(p)) for w, p in np.frombuffer(bytes(blob), dtype=POSTING)]
    return sorted(out)


def key_counts(conn: Connection) -> dict[int, int]:
    return dict(conn.execute(sa.select(audio_postings.c.key, audio_postings.c.works)).all())


def test_a_key_is_found_by_its_primary_key(conn: Connection) -> None:
    assert [c.name for c in audio_postings.primary_key.columns] == ["key"]
    if conn.dialect.name == "sqlite":  # the rowid itself: no separate index to search
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT postings FROM audio_postings WHERE key = 5"
        ).fetchall()
        assert "INTEGER PRIMARY KEY" in str(plan)
    else:  # room for HOT updates (see POSTGRES_FILLFACTOR)
        options = conn.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE oid = 'audio_postings'::regclass"
        ).scalar_one()
        assert "fillfactor=70" in options


def test_add_count_load_remove(conn: Connection, registered: dict[int, AudioFingerprint]) -> None:
    add_recordings(conn, list(registered.items()))
    assert count_recordings(conn) == 3
    loaded = load_fingerprint(conn, SONG_A)
    assert loaded is not None and loaded.digest() == registered[SONG_A].digest()
    keys_a, pos_a = index_keys(registered[SONG_A].items)
    of_a = [(k, p) for k, w, p in postings(conn) if w == SONG_A]
    assert of_a == sorted(zip(keys_a.tolist(), pos_a.tolist(), strict=True))
    counts = key_counts(conn)
    for key in set(keys_a.tolist()):
        holders = sum(key in set(index_keys(fp.items)[0].tolist()) for fp in registered.values())
        assert counts[key] == holders
    assert remove_recording(conn, SONG_A) is True
    assert remove_recording(conn, SONG_A) is False
    assert count_recordings(conn) == 2
    assert not [w for _, w, _ in postings(conn) if w == SONG_A]
    # Key counts were decremented: a key only song A had is gone.
    only_a = set(keys_a.tolist()) - {
        k for w in (SONG_B, SPEECH) for k in index_keys(registered[w].items)[0].tolist()
    }
    assert only_a and not only_a & set(key_counts(conn))
    assert key_counts(conn) == {
        k: n - (k in set(keys_a.tolist())) for k, n in counts.items() if k not in only_a
    }


def test_saturated_keys_keep_only_their_count(
    conn: Connection, registered: dict[int, AudioFingerprint], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audio_index_module, "SATURATED_WORKS", 2)
    song_a, song_b = registered[SONG_A], registered[SONG_B]
    add_recordings(conn, [(1, song_a), (2, song_a)])
    for work_id in (3, 4):  # one at a time: the append path
        add_recording(conn, work_id, song_a if work_id == 3 else song_b)
    keys_a = set(index_keys(song_a.items)[0].tolist())
    keys_b = set(index_keys(song_b.items)[0].tolist())
    counts = key_counts(conn)
    assert all(counts[k] == 3 + (k in keys_b) for k in keys_a)
    kept = {k for k, _, _ in postings(conn)}
    assert not kept & keys_a  # saturated: count only
    assert keys_b - keys_a <= kept
    remove_recording(conn, 1)
    assert all(key_counts(conn)[k] == counts[k] for k in keys_a)  # stays saturated
    assert search(conn, [song_b])[0].work_id == 4


def test_index_keys_skip_silence_and_repeats() -> None:
    silence = next(iter(SILENCE_ITEMS))
    a, b = 0xABCDEF01, 0x12345678
    outside = next(bit for bit in range(32) if bit not in KEY_BITS)
    items = np.array([silence, a, a ^ (1 << outside), b, silence, a], dtype=np.uint32)
    keys, positions = index_keys(items)
    assert positions.tolist() == [1, 3, 5]  # item 2 differs from item 1 outside the key
    ka, kb = item_keys(np.array([a, b], dtype=np.uint32)).tolist()
    assert keys.tolist() == [ka, kb, ka]
    assert ka != kb and max(ka, kb) < 2 ** len(KEY_BITS)


def test_key_gathers_the_chosen_bits() -> None:
    assert len(set(KEY_BITS)) == len(KEY_BITS) == 22
    for j, bit in enumerate(KEY_BITS):
        assert item_keys(np.array([1 << bit], dtype=np.uint32)).tolist() == [1 << j]


def _reference_verify(fps: list[AudioFingerprint], w: np.ndarray, offset: int,
                      params: SearchParams) -> tuple[int, object] | None:  # fmt: skip
    """The per-candidate, per-variant verification that ``verify_candidates``
    vectorises: rank (variant, offset) trials by overall error rate, analyse the
    three best one by one with ``_verify``."""
    trials = []
    for u, fp in enumerate(fps):
        for o in range(offset - 2, offset + 3):
            start, errors = bit_errors(fp.items, w, o)
            if errors.size:
                trials.append((errors.sum() / errors.size, u, o))
    best = None
    for _, u, o in sorted(trials)[:3]:
        v = _verify(fps[u].items, w, o, params)
        if v is not None:
            quality = (1 - 2 * v.ber) * min(1.0, (v.end - v.start) / 100) ** 0.5
            if best is None or quality > best[0]:
                best = (quality, u, v)
    return None if best is None else (best[1], best[2])


@pytest.mark.parametrize("params", [SearchParams(), STRICT], ids=["default", "strict"])
def test_vectorised_verification_equals_the_per_candidate_rule(
    registered: dict[int, AudioFingerprint], monkeypatch: pytest.MonkeyPatch,
    params: SearchParams,
) -> None:
    """Candidates at the right offset, near it, at the edges of the recording
    and unrelated, for clean, noisy and speed-changed variants of clips (under the
    strict rule too: its held-chord count must be the same on both paths)."""
    rng = np.random.default_rng(5)
    songs = list(registered.values())
    outcomes = []
    for trial in range(40):
        src = songs[trial % len(songs)].items
        n = int(rng.integers(20, 160))
        start = int(rng.integers(-n // 2, src.size - n // 2))
        clip = src[max(0, start) : max(0, start) + n].copy()
        flips = rng.random((clip.size, 32)) < rng.uniform(0, 0.3)
        clip ^= (flips * (1 << np.arange(32, dtype=np.uint64))).sum(axis=1).astype(np.uint32)
        stretched = clip[np.clip((np.arange(int(clip.size / 1.03)) * 1.03).astype(int), 0,
                                 clip.size - 1)]  # fmt: skip
        fps = [AudioFingerprint(clip, clip.size / 8), AudioFingerprint(stretched, clip.size / 8)]
        works = [s.items for s in songs] + [rng.integers(0, 2**32, 300, dtype=np.uint32)]
        offsets = [max(0, start) + int(rng.integers(-3, 4)) for _ in works]
        offsets[0] = int(rng.integers(-200, 1200))
        got = verify_candidates(QueryVariants(fps), works, offsets, params)
        want = [_reference_verify(fps, w, o, params) for w, o in zip(works, offsets, strict=True)]
        assert got == want, trial
        with monkeypatch.context() as m:  # candidates verified in groups: same answer
            m.setattr(audio_index_module, "VERIFY_ELEMENTS", 1)
            assert verify_candidates(QueryVariants(fps), works, offsets, params) == got
        outcomes += [g is not None for g in got]
    # Both outcomes are exercised: the comparison is not between two empty lists.
    assert 8 <= sum(outcomes) <= len(outcomes) - 60, sum(outcomes)


def _held(n: int, flips_per_item: int, seed: int) -> np.ndarray:
    """Items that change by ``flips_per_item`` bits from one to the next (a held
    chord changes few: Chromaprint's items of a drone barely move)."""
    rng = np.random.default_rng(seed)
    items = np.empty(n, dtype=np.uint32)
    items[0] = rng.integers(0, 2**32, dtype=np.uint32)
    for i in range(1, n):
        bits = rng.choice(32, flips_per_item, replace=False)
        items[i] = items[i - 1] ^ np.uint32(sum(1 << int(b) for b in bits))
    return items


def _noisy(items: np.ndarray, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flips = rng.random((items.size, 32)) < rate
    return items ^ (flips * (1 << np.arange(32, dtype=np.uint64))).sum(axis=1).astype(np.uint32)


def test_item_change_measures_how_much_items_move() -> None:
    assert item_change(np.full(50, 7, dtype=np.uint32)) == 0.0
    assert item_change(_held(200, 1, 1)) == pytest.approx(1 / 32)
    busy = np.random.default_rng(2).integers(0, 2**32, 500, dtype=np.uint32)
    assert 0.45 < item_change(busy) < 0.55
    assert item_change(busy[:1]) == 1.0


def test_held_chords_count_as_less_evidence_under_the_strict_rule() -> None:
    """Two unrelated tracks holding chords alike agree at a bit error rate the strict
    rule accepts from changing music; where the items barely move (1 bit of 32 per
    item), 40 aligned items count as 12 and the stretch no longer stands alone."""
    query = _held(40, 1, 3)
    work = np.concatenate([_held(30, 5, 4), _noisy(query, 0.10, 5), _held(30, 5, 6)])
    assert STRICT.change_ref > 0
    assert effective_items(40, item_change(query), STRICT) == 12
    v = _verify(query, work, 30, replace(STRICT, change_ref=0.0))
    assert v is not None and v.change == pytest.approx(1 / 32)  # the rule off: it stood
    assert _verify(query, work, 30, STRICT) is None
    assert _verify(query, work, 30, SearchParams()) is not None  # weak: peaks may vouch
    # The same agreement over music whose items change passes the strict rule.
    busy = _held(40, 5, 7)
    work = np.concatenate([_held(30, 5, 8), _noisy(busy, 0.10, 9), _held(30, 5, 10)])
    assert _verify(busy, work, 30, STRICT) is not None


def test_rebuild_recreates_the_same_index(index: Connection) -> None:
    def snapshot() -> tuple[list[tuple[int, int, int]], dict[int, int]]:
        return postings(index), key_counts(index)

    before = snapshot()
    index.execute(audio_postings.delete())
    calls: list[tuple[int, int]] = []
    assert rebuild(index, lambda done, total: calls.append((done, total)), batch_size=2) == 3
    assert calls == [(0, 3), (2, 3), (3, 3)]  # as every index rebuild reports
    assert snapshot() == before


def test_common_keys_are_ignored(index: Connection, media: dict[str, Path]) -> None:
    query = clip(media["song_a"], media["dir"] / "common.wav", 12, 15)
    fps = fingerprint_query(query, LIMITS)
    assert search(index, fps)
    # With a cap of 0 works per key every key is "too common": nothing is found.
    assert search(index, fps, params=SearchParams(max_key_works=0)) == []


# --------------------------------------------------------------------------- finding clips

TRANSFORMS: dict[str, tuple[str, list[str], float]] = {
    # name: (extension, ffmpeg output args, query speed relative to the original)
    "clean": ("wav", [], 1.0),
    "mp3-64k": ("mp3", ["-c:a", "libmp3lame", "-b:a", "64k"], 1.0),
    "aac-64k": ("m4a", ["-c:a", "aac", "-b:a", "64k"], 1.0),
    "opus-64k": ("opus", ["-c:a", "libopus", "-b:a", "64k"], 1.0),
    "volume-15dB": ("wav", ["-af", "volume=-15dB"], 1.0),
    "volume+6dB": ("wav", ["-af", "volume=6dB"], 1.0),
    "phone-8k": ("wav", ["-af", "highpass=f=300,lowpass=f=3400", "-ar", "8000", "-ac", "1"], 1.0),
    "tempo+3%": ("wav", ["-af", "atempo=1.03"], 1.03),
    "tempo-3%": ("wav", ["-af", "atempo=0.97"], 0.97),
    "speed+3%": ("wav", ["-af", "asetrate=22050*1.03,aresample=22050"], 1.03),
    "speed-3%": ("wav", ["-af", "asetrate=22050*0.97,aresample=22050"], 0.97),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_clip_found_under_transformation(
    name: str, index: Connection, media: dict[str, Path], tmp_path: Path
) -> None:
    ext, args, speed = TRANSFORMS[name]
    start = 17.5
    query = clip(media["song_a"], tmp_path / f"q.{ext}", start, 15, *args)
    top, _ = best(index, query)
    assert top.work_id == SONG_A
    assert top.score > 0.4
    assert top.work_start == pytest.approx(start + top.query_start * speed, abs=0.6)
    assert top.query_start < 2.0
    assert top.query_end > 12.0
    assert top.aligned_items > 80
    assert top.speed == pytest.approx(speed, abs=0.016)


def test_clip_found_under_white_noise_10db(
    index: Connection, media: dict[str, Path], tmp_path: Path
) -> None:
    source = clip(media["song_a"], tmp_path / "src.wav", 25.0, 15)
    query = add_noise(source, tmp_path / "noisy.wav", snr_db=10)
    top, _ = best(index, query)
    assert top.work_id == SONG_A
    assert top.work_start == pytest.approx(25.0 + top.query_start, abs=0.6)


def test_music_under_louder_noise_is_aligned_but_only_weakly(
    index: Connection, media: dict[str, Path], tmp_path: Path
) -> None:
    """White noise 7 dB louder than the music: Chromaprint still aligns the clip under
    its lenient rule, not its strict one; the lookup then needs the peak fingerprint
    to vouch for the work (``audio_query.vote``). At 0 dB the stretch is strong."""
    source = clip(media["song_a"], tmp_path / "src.wav", 20.0, 12)
    for snr, strong in ((-7, False), (0, True)):
        query = add_noise(source, tmp_path / f"noisy{snr}.wav", snr_db=snr)
        found = search(index, fingerprint_query(query, LIMITS), strict=STRICT)
        assert found and found[0].work_id == SONG_A and found[0].strong is strong
        assert found[0].work_start == pytest.approx(20.0 + found[0].query_start, abs=0.6)


def test_speech_clip_reencoded(index: Connection, media: dict[str, Path], tmp_path: Path) -> None:
    query = clip(media["speech"], tmp_path / "speech.mp3", 2.0, 8, "-b:a", "64k")
    top, _ = best(index, query)
    assert top.work_id == SPEECH
    assert top.work_start == pytest.approx(2.0 + top.query_start, abs=0.6)


def test_five_second_clip(index: Connection, media: dict[str, Path], tmp_path: Path) -> None:
    query = clip(media["song_b"], tmp_path / "five.mp3", 30.0, 5, "-b:a", "96k")
    top, _ = best(index, query)
    assert top.work_id == SONG_B
    assert top.work_start == pytest.approx(30.0 + top.query_start, abs=0.6)


def test_whole_recording_reencoded(
    index: Connection, media: dict[str, Path], tmp_path: Path
) -> None:
    query = tmp_path / "whole.opus"
    ffmpeg("-i", str(media["song_b"]), "-c:a", "libopus", "-b:a", "64k", str(query))
    top, matches = best(index, query)
    assert top.work_id == SONG_B
    assert [m.work_id for m in matches] == [SONG_B]
    assert top.work_start < 1.0 and top.query_start < 1.0
    duration = len(load_fingerprint(index, SONG_B)) / ITEMS_PER_SECOND
    assert top.work_end > duration - 1.0


def test_recording_embedded_in_a_longer_query(
    index: Connection, media: dict[str, Path], tmp_path: Path
) -> None:
    """Unregistered music, then 20 s of song B from 8 s, then unregistered music."""
    pcm = b"".join(
        ffmpeg("-ss", str(s), "-t", str(d), "-i", str(media[n]), "-ac", "1", "-ar", "22050",
               "-f", "s16le", "-")
        for n, s, d in (("song_c", 0, 12), ("song_b", 8, 20), ("song_c", 20, 12))
    )  # fmt: skip
    query = tmp_path / "mix.flac"
    ffmpeg("-f", "s16le", "-ar", "22050", "-ac", "1", "-i", "-", str(query), data=pcm)
    top, matches = best(index, query)
    assert [m.work_id for m in matches] == [SONG_B]
    assert top.query_start == pytest.approx(12.0, abs=1.5)
    assert top.query_end == pytest.approx(32.0, abs=1.5)
    assert top.work_start == pytest.approx(8.0 + (top.query_start - 12.0), abs=0.6)


# --------------------------------------------------------------------------- no false matches


def test_unrelated_music_does_not_match(
    index: Connection, media: dict[str, Path], tmp_path: Path
) -> None:
    for start in (0.0, 15.0, 28.0):
        query = clip(media["song_c"], tmp_path / f"c{start}.mp3", start, 15)
        assert search(index, fingerprint_query(query, LIMITS)) == []
    assert search(index, fingerprint_query(media["song_c"], LIMITS)) == []


def test_noise_does_not_match(index: Connection, tmp_path: Path) -> None:
    query = tmp_path / "noise.wav"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=15:c=pink:a=0.3", str(query))
    assert search(index, fingerprint_query(query, LIMITS)) == []


def test_removed_recording_is_no_longer_found(
    index: Connection, media: dict[str, Path], tmp_path: Path
) -> None:
    query = clip(media["song_a"], tmp_path / "a.wav", 5.0, 12)
    fps = fingerprint_query(query, LIMITS)
    assert search(index, fps)[0].work_id == SONG_A
    remove_recording(index, SONG_A)
    assert all(m.work_id != SONG_A for m in search(index, fps))
