"""An audio query decoded once, in process, and both fingerprints' votes merged.

:func:`fingerprint_query_file` decodes a query with PyAV (no ffmpeg/fpcalc
process per query), at most its first ``max_seconds``, and makes both
fingerprints from the same samples: Chromaprint's speed variants (cheap: one
resample each, in libchromaprint) and the spectral-peak quads of
:mod:`registry.core.audio_peaks` (pitch and tempo changes).

:func:`merge_matches` turns both indexes' answers into one list: a work found
by either fingerprint is a match; its ``transform`` (speed, pitch in
semitones) comes from the peak matcher, which measures both, or from the
Chromaprint variant that matched (a resample: pitch follows speed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Connection

from registry.core import audio_peaks
from registry.core.audio import (
    SAMPLE_RATE,
    AudioFingerprint,
    check_query_content,
    fingerprint_samples,
)
from registry.core.audio_peaks import PeakPrint
from registry.core.matching import audio_index, pair_index, peak_index
from registry.core.matching.audio_index import AudioMatch
from registry.core.matching.peak_index import PeakMatch, PeakSearchParams, passes
from registry.core.media import MediaLimits

#: Queries longer than this use fewer quads per anchor (the index part stays bounded).
LONG_QUERY_SECONDS = 20.0
#: Peaks of a work that the peak matcher must re-found (at any transform) for a
#: Chromaprint match weaker than its strict rule to stand (see :func:`vote`).
VOUCHING_PEAKS = 10
#: The posting tables whose key counts a process may keep a copy of
#: (:mod:`registry.core.matching.key_counts`), with their number of possible keys.
KEY_SPACES = {"audio_peak_postings": audio_peaks.N_KEYS, pair_index.TABLE: pair_index.N_KEYS}
#: The fast-copy pass (:func:`fast_copy_search`) votes on faster copies only. An
#: unchanged or slower copy was the first pass's to find; without this bound, a chance
#: alignment of held notes at speed 0.82 passed on the fast pass's peaks. It reads at
#: most 25,000 postings (rarest keys first), a sixth of the first search's: the pass
#: runs on every miss, and with 150,000 it added ~76 ms (SQLite) to ~113 ms
#: (PostgreSQL) to a miss at 10,000 recordings, with 50,000 35-45 ms; 50,000 and
#: 25,000 found the same 1.25x copies on seeds 0, 2 and 3 as 150,000
#: (README_audio.md, "Session 12").
FAST_COPY_SEARCH = replace(peak_index.LENIENT, min_scale=1.08, max_postings=25_000)
#: The acceptance rule of the fast-copy pass's answers, stricter than the default
#: (20 peaks for a changed copy, a share of 0.20 + 0.9 / sqrt(considered), the
#: sparse-melody exception at a share of 0.8). The pass runs on every miss, so on
#: every unregistered clip: with the default rule it added 15 s false matches at
#: shares of 0.31-0.33 with 20-24 re-found peaks, and one at 23 of 26 peaks on too
#: few frequencies (the exception), while the 1.25x copies it exists for verified at
#: 45-63 peaks, shares 0.52-0.72 (README_audio.md, "Session 10" and "Session 12").
#: Hence at least 32 peaks, a flat share of 0.40, and no exception (``strong_ratio``
#: above 1 can never be reached).
FAST_COPY_RULE = PeakSearchParams(min_matched=32, changed_extra_matched=0, ratio_base=0.40,
                                  ratio_slope=0.0, strong_ratio=math.inf)  # fmt: skip


@dataclass(frozen=True)
class AudioQuery:
    chromaprint: list[AudioFingerprint]
    peaks: PeakPrint
    duration_s: float  # seconds decoded
    dense: DensePeaks | None = None  # the pair stage's peaks (first 30 s, lazy)


def _settings(seconds: float) -> audio_peaks.QuadSettings:
    """The quads taken of a query of ``seconds`` (fewer for long queries)."""
    return audio_peaks.QUERY if seconds <= LONG_QUERY_SECONDS else audio_peaks.QUERY_LONG


class DensePeaks:
    """A query's dense peaks for the pair stage (:mod:`.pair_index`), picked on first
    use from the spectrogram of its first :data:`pair_index.MAX_QUERY_SECONDS`: a
    lookup that Chromaprint or the quads answer never picks them."""

    def __init__(self, spec: np.ndarray, duration_s: float) -> None:
        self._spec, self.duration_s = spec, duration_s
        self._peaks: PeakPrint | None = None

    @property
    def spectrogram(self) -> np.ndarray:
        """The log spectrogram the peaks come from (the soft verification reads it)."""
        return self._spec

    def __call__(self) -> PeakPrint:
        if self._peaks is None:
            t, f, s = audio_peaks.find_peaks(self._spec, pair_index.DENSE_PEAKS_PER_BLOCK)
            self._peaks = PeakPrint(t, f, self.duration_s, s)
        return self._peaks

    def fast(self) -> PeakPrint:
        """Quad-density peaks picked as for a copy played :data:`audio_peaks.FAST_COPY`
        times as fast (the fast-copy pass of :func:`lookup`), from the same spectrogram."""
        t, f, s = audio_peaks.find_peaks(self._spec, _settings(self.duration_s).peaks_per_block,
                                         time_scale=audio_peaks.FAST_COPY)  # fmt: skip
        return PeakPrint(t, f, self.duration_s, s)


def query_peak_sets(samples_8k: np.ndarray) -> tuple[PeakPrint, DensePeaks]:
    """The quad query's peaks of 8 kHz samples (query density; fewer quads past
    LONG_QUERY_SECONDS) and the pair stage's dense peaks (lazy), from one
    spectrogram."""
    rate = audio_peaks.SAMPLE_RATE
    seconds = samples_8k.size / rate
    settings = _settings(seconds)
    spec = audio_peaks.log_spectrogram(samples_8k)
    t, f, s = audio_peaks.find_peaks(spec, settings.peaks_per_block)
    head = min(samples_8k.size, int(pair_index.MAX_QUERY_SECONDS * rate))
    frames = max(0, (head - audio_peaks.N_FFT) // audio_peaks.HOP + 1)
    return PeakPrint(t, f, seconds, s), DensePeaks(spec[:frames], head / rate)


def fingerprint_query_file(path: Path, limits: MediaLimits, *,
                           max_seconds: float | None = None) -> AudioQuery:  # fmt: skip
    """Decode ``path`` (at most ``max_seconds``) and fingerprint it both ways.

    Raises CorruptMedia, MediaTooShort or SilentAudio like the registration path.
    """
    samples = audio_peaks.decode(path, sample_rate=SAMPLE_RATE, max_seconds=max_seconds)
    chroma = fingerprint_samples(samples)
    check_query_content(chroma[0], limits)
    peaks, dense = query_peak_sets(audio_peaks.resample(samples, SAMPLE_RATE,
                                                        audio_peaks.SAMPLE_RATE))  # fmt: skip
    return AudioQuery(chroma, peaks, samples.size / SAMPLE_RATE, dense)


@dataclass(frozen=True)
class Transform:
    speed: float  # the copy plays this many times as fast as the registered recording
    pitch_semitones: float  # and this many semitones higher

    def as_dict(self) -> dict[str, float]:
        return {"speed": self.speed, "pitch_semitones": self.pitch_semitones}

    @property
    def is_identity(self) -> bool:
        """Within the estimates' precision of the unchanged recording."""
        return abs(self.speed - 1.0) < 0.01 and abs(self.pitch_semitones) < 0.3


