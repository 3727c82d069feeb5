"""A noise-robust candidate stage for unchanged-speed queries: pairs of peaks.

Speech mixed over music at the music's loudness takes most of its strongest
spectral peaks: only about a quarter of a recording's peaks are still among a
query's peaks, and a quad of :mod:`.peak_index` needs four survivors (under 1 %
of quads). A voice-over changes neither the music's speed nor its pitch, so a
weaker hash suffices: an anchor peak and one later peak (after Wang, "An
industrial-strength audio search algorithm", 2003), keyed by the anchor's log
bin, the frequency difference and the time difference. A pair survives when
two peaks do (p², not p⁴).

* Index: ``audio_pair_postings``, one row per pair key with every (work, anchor
  frame) packed, built from the reference peaks already stored per recording
  (``audio_peak_recordings``): added and removed with the recording, rebuilt
  from the stored peaks.
* Query: its pairs come from a denser peak set (:data:`DENSE_PEAKS_PER_BLOCK`
  per half second; the speech takes some of them, the music keeps more), every
  peak of the target zone paired with each anchor, with the neighbouring cell
  of a value near a cell edge. Hits vote on (work, offset) cells.
* Verification at speed 1 and pitch 0: the recording's peaks in the aligned
  stretch that land on a dense query peak (within 1 frame and 1 bin), against
  how many would land there by chance (the query's peak occupancy of each log
  bin). A match needs a count far above chance, a share of the recording's
  peaks, and enough different frequencies.

:func:`registry.core.audio_query.lookup` runs this stage only when neither
Chromaprint nor the quads found anything (a fallback): a hit costs nothing more.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from scipy import ndimage
from sqlalchemy.engine import Connection

from registry.core.audio_peaks import FPS, N_BINS, PROMINENCE_SPAN, PeakPrint
from registry.core.matching import arrays
from registry.core.matching.peak_index import (
    SATURATED_WORKS,
    SQLITE_MAX_PARAMS,
    PeakMatch,
    fetch_postings,
    group_postings,
    load_many,
    load_peaks,
    rebuild_from_peaks,
    write_rows,
)
from registry.core.matching.postings import drop_work
from registry.core.sql import metadata

TABLE = "audio_pair_postings"
#: One posting: work id, anchor frame.
PAIR_POSTING = np.dtype([("work", ">i4"), ("t", ">i4")])

#: Target zone: the later peak lies DT_MIN..DT_MAX frames after the anchor,
#: within +-DF_MAX log bins (1.3 octaves).
DT_MIN = 2
DT_MAX = 96
DF_MAX = 32
N_DF = 2 * DF_MAX + 1
N_DT = DT_MAX + 1
N_KEYS = N_BINS * N_DF * N_DT
#: A registered recording pairs each anchor with its next few peaks in the zone.
REFERENCE_FANOUT = 6
#: Query peaks per half-second block (a registered recording keeps 3, a quad query 5).
DENSE_PEAKS_PER_BLOCK = 12
#: A query's pairs come from its first this many seconds (the fallback's cost bound).
MAX_QUERY_SECONDS = 30.0

audio_pair_postings = sa.Table(
    TABLE,
    metadata,
    sa.Column("key", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("works", sa.Integer, nullable=False),
    sa.Column("postings", sa.LargeBinary, nullable=False),
)
sa.event.listen(
    audio_pair_postings, "after_create",
    sa.DDL(f"ALTER TABLE {TABLE} SET (fillfactor = 70)").execute_if(dialect="postgresql"),
)  # fmt: skip

PAIR_TABLES = [audio_pair_postings]


@dataclass(frozen=True)
class PairSearchParams:
    """Tuning of :func:`search` (set on the real-music benchmark, see
    ``benchmarks/README_audio.md``, "Session 9")."""

    probe: float = 0.25  # query: also the neighbouring cell within this margin
    offset_step: float = 2.0  # vote cells (frames)
    min_votes: int = 4
    max_candidates: int = 16
    max_key_works: int = 2000
    # Postings read per query, rarest keys first (as the quads' ``max_postings``): at
    # 10,000 recordings a 15 s query's ~12,500 keys hold ~1.5 million; 150,000 found
    # as many voice-overs as 300,000 at two thirds of the time (README_audio.md).
    max_postings: int = 150_000
    time_tolerance: int = 1  # frames, verification
    bin_tolerance: int = 1
    # Acceptance: at least ``min_matched`` of the recording's peaks re-found, a share
    # ``min_ratio`` of those in the aligned stretch, the count ``min_z`` deviations
    # above chance (:func:`verify`), on ``min_distinct_bins`` frequencies. On 2,013
    # unregistered clips the best chance candidates reached 25 peaks (ratio 0.28,
    # z 10.6) or z 12.8 (24 peaks on 4 frequencies); found voice-overs re-found 29
    # peaks and more, ratio 0.33 and more (README_audio.md, "Session 9").
    min_matched: int = 24
    min_ratio: float = 0.30
    min_z: float = 8.0
    min_distinct_bins: int = 8
    min_seconds: float = 3.0
    # The z above is the smaller of the binomial one (independent peaks) and the one
    # against the same peaks shifted in time at this many shifts (0: binomial only).
    null_shifts: int = 48
    # The soft verification (:func:`soft_verify`, when the query's spectrogram is
    # given): a candidate the rule above refuses is still accepted when the query's
    # spectrum peaks at the recording's peaks ``min_soft_z`` deviations more than at
    # the shifted places, on ``min_distinct_bins`` frequencies, over ``min_seconds``.
    # Off by default (tried and not kept, README_audio.md "Session 11"): calibrated at
    # 8.5 on seeds 0-1 (2 voice-overs more, no unregistered clip of 16,104), it found
    # no more voice-overs on seed 2 and made one false match (chance reached 8.7, the
    # seed's missed voice-over 7.95).
    min_soft_z: float = float("nan")
    soft_cap: float = 2.0  # a cell's peakness is its prominence, at most this (log units)
    soft_hit: float = 0.3  # peakness counted as a re-found peak (frequencies, seconds)


# --------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class Pairs:
    key: np.ndarray  # int64
    t: np.ndarray  # float64 anchor frame


def pairs(fp: PeakPrint, *, fanout: int | None, probe: float = 0.0,
          max_partners: int = 48) -> Pairs:  # fmt: skip
    """Every pair of ``fp``: each anchor with its first ``fanout`` peaks of the
    target zone (None: all of them, up to ``max_partners``); with ``probe``, also
    the neighbouring cell of each value within ``probe`` of a cell edge."""
    t, f = fp.times.astype(np.float64), fp.bins.astype(np.float64)
    n = t.size
    if n < 2:
        z = np.zeros(0)
        return Pairs(z.astype(np.int64), z)
    lo = np.searchsorted(t, t + DT_MIN - 0.5, "left")
    hi = np.searchsorted(t, t + DT_MAX + 0.5, "right")
    width = int(min(max(1, int((hi - lo).max())), max_partners if fanout is None else 8 * fanout))
    idx = lo[:, None] + np.arange(width)[None, :]
    valid = idx < hi[:, None]
    idx = np.minimum(idx, n - 1)
    valid &= np.abs(f[idx] - f[:, None]) <= DF_MAX + 0.5
    if fanout is not None:
        valid &= (np.cumsum(valid, axis=1) - 1) < fanout
    a, j = np.nonzero(valid)
    b = idx[a, j]
    values = np.stack([f[a], f[b] - f[a] + DF_MAX, t[b] - t[a]], axis=1)
    sizes = np.array([N_BINS, N_DF, N_DT])
    cells = np.rint(values).astype(np.int64)
    keys, owners = [cells], [np.arange(cells.shape[0])]
    if probe > 0:
        frac = values - cells
        for dim in range(3):
            rows = np.nonzero(np.abs(frac[:, dim]) > 0.5 - probe)[0]
            alt = cells[rows].copy()
            alt[:, dim] += np.where(frac[rows, dim] > 0, 1, -1)
            keys.append(alt)
            owners.append(rows)
    cells, owner = np.concatenate(keys), np.concatenate(owners)
    ok = ((cells >= 0) & (cells < sizes)).all(axis=1) & (cells[:, 2] >= DT_MIN)
    cells, owner = cells[ok], owner[ok]
    key = (cells[:, 0] * N_DF + cells[:, 1]) * N_DT + cells[:, 2]
    return Pairs(key, t[a][owner])


def reference_pairs(fp: PeakPrint) -> Pairs:
    return pairs(fp, fanout=REFERENCE_FANOUT)


def query_pairs(dense: PeakPrint, params: PairSearchParams) -> Pairs:
    return pairs(dense, fanout=None, probe=params.probe)


# --------------------------------------------------------------------------- writes


def _group_by_key(batch: Sequence[tuple[int, PeakPrint]]) -> tuple[list, list, list]:
    ks, rows = [], []
    for work_id, fp in batch:
        p = reference_pairs(fp)
        if not p.key.size:
            continue
        packed = np.empty(p.key.size, dtype=PAIR_POSTING)
        packed["work"] = work_id
        packed["t"] = np.rint(p.t).astype(np.int64)
        ks.append(p.key)
        rows.append(packed)
    return group_postings(ks, rows, PAIR_POSTING)


def add_recordings(conn: Connection, batch: Sequence[tuple[int, PeakPrint]]) -> None:
    """Index the pairs of recordings (their peaks are stored by :mod:`.peak_index`)."""
    write_rows(conn, *_group_by_key(batch), table=TABLE)


def remove_recording(conn: Connection, work_id: int) -> bool:
    """Remove a work's pairs; call it before its peaks are removed. False if the
    work had no stored peaks."""
    fp = load_peaks(conn, work_id)
    if fp is None:
        return False
    keys = sorted(set(reference_pairs(fp).key.tolist()))
    drop_work(conn, audio_pair_postings, keys, work_id, PAIR_POSTING,
              batch=SQLITE_MAX_PARAMS, saturated=SATURATED_WORKS)  # fmt: skip
    return True


def rebuild(conn: Connection, progress: Callable[[int, int], None] | None = None, *,
            batch_size: int = 500) -> int:  # fmt: skip
    """Recreate the pair postings from the stored peaks; returns recordings indexed."""
    return rebuild_from_peaks(conn, audio_pair_postings, add_recordings, progress,
                              batch_size=batch_size)  # fmt: skip


# --------------------------------------------------------------------------- search


def _vote(work: np.ndarray, offset: np.ndarray,
          params: PairSearchParams) -> list[tuple[int, int, int]]:  # fmt: skip
    """Best offset cell per work (votes, work, cell), most votes first; a cell's
    votes include its two neighbours'."""
    if not work.size:
        return []
    cell = np.rint(offset / params.offset_step).astype(np.int64) + (1 << 24)
    uniq, counts = arrays.value_counts(work * (1 << 26) + cell)
    smoothed = arrays.with_adjacent(uniq, counts)
    good = np.nonzero(smoothed >= params.min_votes)[0]
    order = good[np.argsort(-smoothed[good], kind="stable")]
    out: list[tuple[int, int, int]] = []
    seen: set[int] = set()
    for j in order.tolist():
        code = int(uniq[j])
        w = code >> 26
        if w in seen:
            continue
        seen.add(w)
        out.append((int(smoothed[j]), w, (code & ((1 << 26) - 1)) - (1 << 24)))
        if len(out) >= params.max_candidates:
            break
    return out


