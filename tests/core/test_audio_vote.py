"""How the two audio fingerprints' answers become one (``audio_query.vote``): a weak
Chromaprint stretch stands only when the peak fingerprint vouches for the same work."""

from __future__ import annotations

from registry.core.audio_query import VOUCHING_PEAKS, vote
from registry.core.matching.audio_index import AudioMatch
from registry.core.matching.peak_index import PeakMatch


def chroma(work_id: int, *, strong: bool, ber: float = 0.2) -> AudioMatch:
    return AudioMatch(work_id=work_id, score=round(1 - 2 * ber, 4), query_start=0.0,
                      query_end=12.0, work_start=30.0, work_end=42.0, aligned_items=80,
                      bit_error_rate=ber, speed=1.0, strong=strong)  # fmt: skip


def peaks(work_id: int, matched: int, considered: int = 40, bins: int = 12) -> PeakMatch:
    return PeakMatch(work_id=work_id, score=round(matched / considered, 4), matched=matched,
                     considered=considered, coverage=0.9, votes=matched, query_start=0.0,
                     query_end=12.0, work_start=30.0, work_end=42.0, speed=1.0,
                     pitch_semitones=0.0, distinct_bins=bins)  # fmt: skip


def test_a_strong_chromaprint_match_stands_alone() -> None:
    found = vote([chroma(1, strong=True, ber=0.1)], [])
    assert [m.work_id for m in found] == [1] and found[0].found_by == ("chromaprint",)


def test_a_weak_chromaprint_match_needs_the_peaks_of_the_same_work() -> None:
    assert vote([chroma(1, strong=False)], []) == []
    assert vote([chroma(1, strong=False)], [peaks(2, 30)]) == [vote([], [peaks(2, 30)])[0]]
    too_few = peaks(1, VOUCHING_PEAKS - 1, considered=200)
    assert vote([chroma(1, strong=False)], [too_few]) == []
    # Vouched for: the peaks re-found enough of work 1 (not enough to match on their own).
    vouching = peaks(1, VOUCHING_PEAKS, considered=200)
    found = vote([chroma(1, strong=False)], [vouching])
    assert [m.work_id for m in found] == [1] and found[0].found_by == ("chromaprint",)


def test_peak_candidates_match_only_under_the_default_rule() -> None:
    assert vote([], [peaks(3, 8)]) == []  # fewer than 12 peaks re-found
    assert vote([], [peaks(3, 30, bins=2)]) == []  # on too few frequencies
    found = vote([], [peaks(3, 30)])
    assert [m.work_id for m in found] == [3] and found[0].found_by == ("peaks",)
