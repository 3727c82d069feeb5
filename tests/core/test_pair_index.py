"""The pair stage (:mod:`registry.core.matching.pair_index`): voice-overs at 0 dB.

Recordings are the committed MIDI fixtures rendered with fluidsynth; the voice is
the committed ``speech.opus``, mixed over the music at the same loudness (0 dB)
with ffmpeg when the tests run. Both other indexes (Chromaprint, quads) are
filled too, and the lookup goes through :func:`registry.core.audio_query.lookup`.
Then the lookup's quad search after Chromaprint (lighter when Chromaprint found the
recording unchanged), and its fast-copy pass (the quads again, on peaks picked for a
sped-up copy, when nothing was found).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from registry.core import audio_peaks as ap
from registry.core import audio_query
from registry.core.audio import fingerprint_file
from registry.core.audio_query import AudioQuery, fingerprint_query_file, lookup
from registry.core.matching import audio_index
from registry.core.matching import pair_index as pr
from registry.core.matching import peak_index as pi
from registry.core.media import MediaLimits
from registry.core.sql import metadata
from tests.media import render_midi

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
SONG_A, SONG_B = 11, 22
RATE = 22050
LIMITS = MediaLimits(min_audio_seconds=3.0)
TABLES = audio_index.AUDIO_TABLES + pi.PEAK_TABLES + pr.PAIR_TABLES


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True,
                   capture_output=True)  # fmt: skip


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("pair_index")
    paths: dict[str, Path] = {"dir": out}
    for name in ("song_a", "song_b", "song_c"):
        wav = out / f"{name}.wav"
        render_midi(FIXTURES / f"{name}.mid", wav, rate=RATE)
        paths[name] = wav
    return paths


def voice_over(media: dict[str, Path], name: str, start: float, seconds: float = 12.0,
               speech_db: float = 0.0) -> Path:  # fmt: skip
    """``seconds`` of ``name`` from ``start`` with speech mixed over it, both
    loudness-normalised, the speech ``speech_db`` relative to the music."""
    out = media["dir"]
    music, voice = out / f"m_{name}_{start}.wav", out / f"s_{speech_db}.wav"
    mixed = out / f"vo_{name}_{start}_{speech_db}.wav"
    ffmpeg("-ss", str(start), "-t", str(seconds), "-i", str(media[name]),
           "-af", "loudnorm=I=-20", "-ar", str(RATE), str(music))  # fmt: skip
    ffmpeg("-t", str(seconds), "-i", str(FIXTURES / "speech.opus"),
           "-af", f"loudnorm=I={-20 + speech_db}", "-ar", str(RATE), "-ac", "1",
           str(voice))  # fmt: skip
    ffmpeg("-i", str(music), "-i", str(voice), "-filter_complex",
           "[0:a][1:a]amix=inputs=2:normalize=0", str(mixed))  # fmt: skip
    return mixed


@pytest.fixture(scope="module")
def registered(media: dict[str, Path]) -> dict[int, tuple]:
    return {
        work: (fingerprint_file(media[name], LIMITS),
               ap.peaks_of_samples(ap.decode(media[name]), ap.REFERENCE))
        for work, name in ((SONG_A, "song_a"), (SONG_B, "song_b"))
    }  # fmt: skip


@pytest.fixture
def conn(core_engine: Engine) -> Iterator[Connection]:
    with core_engine.begin() as c:
        metadata.drop_all(c, tables=TABLES)
        metadata.create_all(c, tables=TABLES)
    try:
        with core_engine.begin() as c:
            yield c
    finally:
        with core_engine.begin() as c:
            metadata.drop_all(c, tables=TABLES)


def register(conn: Connection, registered: dict[int, tuple]) -> None:
    """As :meth:`AudioKind.add_fingerprint` does: all three indexes."""
    audio_index.add_recordings(conn, [(w, c) for w, (c, _) in registered.items()])
    peaks = [(w, p) for w, (_, p) in registered.items()]
    pi.add_recordings(conn, peaks)
    pr.add_recordings(conn, peaks)


def remove(conn: Connection, work_id: int) -> None:
    """As :meth:`AudioKind.remove` does: the pairs first (they read the peaks)."""
    assert pr.remove_recording(conn, work_id)
    assert pi.remove_recording(conn, work_id)
    assert audio_index.remove_recording(conn, work_id)


def ask(conn: Connection, q: AudioQuery, *, pair_stage: bool = True) -> dict:
    return {m.work_id: m for m in lookup(conn, q.chromaprint, q.peaks, q.dense,
                                         pair_stage=pair_stage)}  # fmt: skip


def pair_postings(conn: Connection) -> dict[int, bytes]:
    t = pr.audio_pair_postings
    return {k: bytes(p) for k, p in conn.execute(sa.select(t.c.key, t.c.postings))}


def test_reference_pairs_and_keys(registered: dict[int, tuple]) -> None:
    fp = registered[SONG_A][1]
    p = pr.reference_pairs(fp)
    # Up to REFERENCE_FANOUT pairs per anchor; keys inside the key space.
    assert 0 < p.key.size <= pr.REFERENCE_FANOUT * len(fp)
    assert p.key.min() >= 0 and p.key.max() < pr.N_KEYS
    # A query's pairs (all partners, probes) contain every reference pair of the same peaks.
    q = pr.pairs(fp, fanout=None, probe=0.25)
    assert np.isin(p.key, q.key).all()


def test_voice_over_at_0db_found_only_by_the_pair_stage(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path],
) -> None:  # fmt: skip
    register(conn, registered)
    q = fingerprint_query_file(voice_over(media, "song_a", 15.0), LIMITS)
    assert q.dense is not None and len(q.dense()) > 2 * len(q.peaks)
    without = ask(conn, q, pair_stage=False)
    assert SONG_A not in without  # Chromaprint and the quads miss it
    found = ask(conn, q)
    assert list(found) == [SONG_A]
    m = found[SONG_A]
    assert m.found_by == ("pairs",)
    assert m.transform.as_dict() == {"speed": 1.0, "pitch_semitones": 0.0}
    assert m.work_start == pytest.approx(15.0, abs=0.5)
    assert m.query_end - m.query_start >= 8.0
    assert m.work_end - m.work_start == pytest.approx(m.query_end - m.query_start, abs=0.1)


def test_pair_stage_does_not_run_on_a_hit(conn: Connection, registered: dict[int, tuple],
                                          media: dict[str, Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    register(conn, registered)
    clip = media["dir"] / "clean.wav"
    ffmpeg("-ss", "20", "-t", "10", "-i", str(media["song_b"]), str(clip))
    q = fingerprint_query_file(clip, LIMITS)

    def fail(*_a: object, **_k: object) -> list:
        raise AssertionError("the pair stage ran on a hit")

    monkeypatch.setattr(pr, "search", fail)
    found = ask(conn, q)
    assert list(found)[0] == SONG_B and "pairs" not in found[SONG_B].found_by
    assert q.dense is not None and q.dense._peaks is None  # never picked: a hit costs nothing


def test_unrelated_music_and_noise_are_not_found_by_pairs(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path], tmp_path: Path,
) -> None:  # fmt: skip
    register(conn, registered)
    clips = []
    for start in (0.0, 10.0, 20.0):
        clips.append(voice_over(media, "song_c", start))
        clip = tmp_path / f"c{start}.wav"
        ffmpeg("-ss", str(start), "-t", "8", "-i", str(media["song_c"]), str(clip))
        clips.append(clip)
    noise = tmp_path / "noise.wav"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=8:c=pink:a=0.3", str(noise))
    for clip in [*clips, noise]:
        q = fingerprint_query_file(clip, LIMITS)
        assert q.dense is not None
        # With the soft verification on (the spectrogram read): refused too.
        spec = q.dense.spectrogram
        assert pr.search(conn, q.dense(), params=SOFT, spec=spec) == [], clip.name
        kept = pr.search(conn, q.dense(), spec=spec, keep=lambda v: True)
        assert all(m.soft is not None and m.soft[0] < SOFT.min_soft_z / 2
                   for m in kept), clip.name  # fmt: skip
        assert ask(conn, q) == {}, clip.name


#: The soft verification as calibrated on seeds 0-1 (off by default: README_audio.md,
#: "Session 11").
SOFT = pr.PairSearchParams(min_soft_z=8.5)
OFF = pr.PairSearchParams()  # the default: the peak-count rule alone


@pytest.mark.parametrize(("name", "work", "start"), [("song_a", SONG_A, 15.0),
                                                     ("song_b", SONG_B, 5.0)])
def test_soft_verification_can_find_a_short_voice_over_the_count_refuses(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path], name: str,
    work: int, start: float,
) -> None:  # fmt: skip
    """8 s of music under speech at 0 dB: too few of the recording's peaks are among the
    dense query peaks for the count (fewer than 24), but the query's spectrum still
    peaks where the others were. The soft rule (:data:`SOFT`) finds it; it is off in
    the lookup."""
    register(conn, registered)
    q = fingerprint_query_file(voice_over(media, name, start, seconds=8.0), LIMITS)
    assert q.dense is not None
    assert ask(conn, q, pair_stage=False) == {}  # Chromaprint and the quads miss it
    spec = q.dense.spectrogram
    assert pr.search(conn, q.dense(), params=OFF, spec=spec) == []  # the count alone
    (cand,) = [m for m in pr.search(conn, q.dense(), keep=lambda v: True, spec=spec)
               if m.work_id == work]  # fmt: skip
    assert cand.matched < OFF.min_matched and cand.soft is not None
    assert cand.soft[0] >= SOFT.min_soft_z  # far above the query's own shifted sums
    (m,) = pr.search(conn, q.dense(), params=SOFT, spec=spec)
    assert m.work_id == work and m.soft == cand.soft
    assert m.work_start - m.query_start == pytest.approx(start, abs=0.1)  # the alignment
    assert ask(conn, q) == {}  # the lookup keeps the default rule: not found


def test_soft_score_reads_the_spectrum_at_the_peaks_not_the_dense_peaks() -> None:
    """A partial that is a maximum along frequency scores its prominence (capped), one
    frame either side too; elsewhere 0."""
    params = pr.PairSearchParams()
    spec = np.zeros((600, ap.N_BINS), np.float32)
    spec[50:150, 40] = 3.0  # a partial held 1.6 s, 3 log units over silence
    spec[100, 60] = 1.0  # one frame of a weaker one
    pmap = pr.peakness(spec, params)
    assert pmap[100, 40] == pytest.approx(params.soft_cap)
    assert pmap[99:102, 60].min() > 0.5 and pmap[97, 60] == 0.0
    assert pmap[100, 41] == 0.0 and pmap[100, 39] == 0.0  # no tolerance in frequency
    # The partial's peaks score far above the same peaks shifted in time; a silent bin not.
    qt = np.arange(60, 140, 4)
    s = pr.soft_verify(pmap, qt, np.full(qt.size, 40), params)
    assert s is not None and s.z >= 10 and s.distinct_bins == 1
    s = pr.soft_verify(pmap, qt, np.full(qt.size, 80), params)
    assert s is not None and s.z == 0.0 and s.distinct_bins == 0


def test_pairs_removed_with_the_recording_and_rebuilt(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path],
) -> None:  # fmt: skip
    register(conn, registered)
    before = pair_postings(conn)
    assert before
    conn.execute(pr.audio_pair_postings.delete())
    assert pr.rebuild(conn) == 2
    assert pair_postings(conn) == before
    q = fingerprint_query_file(voice_over(media, "song_b", 25.0, 15.0), LIMITS)
    assert q.dense is not None
    assert [m.work_id for m in pr.search(conn, q.dense())] == [SONG_B]
    remove(conn, SONG_B)
    assert not pr.remove_recording(conn, SONG_B)  # its peaks are gone
    left = np.frombuffer(b"".join(pair_postings(conn).values()), dtype=pr.PAIR_POSTING)
    assert set(left["work"].tolist()) == {SONG_A}
    assert pr.search(conn, q.dense()) == [] and SONG_B not in ask(conn, q)
    # A rebuild from the stored peaks gives the rows an index of SONG_A alone has.
    after = pair_postings(conn)
    assert pr.rebuild(conn) == 1
    assert pair_postings(conn) == after


# --------------------------------------------------------------------------- the quads' search
# after Chromaprint (``audio_query.quad_search``): lighter when Chromaprint found the recording


def _spy_quad_search(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    calls: list[tuple] = []
    real = pi.search

    def spy(conn: Connection, query: ap.PeakPrint, **kw: object) -> list:
        calls.append((kw.get("params"), kw.get("settings", ap.QUERY)))
        return real(conn, query, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pi, "search", spy)
    return calls


def test_a_clean_copy_is_confirmed_by_the_lighter_quad_search(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Chromaprint finds a clean copy; the quads still confirm it (both fingerprints
    vote, the transform is measured), under the confirming rule and quads."""
    register(conn, registered)
    clip = media["dir"] / "clean_confirm.wav"
    ffmpeg("-ss", "12", "-t", "12", "-i", str(media["song_a"]), str(clip))
    calls = _spy_quad_search(monkeypatch)
    found = ask(conn, fingerprint_query_file(clip, LIMITS))
    assert calls == [(pi.CONFIRMING, ap.QUERY_CONFIRM)]
    m = found[SONG_A]
    assert list(found)[0] == SONG_A and m.found_by == ("chromaprint", "peaks")
    assert m.transform.speed == pytest.approx(1.0, abs=0.01)
    assert m.transform.pitch_semitones == pytest.approx(0.0, abs=0.2)
    assert m.work_start == pytest.approx(12.0, abs=0.5)