def rounded(speed: float, pitch_semitones: float) -> Transform:
    return Transform(round(speed, 3), round(pitch_semitones, 1) + 0.0)


@dataclass(frozen=True)
class MergedMatch:
    work_id: int
    score: float
    query_start: float
    query_end: float
    work_start: float
    work_end: float
    transform: Transform
    found_by: tuple[str, ...]  # "chromaprint", "peaks", "pairs"
    details: dict


def merge_matches(chroma: list[AudioMatch], peaks: list[PeakMatch],
                  pairs: Sequence[PeakMatch] = ()) -> list[MergedMatch]:  # fmt: skip
    """One match per work, best first. The score is the better of the two
    fingerprints' scores (each already calibrated to its own false-match rate).
    The segment is Chromaprint's when it found an unchanged copy (its items align
    to ~0.1 s); for a changed copy it is the peaks', whose fitted scale places
    both ends (Chromaprint's speed variants come in steps of a few per cent, and a
    tempo change is not one of them). ``pairs`` are the pair stage's matches
    (:mod:`.pair_index`, speed 1 and pitch 0): peak matches found another way."""
    by_chroma = {m.work_id: m for m in chroma}
    by_peaks = {m.work_id: m for m in peaks}
    quads, paired = set(by_peaks), {m.work_id for m in pairs}
    for m in pairs:
        by_peaks.setdefault(m.work_id, m)
    out = []
    for work_id in dict.fromkeys([*by_chroma, *by_peaks]):
        c, p = by_chroma.get(work_id), by_peaks.get(work_id)
        if p is not None:
            transform = rounded(p.speed, p.pitch_semitones)
        else:
            assert c is not None
            transform = rounded(c.speed, 12 * math.log2(c.speed))
        seg = p if p is not None and (c is None or not transform.is_identity) else c
        assert seg is not None
        details: dict = {}
        if c is not None:
            details.update(aligned_items=c.aligned_items, bit_error_rate=c.bit_error_rate)
        if p is not None:
            details.update(peaks_matched=p.matched, peaks_considered=p.considered)
        out.append(MergedMatch(
            work_id=work_id, score=max(c.score if c else 0.0, p.score if p else 0.0),
            query_start=seg.query_start, query_end=seg.query_end,
            work_start=seg.work_start, work_end=seg.work_end, transform=transform,
            found_by=tuple(n for n, hit in (("chromaprint", c is not None),
                                            ("peaks", work_id in quads),
                                            ("pairs", work_id in paired)) if hit),
            details=details,
        ))  # fmt: skip
    return sorted(out, key=lambda m: (-m.score, m.work_id))


