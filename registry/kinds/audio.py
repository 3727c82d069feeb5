"""The audio kind: two fingerprints, two indexes, one answer.

* Chromaprint items in the positional inverted index (:mod:`.audio_index`):
  exact copies, re-encodings, small speed changes (query variants).
* Spectral-peak quads (:mod:`registry.core.audio_peaks`, :mod:`.peak_index`):
  pitch shifts, speed and tempo changes of 10-25 %, short clips.
* Pairs of the same peaks (:mod:`.pair_index`), a fallback when both found
  nothing: unchanged-speed copies under a voice-over at the music's loudness.

Tracks it fills and searches: ``"audio"`` — a list of :class:`AudioFingerprint`
(one for a registered recording; the speed variants for a query) and
``"audio_peaks"`` — a :class:`PeakPrint` (a registered recording's peaks at
reference density in ``Fingerprinted.extra``, a query's at query density in
the tracks) and ``"audio_dense_peaks"`` — a query's :class:`DensePeaks` (picked
on first use, by the pair stage only). Both indexes vote; a work found by
either is a match and carries ``transform`` (speed, pitch in semitones). Other
kinds reuse it for their sound (a video's soundtrack goes into these indexes as
a recording of the video): call :meth:`AudioKind.add_fingerprint` with the
video's work id, and any query carrying an ``"audio"`` or ``"audio_peaks"`` track is searched here.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection

from registry.core import audio_peaks, iscc
from registry.core import evidence as core
from registry.core.audio import AudioFingerprint, fingerprint_file
from registry.core.audio_peaks import PeakPrint
from registry.core.audio_query import (
    DensePeaks,
    fingerprint_query_file,
    lookup,
    merge_matches,
    query_peak_sets,
)
from registry.core.matching import audio_index, pair_index, peak_index
from registry.core.media import MediaLimits, probe_audio, sniff
from registry.kinds import (
    WEAK_SIMILARITY,
    Fingerprinted,
    Fraction,
    Hit,
    IndexSpec,
    MediaKind,
    Query,
    Segment,
    count_rows,
)

SAME_RECORDING = "same_recording"
SAME_RECORDING_SCORE = 0.5
MIN_QUERY_SECONDS = 3.0
TRACK = "audio"
PEAKS = "audio_peaks"
#: A query's dense peaks (first 30 s), for the pair stage (:mod:`.pair_index`).
DENSE = "audio_dense_peaks"
#: Seconds of a query decoded (``TAMGA_LOOKUP_MAX_SECONDS``), and of a new
#: registration searched for earlier works at its registration check.
DEFAULT_LOOKUP_MAX_SECONDS = 120.0
CONFLICT_CHECK_SECONDS = 60.0


def query_limits(limits: MediaLimits) -> MediaLimits:
    """A query clip must be at least 3 s long, whatever registration accepts."""
    return replace(limits, min_audio_seconds=max(MIN_QUERY_SECONDS, limits.min_audio_seconds))


def lookup_max_seconds(limits: MediaLimits) -> float:
    """How much of a query is decoded: the limits' own bound when they carry one,
    else ``TAMGA_LOOKUP_MAX_SECONDS`` (default 120)."""
    bound = getattr(limits, "lookup_max_seconds", None)
    if bound:
        return float(bound)
    try:
        return float(os.environ.get("TAMGA_LOOKUP_MAX_SECONDS", DEFAULT_LOOKUP_MAX_SECONDS))
    except ValueError:
        return DEFAULT_LOOKUP_MAX_SECONDS


def registered_peaks(path: Path) -> tuple[PeakPrint, PeakPrint, DensePeaks]:
    """A registered file's peaks (reference density, stored), and for its
    registration check the query-density peaks of its first minute and the pair
    stage's dense peaks (of its first 30 s, picked only if the check gets there)."""
    samples = audio_peaks.decode(path)
    ref = audio_peaks.peaks_of_samples(samples, audio_peaks.REFERENCE)
    head = samples[: int(CONFLICT_CHECK_SECONDS * audio_peaks.SAMPLE_RATE)]
    return ref, *query_peak_sets(head)


def meaning(score: float) -> str:
    return SAME_RECORDING if score >= SAME_RECORDING_SCORE else WEAK_SIMILARITY