@dataclass(frozen=True)
class PairVerified:
    offset: float  # work frame at query frame 0
    matched: int
    considered: int
    expected: float  # matches expected by chance
    z: float
    distinct_bins: int
    coverage: float
    query_start: float
    query_end: float
    soft: SoftVerified | None = None  # :func:`soft_verify`, when the spectrogram is given


@dataclass(frozen=True)
class SoftVerified:
    """The query's spectrum at the recording's peaks (:func:`soft_verify`)."""

    z: float
    distinct_bins: int  # frequencies of the peaks whose peakness reaches ``soft_hit``
    seconds: float  # the query stretch those peaks span


def _grid(dense: PeakPrint, n_frames: int, params: PairSearchParams) -> np.ndarray:
    grid = np.zeros((n_frames + 1, N_BINS), dtype=bool)
    ti = np.clip(np.rint(dense.times).astype(np.int64), 0, n_frames)
    fi = np.clip(np.rint(dense.bins).astype(np.int64), 0, N_BINS - 1)
    grid[ti, fi] = True
    size = (2 * params.time_tolerance + 1, 2 * params.bin_tolerance + 1)
    return ndimage.maximum_filter(grid, size=size, mode="constant")


def _null_z(grid: np.ndarray, qt: np.ndarray, qf: np.ndarray, matched: int,
            shifts: int) -> float:  # fmt: skip
    """``matched`` in standard deviations above the counts of the same peaks shifted
    in time (circularly, by 0.5 s to the query's length less 0.5 s): an empirical
    chance level. Peaks of held notes land on a held query note at every shift, so
    a count they make is not above it; independent chance (the binomial count)
    underrates them."""
    counts = _shifted_sums(grid, np.rint(qt).astype(np.int64), qf, shifts)
    if counts is None:
        return 0.0
    return _robust_z(matched, counts, floor=1.0)