def vote(chroma: list[AudioMatch], candidates: list[PeakMatch],
         params: PeakSearchParams | None = None) -> list[MergedMatch]:  # fmt: skip
    """Both fingerprints' answers as one list (:func:`merge_matches`).

    ``chroma`` comes from a Chromaprint search with a strict rule
    (``audio_index.search(..., strict=STRICT)``), ``candidates`` from a peak search
    under ``peak_index.LENIENT``. A peak candidate is a match when it passes
    ``params`` (the default rule); a Chromaprint match stands when it is strong,
    or when the peaks re-found at least :data:`VOUCHING_PEAKS` of the same work's
    peaks: two weak, independent witnesses agreeing on one work.
    """
    params = params or PeakSearchParams()
    peaks = [m for m in candidates if passes(m, params)]
    vouched = {m.work_id for m in candidates if m.matched >= VOUCHING_PEAKS}
    kept = [c for c in chroma if c.strong or c.work_id in vouched]
    return merge_matches(kept, peaks)


def lookup(conn: Connection, chroma: Sequence[AudioFingerprint] | None, peaks: PeakPrint | None,
           dense: DensePeaks | PeakPrint | None = None, *,
           pair_stage: bool = True) -> list[MergedMatch]:  # fmt: skip
    """The lookup's answer from the indexes: Chromaprint (strict rule) and the quads
    (:func:`vote`). When neither found anything and ``dense`` peaks are given, two
    fallbacks in turn: the quads again on peaks picked for a sped-up copy
    (:func:`fast_copy_search`, when ``dense`` is a :class:`DensePeaks`), then the
    pair stage (:mod:`.pair_index`: unchanged speed, a masked copy such as a
    voice-over). ``pair_stage`` False turns the fallbacks off."""
    found_chroma = (audio_index.search(conn, list(chroma), strict=audio_index.STRICT)
                    if chroma else [])  # fmt: skip
    candidates = (quad_search(conn, peaks, confirming=any(m.strong for m in found_chroma))
                  if peaks is not None and len(peaks) else [])  # fmt: skip
    found = vote(found_chroma, candidates)
    if found or not pair_stage or dense is None:
        return found
    if isinstance(dense, DensePeaks):
        found = fast_copy_vote(conn, dense)
        if found:
            return found
    fp = dense() if isinstance(dense, DensePeaks) else dense
    spec = dense.spectrogram if isinstance(dense, DensePeaks) else None
    return merge_matches([], [], pair_index.search(conn, fp, spec=spec)) if len(fp) else []


def fast_copy_search(conn: Connection, dense: DensePeaks) -> list[PeakMatch]:
    """The quads' candidates (lenient rule) of the query's peaks picked again for a
    sped-up copy (:meth:`DensePeaks.fast`): the first fallback of :func:`lookup`,
    run only when nothing was found (a hit costs nothing more)."""
    peaks = dense.fast()
    if not len(peaks):
        return []
    return peak_index.search(conn, peaks, params=FAST_COPY_SEARCH,
                             settings=_settings(dense.duration_s))  # fmt: skip


def fast_copy_vote(conn: Connection, dense: DensePeaks) -> list[MergedMatch]:
    """The fast-copy pass's answer: :func:`fast_copy_search`'s candidates that pass
    its own rule, :data:`FAST_COPY_RULE`.

    The pass does not vouch for a weak Chromaprint match (:func:`vote`'s
    :data:`VOUCHING_PEAKS`): on seed 2's unregistered clips, its candidates of 10 or
    more peaks let four weak Chromaprint matches stand that the first quad search had
    not vouched for (two at 10 s, two at 15 s; README_audio.md, "Session 12")."""
    return vote([], fast_copy_search(conn, dense), FAST_COPY_RULE)


def quad_search(conn: Connection, peaks: PeakPrint, *, confirming: bool) -> list[PeakMatch]:
    """The quads' candidates (:func:`peak_index.search` under its lenient rule).

    ``confirming``: Chromaprint already found the recording unchanged (a strong
    match). The quads then only confirm it and measure the transform, so they look
    up a seventh of the keys and read at most 20,000 postings
    (:data:`peak_index.CONFIRMING`). At 100,000 recordings that is the difference
    between ~20 ms and ~70 ms for the index part of a lookup (most of it reading the
    keys' posting counts). A changed copy that Chromaprint misses keeps the full search.
    """
    if confirming:
        return peak_index.search(conn, peaks, params=peak_index.CONFIRMING,
                                 settings=audio_peaks.QUERY_CONFIRM)  # fmt: skip
    return peak_index.search(conn, peaks, params=peak_index.LENIENT)