class AudioKind(MediaKind):
    name = "audio"
    fingerprint_name = "chromaprint"
    meanings = (SAME_RECORDING, WEAK_SIMILARITY)
    # In this order: the pair postings are rebuilt from the stored peaks.
    indexes = (IndexSpec("audio", audio_index.rebuild),
               IndexSpec("audio_peaks", peak_index.rebuild),
               IndexSpec("audio_pairs", pair_index.rebuild))
    magic = frozenset({"audio"})
    match_label = _l("same recording")
    meaning_labels = {SAME_RECORDING: _l("Same recording")}
    default_work_type = "sound_recording"
    exclusive_work_types = frozenset({"sound_recording"})
    wrong_file_message = _l("A sound recording needs an audio file.")

    def check_upload(self, path: Path, limits: MediaLimits) -> None:
        probe_audio(path, limits)

    def fingerprint(self, path: Path, limits: MediaLimits, *,
                    progress: Fraction | None = None) -> Fingerprinted:
        """Chromaprint (fpcalc, checked as before) and the peaks (PyAV), side by side.

        The registration check's query carries all three of a lookup's fingerprints,
        so a voice-over of a registered recording is found by the pair stage when
        it is registered, as when it is looked up."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            peaks = pool.submit(registered_peaks, path)
            try:
                fp = fingerprint_file(path, limits)
            finally:
                ref, head, dense = peaks.result()
        code = iscc.audio_content_code(fp.items)
        check = Query(self.name, {TRACK: [fp], PEAKS: head, DENSE: dense})
        return Fingerprinted(fp.digest(), code, check,
                             attributes={"duration_s": fp.duration_s}, extra={PEAKS: ref})

    def query(self, path: Path, limits: MediaLimits, *, want_thumbnail: bool = False,
              max_seconds: float | None = None) -> Query:
        """Decoded once in process (PyAV), at most ``max_seconds`` (None: the
        ``TAMGA_LOOKUP_MAX_SECONDS`` default of :func:`lookup_max_seconds`):
        Chromaprint's speed variants and the peaks.

        The intake check (audio, not video, a supported codec, the declared duration
        against the limits; read in process, no ffprobe) comes first: an over-long or
        hostile file is refused before anything is decoded.
        """
        sniff(path, in_process=True)
        declared = probe_audio(path, query_limits(limits), in_process=True).duration_s
        bound = max_seconds if max_seconds is not None else lookup_max_seconds(limits)
        q = fingerprint_query_file(path, query_limits(limits), max_seconds=bound)
        analysed = round(q.duration_s, 2)
        return Query(self.name, {TRACK: q.chromaprint, PEAKS: q.peaks, DENSE: q.dense}, {
            "duration_s": round(declared, 2), "analysed_s": analysed,
            "truncated": declared > analysed + 1.0})

    # index ---------------------------------------------------------------------------
    def add(self, conn: Connection, work_id: int, fp: Fingerprinted) -> None:
        self.add_fingerprint(conn, work_id, fp.query.tracks[TRACK][0], fp.extra.get(PEAKS))

    def add_fingerprint(self, conn: Connection, work_id: int, fp: AudioFingerprint,
                        peaks: PeakPrint | None = None) -> None:
        audio_index.add_recording(conn, work_id, fp)
        if peaks is not None:
            peak_index.add_recording(conn, work_id, peaks)
            pair_index.add_recordings(conn, [(work_id, peaks)])

    def remove(self, conn: Connection, work_id: int) -> bool:
        pair_index.remove_recording(conn, work_id)  # reads the peaks: before they go
        found_peaks = peak_index.remove_recording(conn, work_id)
        return audio_index.remove_recording(conn, work_id) or found_peaks

    def count(self, conn: Connection) -> int:
        return count_rows(conn, audio_index.audio_recordings)

    def search(self, conn: Connection, query: Query, *, limit: int = 10) -> list[Hit]:
        """Both indexes vote, then the pair stage when they found nothing; one hit
        per work (see :func:`lookup`)."""
        found = lookup(conn, query.tracks.get(TRACK), query.tracks.get(PEAKS),
                       query.tracks.get(DENSE))[:limit]  # fmt: skip
        durations = self.durations(conn, [m.work_id for m in found])
        return [Hit(m.work_id, m.score, self.name, meaning(m.score), {
            "query_start": m.query_start, "query_end": m.query_end,
            "work_start": m.work_start, "work_end": m.work_end, **m.details,
            "speed": m.transform.speed, "transform": m.transform.as_dict(),
            "found_by": list(m.found_by)},
            Segment(m.query_start, m.query_end, m.work_start, m.work_end),
            durations.get(m.work_id)) for m in found]

    def durations(self, conn: Connection, work_ids: list[int]) -> dict[int, float]:
        """Registered recordings' lengths (for drawing the timeline of a match)."""
        if not work_ids:
            return {}
        recordings = audio_index.audio_recordings
        return dict(conn.execute(sa.select(recordings.c.work_id, recordings.c.duration_s)
                                 .where(recordings.c.work_id.in_(work_ids))).all())

    # serialise ------------------------------------------------------------------------
    def media_fields(self, work: Any) -> dict[str, Any]:
        return {"duration_s": work.duration_s}

    def match_fields(self, details: dict[str, Any], segment: Segment | None) -> dict[str, Any]:
        return {**super().match_fields(details, segment), **_transform_field(details)}

    def stored_match_fields(self, details: dict[str, Any]) -> dict[str, Any]:
        return {**super().stored_match_fields(details), **_transform_field(details)}

    def identical(self, measured: dict[str, Any]) -> tuple[dict[str, Any], Segment | None]:
        whole = measured.get("duration_s")
        return ({"transform": {"speed": 1.0, "pitch_semitones": 0.0}},
                Segment(0.0, whole, 0.0, whole) if whole else None)

    # compare ---------------------------------------------------------------------------
    def compare(self, conn: Connection, query: Query | int, work_id: int,
                numbers: tuple[str | None, str]) -> dict[str, Any]:
        if isinstance(query, int):
            mine = audio_index.load_fingerprint(conn, query)
            queries = [mine] if mine is not None else []
            query_peaks = peak_index.load_peaks(conn, query)
        else:
            queries = list(query.tracks.get(TRACK) or [])
            query_peaks = query.tracks.get(PEAKS)
        work_fp = audio_index.load_fingerprint(conn, work_id)
        work_peaks = peak_index.load_peaks(conn, work_id)
        by_peaks = None
        if query_peaks is not None and work_peaks is not None and len(query_peaks):
            by_peaks = peak_index.compare(query_peaks, work_peaks,
                                          query_density=not isinstance(query, int))
        out = compare_fingerprints(queries, work_fp, numbers) if queries and work_fp else {}
        if by_peaks is None:
            return out
        transform = merge_matches([], [by_peaks])[0].transform.as_dict()
        if not out.get("audio"):  # Chromaprint saw nothing: a pitch or tempo change
            seg = [by_peaks.query_start, by_peaks.query_end, by_peaks.work_start,
                   by_peaks.work_end]
            out["similarity"] = by_peaks.score
            out["audio"] = {"query_duration": round(float(query_peaks.duration_s), 2),
                            "work_duration": round(float(work_peaks.duration_s), 2),
                            "speed": transform["speed"], "segments": [seg]}
        out["audio"]["transform"] = transform
        return out

    def bundle_side(self, conn: Connection, work_id: int) -> dict[str, Any]:
        fp = audio_index.load_fingerprint(conn, work_id)
        if fp is None:
            return {}
        return {"duration_s": float(fp.duration_s), "items": [int(v) for v in fp.items]}


def _transform_field(details: dict[str, Any]) -> dict[str, Any]:
    transform = details.get("transform")
    return {"transform": dict(transform)} if transform else {}


def compare_fingerprints(queries: list[AudioFingerprint], work_fp: AudioFingerprint,
                         numbers: tuple[str | None, str]) -> dict[str, Any]:
    """The ``audio`` section of a comparison (alignment plot) and its fingerprints."""
    pairing = core.align_audio(queries, work_fp)
    if pairing is None:
        return {}
    q = queries[pairing.variant]
    return {
        "similarity": pairing.similarity,
        "audio": {
            "query_duration": round(float(q.duration_s), 2),
            "work_duration": round(float(work_fp.duration_s), 2), "speed": float(q.speed),
            "segments": [list(core.segment_seconds(s, q, work_fp)) for s in pairing.segments],
        },
        "fingerprints": {"audio": core.audio_fingerprints(
            core.audio_side(q, numbers[0], "query"),
            core.audio_side(work_fp, numbers[1], "work"), pairing)},
    }