def _shifted_sums(values: np.ndarray, qt: np.ndarray, qf: np.ndarray,
                  shifts: int) -> np.ndarray | None:  # fmt: skip
    """``values`` summed at the points (``qt``, ``qf``) shifted circularly in time by
    ``shifts`` steps from 0.5 s to the query's length less 0.5 s (None: too short)."""
    n = values.shape[0]
    margin = min(int(FPS / 2), n // 4)
    if n - 2 * margin < 2:
        return None
    steps = np.unique(np.linspace(margin, n - margin, shifts).astype(np.int64))
    at = (qt[None, :] + steps[:, None]) % n
    return values[at, qf[None, :]].sum(axis=1).astype(np.float64)


def _robust_z(value: float, null: np.ndarray, *, floor: float) -> float:
    """``value`` against ``null`` by median and MAD: a looped passage matches again at
    a few shifts (the same recording, a bar later); those outliers must not raise the
    chance level. ``floor`` bounds the spread from below."""
    centre = float(np.median(null))
    spread = 1.4826 * float(np.median(np.abs(null - centre)))
    return (value - centre) / max(floor, spread)


def peakness(spec: np.ndarray, params: PairSearchParams) -> np.ndarray:
    """(frames, N_BINS): how much the query's spectrum peaks at each cell, within the
    verification's time tolerance (+-1 frame; none in frequency): the prominence over
    the local average that :func:`audio_peaks.find_peaks` uses (at most ``soft_cap``)
    of the cells that are maxima along frequency, else 0.

    Speech over music takes the music's place among the strongest peaks of a block
    (the dense peaks), but the music's partials still stand out of their
    neighbourhood under it: this reads them without ranking them. (A tolerance of
    +-1 bin as well let chance candidates score nearly as high as voice-overs:
    README_audio.md, "Session 11".)"""
    prominence = spec - ndimage.uniform_filter(spec, size=PROMINENCE_SPAN, mode="nearest")
    ridge = np.zeros(spec.shape, dtype=bool)
    ridge[:, 1:-1] = (spec[:, 1:-1] >= spec[:, :-2]) & (spec[:, 1:-1] >= spec[:, 2:])
    value = np.where(ridge, np.clip(prominence, 0.0, params.soft_cap), 0.0)
    size = (2 * params.time_tolerance + 1, 1)
    return ndimage.maximum_filter(value.astype(np.float32), size=size, mode="constant")


def soft_verify(pmap: np.ndarray, qt: np.ndarray, qf: np.ndarray,
                params: PairSearchParams) -> SoftVerified | None:  # fmt: skip
    """The query's :func:`peakness` summed at the recording's peaks (query frames
    ``qt``, bins ``qf``, at the verified offset), against the same sum at the time
    shifts of :func:`_null_z`: a chance level measured on this query.

    :func:`verify` passes the peaks that did NOT land on a dense query peak. The
    voted offset is the one where the hits line up, for a chance candidate too, so
    a sum over the hits is high by selection; the other peaks are independent
    evidence. Music masked by speech still peaks there, chance does not. Nothing is
    fitted: speed 1, pitch 0."""
    inside = (qt >= 0) & (qt < pmap.shape[0])
    qt, qf = qt[inside], qf[inside]
    null = _shifted_sums(pmap, qt, qf, params.null_shifts or 48)
    if null is None or not qt.size:
        return None
    values = pmap[qt, qf]
    # Floor of the spread: a tenth of a peak's full strength per ten peaks.
    z = _robust_z(float(values.sum()), null, floor=0.01 * params.soft_cap * qt.size)
    hit = values >= params.soft_hit
    if not hit.any():
        return SoftVerified(z, 0, 0.0)
    span = float(qt[hit].max() - qt[hit].min()) / FPS
    return SoftVerified(z, int(np.unique(qf[hit]).size), span)


def verify(grid: np.ndarray, work: PeakPrint, offset: float, params: PairSearchParams,
           pmap: np.ndarray | None = None) -> PairVerified | None:  # fmt: skip
    """The recording's peaks re-found in the dense query peaks at speed 1, pitch 0
    and ``offset`` (the best of +-2 frames around it), against chance; with the
    query's :func:`peakness` ``pmap``, also the soft score at that offset."""
    n_frames = grid.shape[0] - 1
    a, b = np.searchsorted(work.times, [offset - 3, offset + n_frames + 3])
    rt, rf = work.times[a:b].astype(np.float64), work.bins[a:b].astype(np.float64)
    if rt.size < params.min_matched:
        return None
    qf = np.clip(np.rint(rf).astype(np.int64), 0, N_BINS - 1)
    best: tuple[int, float, np.ndarray, np.ndarray] | None = None
    for shift in (0.0, -1.0, 1.0, -2.0, 2.0):
        qt = np.rint(rt - (offset + shift)).astype(np.int64)
        inside = (qt >= 0) & (qt <= n_frames)
        hit = np.zeros(rt.size, dtype=bool)
        hit[inside] = grid[qt[inside], qf[inside]]
        if best is None or int(hit.sum()) > best[0]:
            best = (int(hit.sum()), offset + shift, hit, inside)
    assert best is not None
    matched, offset, hit, inside = best
    considered = int(inside.sum())
    if matched == 0 or considered == 0:
        return None
    occupancy = grid.mean(axis=0)  # chance that a peak in this bin lands on a query peak
    p = occupancy[qf[inside]]
    expected = float(p.sum())
    z = (matched - expected) / math.sqrt(max(1.0, float((p * (1 - p)).sum())))
    if params.null_shifts:
        z = min(z, _null_z(grid, rt[inside] - offset, qf[inside], matched, params.null_shifts))
    found_t = rt[hit] - offset
    q0, q1 = float(found_t.min()), float(found_t.max())
    seconds = max(1, int(math.ceil((q1 - q0) / FPS)))
    busy = np.unique(np.minimum(((found_t - q0) / FPS).astype(np.int64), seconds - 1)).size
    soft = None
    if pmap is not None:
        rest = inside & ~hit  # the peaks the count above did not re-find
        soft = soft_verify(pmap, np.rint(rt[rest] - offset).astype(np.int64), qf[rest], params)
    return PairVerified(offset, matched, considered, expected, z,
                        int(np.unique(qf[hit]).size), busy / seconds, q0 / FPS, q1 / FPS, soft)


def accepted(v: PairVerified, params: PairSearchParams) -> bool:
    """The peak-hit rule, or else the soft rule (:func:`soft_accepted`)."""
    return hard_accepted(v, params) or (v.soft is not None and soft_accepted(v.soft, params))


def hard_accepted(v: PairVerified, params: PairSearchParams) -> bool:
    """The peak-hit rule: enough of the recording's peaks on dense query peaks."""
    return (
        v.matched >= params.min_matched
        and v.matched / v.considered >= params.min_ratio
        and v.z >= params.min_z
        and v.distinct_bins >= params.min_distinct_bins
        and v.query_end - v.query_start >= params.min_seconds
    )


def rank(v: PairVerified, params: PairSearchParams) -> tuple[int, float]:
    """Sort key of accepted candidates: by the peak-hit rule's z, then those only the
    soft rule accepted, by their soft z."""
    if hard_accepted(v, params) or v.soft is None:
        return (0, -v.z)
    return (1, -v.soft.z)


def soft_accepted(s: SoftVerified, params: PairSearchParams) -> bool:
    return (
        s.z >= params.min_soft_z  # False when nan (off)
        and s.distinct_bins >= params.min_distinct_bins
        and s.seconds >= params.min_seconds
    )


def search(conn: Connection, dense: PeakPrint, *, params: PairSearchParams | None = None,
           keep: Callable[[PairVerified], bool] | None = None,
           spec: np.ndarray | None = None) -> list[PeakMatch]:  # fmt: skip
    """Registered recordings containing ``dense`` (a query's dense peaks,
    :data:`DENSE_PEAKS_PER_BLOCK` per block) at its own speed and pitch, best first.
    ``keep`` replaces the acceptance rule (the benchmark keeps every candidate).
    ``spec``: the query's log spectrogram (the frames of ``dense``), for the soft
    verification (:func:`soft_verify`; read only when ``params.min_soft_z`` is set
    or ``keep`` is given)."""
    params = params or PairSearchParams()
    if dense.duration_s > MAX_QUERY_SECONDS:
        cut = np.searchsorted(dense.times, MAX_QUERY_SECONDS * FPS)
        dense = PeakPrint(dense.times[:cut], dense.bins[:cut], MAX_QUERY_SECONDS)
    q = query_pairs(dense, params)
    if not q.key.size:
        return []
    keys = arrays.distinct(q.key).tolist()
    pk, postings = fetch_postings(conn, keys, params.max_key_works, params.max_postings,
                                  table=TABLE, dtype=PAIR_POSTING)  # fmt: skip
    return match_postings(dense, q, pk, postings, lambda ws: load_many(conn, ws), params, keep,
                          spec)  # fmt: skip


def match_postings(
    dense: PeakPrint, q: Pairs, pk: np.ndarray, postings: np.ndarray,
    load: Callable[[Sequence[int]], dict[int, PeakPrint]], params: PairSearchParams,
    keep: Callable[[PairVerified], bool] | None = None, spec: np.ndarray | None = None,
) -> list[PeakMatch]:  # fmt: skip
    """Vote and verify (the part of :func:`search` after the SQL)."""
    order = np.argsort(q.key, kind="stable")
    qk, qt = q.key[order], q.t[order]
    rep, qi = arrays.key_join(qk, pk)
    p = postings[rep]
    work = p["work"].astype(np.int64)
    offset = p["t"].astype(np.float64) - qt[qi]
    cells = _vote(work, offset, params)
    if not cells:
        return []
    works = load([c[1] for c in cells])
    mine = np.isin(work, np.array([c[1] for c in cells], dtype=np.int64))
    work, offset = work[mine], offset[mine]
    n_frames = int(math.ceil(dense.duration_s * FPS))
    grid = _grid(dense, n_frames, params)
    soft = spec is not None and len(spec) > 0 and (keep is not None
                                                   or not math.isnan(params.min_soft_z))
    pmap = peakness(spec[: n_frames + 1], params) if soft and spec is not None else None
    rule = keep or (lambda v: accepted(v, params))
    out = []
    for votes, w, cell in cells:
        wfp = works.get(w)
        if wfp is None:
            continue
        near = (work == w) & (np.abs(offset / params.offset_step - cell) <= 1.5)
        v = verify(grid, wfp, float(np.median(offset[near])), params, pmap)
        if v is None or not rule(v):
            continue
        out.append((rank(v, params), PeakMatch(
            work_id=w, score=round(v.matched / v.considered, 4), matched=v.matched,
            considered=v.considered, coverage=round(v.coverage, 3), votes=votes,
            query_start=round(v.query_start, 2), query_end=round(v.query_end, 2),
            work_start=round(max(0.0, (v.offset + v.query_start * FPS) / FPS), 2),
            work_end=round(min(wfp.duration_s, (v.offset + v.query_end * FPS) / FPS), 2),
            speed=1.0, pitch_semitones=0.0, distinct_bins=v.distinct_bins,
            z=round(v.z, 2),
            soft=None if v.soft is None else (round(v.soft.z, 2), v.soft.distinct_bins,
                                              round(v.soft.seconds, 2)),
        )))  # fmt: skip
    return [m for _, m in sorted(out, key=lambda km: (km[0], km[1].work_id))]


def passes(m: PeakMatch, params: PairSearchParams) -> bool:
    """:func:`accepted` for a match kept under a more lenient rule (the benchmark)."""
    return accepted(verified_of(m), params)


def verified_of(m: PeakMatch) -> PairVerified:
    """What the rules read of a pair-stage match (the offset and chance level are lost)."""
    soft = None if m.soft is None else SoftVerified(*m.soft)
    return PairVerified(0.0, m.matched, m.considered, 0.0, m.z, m.distinct_bins,
                        m.coverage, m.query_start, m.query_end, soft)  # fmt: skip