def test_a_changed_copy_keeps_the_full_quad_search(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A copy a semitone higher: Chromaprint misses it, so the quads search with every
    probe and the full budget, and find it with its transform."""
    register(conn, registered)
    clip = media["dir"] / "pitched_confirm.wav"
    ffmpeg("-ss", "12", "-t", "12", "-i", str(media["song_a"]),
           "-af", "rubberband=pitch=1.059463", str(clip))  # fmt: skip
    calls = _spy_quad_search(monkeypatch)
    found = ask(conn, fingerprint_query_file(clip, LIMITS))
    assert calls == [(pi.LENIENT, ap.QUERY)]
    m = found[SONG_A]
    assert list(found)[0] == SONG_A and "peaks" in m.found_by  # Chromaprint: weak, vouched
    assert m.transform.pitch_semitones == pytest.approx(1.0, abs=0.3)


def test_confirming_quads_look_up_a_fraction_of_the_keys(registered: dict[int, tuple]) -> None:
    fp = registered[SONG_A][1]
    full = np.unique(ap.quads(fp, ap.QUERY).key).size
    light = np.unique(ap.quads(fp, ap.QUERY_CONFIRM).key).size
    assert 0 < light * 4 < full
    assert pi.CONFIRMING.max_postings < pi.LENIENT.max_postings


def test_a_registration_check_finds_a_voice_over_of_a_registered_recording(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path],
) -> None:  # fmt: skip
    """A new registration is checked by the lookup's stages, the pair stage included:
    a voice-over of a registered recording, registered as a work of its own, is
    found (a conflict) as it is when someone looks it up."""
    from registry.kinds.audio import AudioKind

    register(conn, registered)
    kind = AudioKind()
    new = kind.fingerprint(voice_over(media, "song_a", 15.0), LIMITS)
    hits = kind.search(conn, new.query)
    assert [h.work_id for h in hits] == [SONG_A]
    assert hits[0].details["found_by"] == ["pairs"]
    assert hits[0].segment.work_start == pytest.approx(15.0, abs=0.5)


# --------------------------------------------------------------------------- the fast-copy pass
# (``audio_query.fast_copy_search``): peaks picked again for a sped-up copy, quads searched again


def sped_up(media: dict[str, Path], name: str, start: float, speed: float,
            seconds: float = 12.0) -> Path:  # fmt: skip
    """``seconds`` of the original from ``start``, played ``speed`` times as fast
    (pitch and tempo together)."""
    clip = media["dir"] / f"speed_{name}_{start}_{speed}.wav"
    ffmpeg("-ss", str(start), "-t", str(seconds), "-i", str(media[name]),
           "-af", f"asetrate={RATE}*{speed},aresample={RATE}", str(clip))  # fmt: skip
    return clip


def surviving_quads(ref: ap.PeakPrint, query: ap.PeakPrint, start: float, speed: float,
                    seconds: float) -> float:  # fmt: skip
    """Share of the recording's quads inside the copied stretch whose hash the query
    has at the anchor's place (within 3 frames)."""
    rq, qq = ap.quads(ref, ap.REFERENCE), ap.quads(query, ap.QUERY)
    offset = start * ap.FPS
    inside = (rq.t >= offset) & (rq.t + rq.span <= offset + seconds * ap.FPS)
    at: dict[int, list[float]] = {}
    for key, t in zip(qq.key.tolist(), qq.t.tolist(), strict=True):
        at.setdefault(key, []).append(t)
    found = sum(any(abs((t - offset) / speed - u) < 3 for u in at.get(key, ()))
                for key, t in zip(rq.key[inside].tolist(), rq.t[inside].tolist(), strict=True))
    return found / int(inside.sum())


@pytest.mark.parametrize("name", ["song_a", "song_b"])
def test_peaks_picked_for_a_fast_copy_keep_more_of_its_quads(
    registered: dict[int, tuple], media: dict[str, Path], name: str,
) -> None:  # fmt: skip
    """At 1.25x a quarter more music falls in each peak neighbourhood and block: picked
    with the usual frames, about a third of the recording's quads survive in the copy;
    picked with frames scaled by ``FAST_COPY``, clearly more (0.36 -> 0.68 and 0.36 ->
    0.48 here; 0.37 -> 0.50 on real music)."""
    ref = registered[SONG_A if name == "song_a" else SONG_B][1]
    spec = ap.log_spectrogram(ap.decode(sped_up(media, name, 5.0, 1.25)))
    share = {}
    for scale in (1.0, ap.FAST_COPY):
        t, f, _ = ap.find_peaks(spec, ap.QUERY.peaks_per_block, time_scale=scale)
        share[scale] = surviving_quads(ref, ap.PeakPrint(t, f, 12 / 1.25), 5.0, 1.25, 12.0)
    assert share[ap.FAST_COPY] > 1.25 * share[1.0]
    # The usual picking is the default.
    assert np.array_equal(ap.find_peaks(spec, 5)[0], ap.find_peaks(spec, 5, time_scale=1.0)[0])


def test_a_fast_copy_missed_by_the_first_quad_search_is_found_by_the_fast_pass(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The first quad search is made to miss (as it does for the hardest sped-up real
    copies); the lookup then searches the quads of the peaks picked for a fast copy,
    before the pair stage (which only matches unchanged speed)."""
    register(conn, registered)
    q = fingerprint_query_file(sped_up(media, "song_a", 10.0, 1.25), LIMITS)
    monkeypatch.setattr(audio_query, "quad_search", lambda *_a, **_k: [])
    found = ask(conn, q)
    assert list(found) == [SONG_A]
    m = found[SONG_A]
    assert m.found_by == ("peaks",)
    assert m.transform.speed == pytest.approx(1.25, abs=0.02)
    assert m.transform.pitch_semitones == pytest.approx(12 * np.log2(1.25), abs=0.3)
    assert m.work_start == pytest.approx(10.0 + 1.25 * m.query_start, abs=0.5)
    # A slowed copy is not the fast pass's to find: it votes on faster copies only.
    assert q.dense is not None
    slowed = fingerprint_query_file(sped_up(media, "song_b", 10.0, 0.85), LIMITS)
    assert slowed.dense is not None
    assert all(m.speed >= 1.08 for m in audio_query.fast_copy_search(conn, slowed.dense))


def test_the_fast_pass_does_not_run_on_a_hit(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    register(conn, registered)
    q = fingerprint_query_file(sped_up(media, "song_b", 20.0, 1.10), LIMITS)

    def fail(*_a: object, **_k: object) -> list:
        raise AssertionError("the fast-copy pass ran on a hit")

    monkeypatch.setattr(audio_query, "fast_copy_search", fail)
    assert list(ask(conn, q))[0] == SONG_B


def fast_candidate(matched: int, considered: int, distinct_bins: int,
                   speed: float = 1.25) -> pi.PeakMatch:  # fmt: skip
    """A candidate as the fast-copy pass's quad search returns it (10 s aligned)."""
    return pi.PeakMatch(
        work_id=SONG_A, score=matched / considered, matched=matched, considered=considered,
        coverage=1.0, votes=12, query_start=0.0, query_end=10.0, work_start=5.0,
        work_end=17.5, speed=speed, pitch_semitones=12 * np.log2(speed),
        distinct_bins=distinct_bins)  # fmt: skip


@pytest.mark.parametrize(("matched", "considered", "bins"), [
    (22, 67, 12),  # session 10's false matches: ~20-24 peaks at a share of 0.31-0.33
    (24, 72, 14),
    (23, 26, 5),  # the sparse-melody exception: a share of 0.88 on 5 frequencies
    (31, 40, 12),  # one peak short of the pass's minimum
    (40, 101, 12),  # enough peaks, a share under 0.40
])  # fmt: skip
def test_the_fast_pass_refuses_what_the_default_rule_would_take(
    conn: Connection, monkeypatch: pytest.MonkeyPatch, matched: int, considered: int,
    bins: int,
) -> None:  # fmt: skip
    """The pass runs on every miss, so on every unregistered clip: its answers must pass
    a stricter rule of their own (``FAST_COPY_RULE``) than the first quad search's."""
    weak = fast_candidate(matched, considered, bins)
    assert pi.passes(weak, pi.PeakSearchParams())
    assert not pi.passes(weak, audio_query.FAST_COPY_RULE)
    monkeypatch.setattr(audio_query, "fast_copy_search", lambda *_a, **_k: [weak])
    dense = audio_query.DensePeaks(np.zeros((10, 10), np.float32), 10.0)
    assert audio_query.fast_copy_vote(conn, dense) == []
    # What the pass exists for: 1.25x copies verified at 45-63 peaks, shares 0.52-0.72.
    copy = fast_candidate(45, 87, 12)
    monkeypatch.setattr(audio_query, "fast_copy_search", lambda *_a, **_k: [copy])
    assert [m.work_id for m in audio_query.fast_copy_vote(conn, dense)] == [SONG_A]


def test_the_fast_pass_does_not_vouch_for_a_weak_chromaprint_match(
    conn: Connection, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A weak Chromaprint match stands in the first vote when the quads re-found 10
    peaks of its work; the fast pass's candidates do not vouch for it (on seed 2's
    unregistered clips they let four false matches stand)."""
    weak_chroma = audio_index.AudioMatch(
        work_id=SONG_A, score=0.55, query_start=0.0, query_end=15.0, work_start=5.0,
        work_end=20.0, aligned_items=60, bit_error_rate=0.23, speed=1.0, strong=False)
    some_peaks = fast_candidate(14, 80, 9)
    assert [m.work_id for m in audio_query.vote([weak_chroma], [some_peaks])] == [SONG_A]
    monkeypatch.setattr(audio_query, "fast_copy_search", lambda *_a, **_k: [some_peaks])
    monkeypatch.setattr(audio_query, "quad_search", lambda *_a, **_k: [])
    monkeypatch.setattr(audio_index, "search", lambda *_a, **_k: [weak_chroma])
    monkeypatch.setattr(pr, "search", lambda *_a, **_k: [])
    dense = audio_query.DensePeaks(np.zeros((10, 10), np.float32), 10.0)
    peaks = ap.PeakPrint(np.zeros(0, np.float32), np.zeros(0, np.float32), 10.0)
    assert lookup(conn, [object()], peaks, dense) == []  # type: ignore[list-item]


def test_a_registration_check_finds_a_fast_copy_through_the_fast_pass(
    conn: Connection, registered: dict[int, tuple], media: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The registration check goes through the same lookup, fast-copy pass included:
    with the first quad search made to miss, a 1.25x copy of a registered recording
    is still found (a conflict)."""
    from registry.kinds.audio import AudioKind

    register(conn, registered)
    kind = AudioKind()
    new = kind.fingerprint(sped_up(media, "song_a", 10.0, 1.25, seconds=30.0), LIMITS)
    monkeypatch.setattr(audio_query, "quad_search", lambda *_a, **_k: [])
    hits = kind.search(conn, new.query)
    assert [h.work_id for h in hits] == [SONG_A]
    assert hits[0].details["found_by"] == ["peaks"]
    assert hits[0].details["speed"] == pytest.approx(1.25, abs=0.02)
