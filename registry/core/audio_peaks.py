"""A pitch- and tempo-tolerant audio fingerprint: quads of spectral peaks.

Designed from the published methods (Sonnleitner & Widmer, "Robust quad-based
audio fingerprinting", 2016; Six & Leman, "Panako", 2014/2021), written here
from the papers:

* Audio is decoded to 8 kHz mono (:func:`decode`, PyAV in process) and turned
  into a magnitude spectrogram on a **log-frequency** axis of
  :data:`BINS_PER_OCTAVE` bins per octave, 150 Hz to 3.8 kHz. A pitch shift (or
  the pitch part of a speed change) then moves every peak by the same number
  of bins.
* Peaks are the local maxima of the log spectrogram, kept by prominence (their
  height above the local average) at a fixed density per second, refined to
  sub-bin and sub-frame precision by parabolic interpolation.
* A **quad** is an anchor peak and three of the next few peaks after it in a
  target zone. Its hash keeps only what a pitch shift and a tempo change leave
  alone: the three frequency *differences* to the anchor in log bins, and the
  two *ratios* of the inner peaks' time offsets to the quad's time span.
* Each stored quad keeps the anchor's frame and log bin and the quad's span, so
  one matching hash already tells the time-scale factor (span ratio), the pitch
  shift (anchor bin difference) and the alignment; votes that agree on all
  three select candidates, and a candidate is verified by counting how many of
  the recording's peaks reappear in the query under the fitted transform
  (:func:`verify`).

Registered recordings keep a sparse set of peaks and few quads per anchor;
queries keep a denser set and more quads per anchor, so that a reference quad
still appears in a query whose weaker peaks were masked or shifted.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
from scipy import fft, ndimage, signal

from registry.core.errors import CorruptMedia, MediaTooShort, SilentAudio

SAMPLE_RATE = 8000
N_FFT = 1024
HOP = 128
FPS = SAMPLE_RATE / HOP  # 62.5 frames per second
BINS_PER_OCTAVE = 24  # half a semitone per bin
BINS_PER_SEMITONE = BINS_PER_OCTAVE / 12
F_MIN = 150.0
F_MAX = 3800.0
N_BINS = int(math.floor(BINS_PER_OCTAVE * math.log2(F_MAX / F_MIN))) + 1

# Peak picking: a peak is the maximum of its neighbourhood (frames x bins).
PEAK_NEIGHBOURHOOD = (15, 7)
PROMINENCE_SPAN = (63, 25)  # the local average a peak must stand above
BLOCK_FRAMES = 32  # peaks are kept per block of ~0.5 s, strongest first
CHUNK_SECONDS = 60.0  # decoding: resampled a minute at a time
SPEC_CHUNK_FRAMES = 8192  # spectrogram: FFTs a batch of frames at a time


@dataclass(frozen=True)
class QuadSettings:
    """How densely peaks and quads are taken (reference and query differ)."""

    peaks_per_block: int
    neighbours: int  # quads use 3 of the next ``neighbours`` peaks after the anchor
    dt_min: float  # target zone in frames after the anchor
    dt_max: float
    probe: float = 0.0  # query side: also emit the neighbouring cell within this margin


REFERENCE = QuadSettings(peaks_per_block=3, neighbours=4, dt_min=3, dt_max=90)
QUERY = QuadSettings(peaks_per_block=5, neighbours=7, dt_min=2, dt_max=120, probe=0.25)
#: Long queries (a whole registration checked for conflicts): a quarter of the quads.
QUERY_LONG = QuadSettings(peaks_per_block=4, neighbours=5, dt_min=2, dt_max=120, probe=0.2)
#: A query that Chromaprint already found unchanged (a strong match): the quads only
#: confirm the recording and measure the transform, so 10 quads per anchor instead
#: of 35 and no probes, a seventh of :data:`QUERY`'s keys (benchmarks/README_audio.md,
#: "Session 9: the index part at 100,000 recordings").
QUERY_CONFIRM = QuadSettings(peaks_per_block=5, neighbours=5, dt_min=2, dt_max=120)

#: A lookup that found nothing picks the query's peaks again as for a copy played this
#: many times as fast (:func:`find_peaks`' ``time_scale``) and searches the quads once
#: more: "sped up" re-uploads (10-25 %) lose most of their quads at the usual picking
#: (1.25x: 37 % of the quads survive, against 71 % unchanged; 50 % at this scale).
FAST_COPY = 1.25

DF_MAX = 23  # frequency differences kept within +-DF_MAX bins (about an octave)
N_DF = 2 * DF_MAX + 1
N_RATIO = 8  # each time ratio in eight levels
MIN_SPAN = 10  # frames: a quad shorter than this has unstable time ratios
MAX_SPAN = 255  # frames (fits one byte)

_MAGIC = b"TPK1"
_HEADER = struct.Struct("<4sIf")  # magic, peak count, duration


def _filterbank() -> np.ndarray:
    """(N_BINS, N_FFT//2+1) weights: triangles on the log axis, interpolating
    between FFT bins where the log bins are narrower than an FFT bin."""
    fft_freqs = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    centres = F_MIN * 2.0 ** (np.arange(-1, N_BINS + 1) / BINS_PER_OCTAVE)
    bank = np.zeros((N_BINS, fft_freqs.size))
    for b in range(N_BINS):
        lo, mid, hi = centres[b], centres[b + 1], centres[b + 2]
        up = (fft_freqs - lo) / (mid - lo)
        down = (hi - fft_freqs) / (hi - mid)
        tri = np.clip(np.minimum(up, down), 0, None)
        # Linear interpolation of the FFT at the centre: never an empty filter.
        pos = mid * N_FFT / SAMPLE_RATE
        i = int(pos)
        interp = np.zeros(fft_freqs.size)
        interp[i], interp[i + 1] = 1 - (pos - i), pos - i
        row = np.maximum(tri, interp)
        bank[b] = row / row.sum()
    return bank


_BANK = _filterbank().astype(np.float32)
_WINDOW = np.hanning(N_FFT).astype(np.float32)


@dataclass(frozen=True, eq=False)
class PeakPrint:
    """The peaks of one recording or query: times in frames, frequencies in log bins."""

    times: np.ndarray  # float32, sorted
    bins: np.ndarray  # float32
    duration_s: float
    strength: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __len__(self) -> int:
        return int(self.times.size)

    def to_bytes(self) -> bytes:
        head = _HEADER.pack(_MAGIC, self.times.size, float(self.duration_s))
        body = np.stack([self.times, self.bins], axis=1).astype("<f4").tobytes()
        return head + body

    @classmethod
    def from_bytes(cls, data: bytes) -> PeakPrint:
        magic, count, duration = _HEADER.unpack_from(data)
        if magic != _MAGIC or len(data) != _HEADER.size + 8 * count:
            raise ValueError("not a Tamga peak fingerprint blob")
        arr = np.frombuffer(data, dtype="<f4", offset=_HEADER.size).reshape(count, 2)
        return cls(arr[:, 0].astype(np.float32), arr[:, 1].astype(np.float32), float(duration))


# --------------------------------------------------------------------------- decoding


def _as_float(frame) -> np.ndarray:
    """(channels, samples) float32 of one decoded frame, whatever its sample format."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    if data.dtype.kind == "i":
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max)
    elif data.dtype.kind == "u":
        data = (data.astype(np.float32) - 128.0) / 128.0
    return data.astype(np.float32, copy=False)


def decode(path: Path, *, sample_rate: int = SAMPLE_RATE,
           max_seconds: float | None = None) -> np.ndarray:  # fmt: skip
    """Mono float32 samples at ``sample_rate``, decoded in process with PyAV.

    Frames are gathered in a FIFO, then mixed to mono and resampled (a
    polyphase filter) a minute at a time: per-frame conversions cost more than
    decoding.
    Stops after ``max_seconds`` when given. A file with no decodable audio
    raises :class:`CorruptMedia`.
    """
    import av  # imported here: only decoding needs it

    fifo = av.AudioFifo()
    rate = 0
    parts: list[np.ndarray] = []

    def drain(final: bool) -> None:
        # Long files are mixed and resampled a minute at a time, so memory stays
        # at the output's size instead of the decoded stream's.
        while fifo.samples and (final or fifo.samples >= CHUNK_SECONDS * rate):
            frame = fifo.read(min(fifo.samples, int(CHUNK_SECONDS * rate)))
            parts.append(resample(_as_float(frame).mean(axis=0), rate, sample_rate))

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise CorruptMedia.because("no_audio")
            stream = container.streams.audio[0]
            stream.codec_context.thread_type = "AUTO"
            decoded = 0
            for frame in container.decode(stream):
                if rate and frame.sample_rate != rate:
                    break  # a format change mid-stream: keep what came before
                rate = frame.sample_rate
                frame.pts = None
                try:
                    fifo.write(frame)
                except ValueError:
                    break  # the layout or sample format changed mid-stream
                decoded += frame.samples
                drain(False)
                if max_seconds is not None and decoded >= max_seconds * rate:
                    break
    except av.error.FFmpegError as exc:
        if not fifo.samples and not parts:
            raise CorruptMedia.because("audio_undecodable",
                                       tool_error=str(exc)[:300]) from exc
    if rate:
        drain(True)
    if not parts:
        return np.zeros(0, np.float32)
    samples = np.concatenate(parts)
    if max_seconds is not None:
        samples = samples[: int(max_seconds * sample_rate)]
    return samples


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling from ``rate`` to ``target`` Hz."""
    if rate == target:
        return samples.astype(np.float32, copy=False)
    g = math.gcd(int(rate), int(target))
    return signal.resample_poly(samples, target // g, rate // g).astype(np.float32)


# --------------------------------------------------------------------------- peaks


def log_spectrogram(samples: np.ndarray) -> np.ndarray:
    """(frames, N_BINS) log magnitude on the log-frequency axis.

    The FFT is scipy's in single precision: numpy's always computes in double,
    which took half the time of a query's fingerprint for no difference that
    reaches the peaks (same peaks, positions within 1e-4 frame)."""
    x = np.asarray(samples, dtype=np.float32)
    if x.size < N_FFT:
        return np.zeros((0, N_BINS), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP]
    out = np.empty((frames.shape[0], N_BINS), dtype=np.float32)
    for a in range(0, frames.shape[0], SPEC_CHUNK_FRAMES):
        block = frames[a : a + SPEC_CHUNK_FRAMES]
        spec = np.abs(fft.rfft(block * _WINDOW, axis=1))
        out[a : a + block.shape[0]] = np.log(spec @ _BANK.T + 1e-4)
    return out


def _odd(frames: float) -> int:
    return int(round(frames)) | 1


def find_peaks(spec: np.ndarray, peaks_per_block: int,
               time_scale: float = 1.0) -> tuple[np.ndarray, ...]:  # fmt: skip
    """(times, bins, strength) of the most prominent local maxima, at most
    ``peaks_per_block`` per :data:`BLOCK_FRAMES` frames, sorted by time.

    ``time_scale`` > 1 picks the peaks of a copy played that many times as fast as
    its original as the original's would be picked: the neighbourhood, the
    prominence span and the block are that many times shorter in time. With the
    same frames, a sped-up copy's spans hold more of the music (1.25x: a quarter
    more), so its peaks suppress each other and compete for fewer slots, and only
    ~76 % of the original's peaks were re-found (93 % unchanged); see
    :data:`FAST_COPY` and README_audio.md, "Session 10".
    """
    if spec.shape[0] < 3:
        empty = np.zeros(0, np.float32)
        return empty, empty, empty
    neighbourhood = (_odd(PEAK_NEIGHBOURHOOD[0] / time_scale), PEAK_NEIGHBOURHOOD[1])
    span = (_odd(PROMINENCE_SPAN[0] / time_scale), PROMINENCE_SPAN[1])
    block_frames = max(1, int(round(BLOCK_FRAMES / time_scale)))
    local_max = ndimage.maximum_filter(spec, size=neighbourhood, mode="nearest")
    background = ndimage.uniform_filter(spec, size=span, mode="nearest")
    prominence = spec - background
    # Floor: ignore near-silence (60 dB under the loudest bin of the recording).
    floor = spec.max() - 6.9
    cand = (spec == local_max) & (prominence > 0.3) & (spec > floor)
    cand[0, :] = cand[-1, :] = False
    cand[:, 0] = cand[:, -1] = False
    t, f = np.nonzero(cand)
    if not t.size:
        empty = np.zeros(0, np.float32)
        return empty, empty, empty
    score = prominence[t, f]
    block = t // block_frames
    order = np.lexsort((-score, block))
    t, f, score, block = t[order], f[order], score[order], block[order]
    starts = np.searchsorted(block, block, "left")
    rank = np.arange(block.size) - starts
    keep = rank < peaks_per_block
    t, f, score = t[keep], f[keep], score[keep]
    # Parabolic refinement in frequency and in time.
    a, b, c = spec[t, f - 1], spec[t, f], spec[t, f + 1]
    den = a - 2 * b + c
    df = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1), 0.0)
    a, c = spec[t - 1, f], spec[t + 1, f]
    den = a - 2 * b + c
    dt = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1), 0.0)
    times = (t + np.clip(dt, -0.5, 0.5)).astype(np.float32)
    bins = (f + np.clip(df, -0.5, 0.5)).astype(np.float32)
    order = np.argsort(times, kind="stable")
    return times[order], bins[order], score[order].astype(np.float32)


def peaks_of_samples(samples: np.ndarray, settings: QuadSettings = REFERENCE) -> PeakPrint:
    spec = log_spectrogram(samples)
    times, bins, strength = find_peaks(spec, settings.peaks_per_block)
    return PeakPrint(times, bins, samples.size / SAMPLE_RATE, strength)


def check_content(samples: np.ndarray, min_seconds: float) -> None:
    """Too short or silent audio: the same errors as the Chromaprint side."""
    if samples.size < min_seconds * SAMPLE_RATE * 0.98:
        raise MediaTooShort.because("too_little_audio", {"minimum": f"{min_seconds:g}"})
    if not np.any(np.abs(samples) > 1e-3):
        raise SilentAudio.because("silent")


# --------------------------------------------------------------------------- quads


@dataclass(frozen=True)
class Quads:
    """Hashes and their anchors: ``key[i]`` with anchor frame ``t[i]``, anchor
    bin ``f[i]`` and span ``span[i]`` (frames). A query's probes repeat the
    anchor with a neighbouring key."""

    key: np.ndarray  # int64
    t: np.ndarray  # float32
    f: np.ndarray  # float32
    span: np.ndarray  # float32

    def __len__(self) -> int:
        return int(self.key.size)


def _combos(k: int) -> np.ndarray:
    return np.array(list(combinations(range(k), 3)), dtype=np.int64).reshape(-1, 3)


def quads(fp: PeakPrint, settings: QuadSettings = REFERENCE) -> Quads:
    """Every quad of ``fp`` under ``settings`` (vectorised over anchors)."""
    t, f = fp.times.astype(np.float64), fp.bins.astype(np.float64)
    n, k = t.size, settings.neighbours
    if n < 4:
        z = np.zeros(0)
        return Quads(z.astype(np.int64), z.astype(np.float32), z.astype(np.float32),
                     z.astype(np.float32))  # fmt: skip
    # For each anchor, the candidates are the next peaks inside the target zone,
    # in time order: the first ``k`` that lie within +-DF_MAX bins.
    lo = np.searchsorted(t, t + settings.dt_min, "left")
    hi = np.searchsorted(t, t + settings.dt_max, "right")
    width = 4 * k
    idx = lo[:, None] + np.arange(width)[None, :]
    valid = idx < hi[:, None]
    idx = np.minimum(idx, n - 1)
    valid &= np.abs(f[idx] - f[:, None]) <= DF_MAX
    rank = np.cumsum(valid, axis=1) - 1
    chosen = np.full((n, k), -1, dtype=np.int64)
    rows, cols = np.nonzero(valid & (rank < k))
    chosen[rows, rank[rows, cols]] = idx[rows, cols]
    combos = _combos(k)
    anchors = np.repeat(np.arange(n), combos.shape[0])
    trip = chosen[:, combos].reshape(-1, 3)  # (anchor*combo, 3)
    ok = (trip >= 0).all(axis=1)
    anchors, trip = anchors[ok], trip[ok]
    ta, fa = t[anchors], f[anchors]
    span = t[trip[:, 2]] - ta
    ok = (span >= MIN_SPAN) & (span <= (MAX_SPAN if settings.probe == 0 else 2 * MAX_SPAN))
    anchors, trip, ta, fa, span = anchors[ok], trip[ok], ta[ok], fa[ok], span[ok]
    d = f[trip] - fa[:, None]  # (m, 3) frequency differences
    r = (t[trip[:, :2]] - ta[:, None]) / span[:, None]  # (m, 2) time ratios in (0, 1)
    values = np.concatenate([d + DF_MAX + 0.5, r * N_RATIO], axis=1)  # cell = floor
    sizes = np.array([N_DF, N_DF, N_DF, N_RATIO, N_RATIO])
    cells = np.clip(np.floor(values), 0, sizes - 1).astype(np.int64)
    keys = [cells]
    owners = [np.arange(cells.shape[0])]
    if settings.probe > 0:
        frac = values - np.floor(values)
        for dim in range(5):
            for side, near in ((-1, frac[:, dim] < settings.probe),
                               (1, frac[:, dim] > 1 - settings.probe)):  # fmt: skip
                rows_ = np.nonzero(near)[0]
                if not rows_.size:
                    continue
                alt = cells[rows_].copy()
                alt[:, dim] += side
                inside = (alt[:, dim] >= 0) & (alt[:, dim] < sizes[dim])
                keys.append(alt[inside])
                owners.append(rows_[inside])
    cells = np.concatenate(keys)
    owner = np.concatenate(owners)
    key = np.zeros(cells.shape[0], dtype=np.int64)
    for dim in range(5):
        key = key * sizes[dim] + cells[:, dim]
    return Quads(key, ta[owner].astype(np.float32), fa[owner].astype(np.float32),
                 span[owner].astype(np.float32))  # fmt: skip


N_KEYS = N_DF**3 * N_RATIO**2


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Transform:
    """Query time = (work time - offset) / scale; query bin = work bin + pitch."""

    scale: float  # the query plays ``scale`` times as fast (tempo part)
    pitch_bins: float  # the query is this many log bins higher
    offset: float  # work frame at query frame 0

    @property
    def pitch_semitones(self) -> float:
        return self.pitch_bins / BINS_PER_SEMITONE


@dataclass(frozen=True)
class Verified:
    transform: Transform
    matched: int  # reference peaks found again in the query
    considered: int  # reference peaks inside the aligned stretch
    ratio: float
    coverage: float  # share of the stretch's seconds with a re-found peak
    query_start: float  # seconds
    query_end: float
    work_start: float
    work_end: float
    distinct_bins: int = 0  # different frequencies (log bins) among the re-found peaks


TIME_TOLERANCE = 2  # frames
BIN_TOLERANCE = 1  # log bins


def _occupancy(query: PeakPrint, n_frames: int) -> np.ndarray:
    grid = np.zeros((n_frames + 1, N_BINS), dtype=bool)
    ti = np.clip(np.rint(query.times).astype(np.int64), 0, n_frames)
    fi = np.clip(np.rint(query.bins).astype(np.int64), 0, N_BINS - 1)
    grid[ti, fi] = True
    size = (2 * TIME_TOLERANCE + 1, 2 * BIN_TOLERANCE + 1)
    return ndimage.maximum_filter(grid, size=size, mode="constant")


def _count(grid: np.ndarray, rt: np.ndarray, rf: np.ndarray, tr: Transform) -> np.ndarray:
    """Which reference peaks land on a query peak under ``tr`` (False outside the query)."""
    qt = np.rint((rt - tr.offset) / tr.scale).astype(np.int64)
    qf = np.rint(rf + tr.pitch_bins).astype(np.int64)
    inside = (qt >= 0) & (qt < grid.shape[0]) & (qf >= 0) & (qf < N_BINS)
    hit = np.zeros(rt.size, dtype=bool)
    hit[inside] = grid[qt[inside], qf[inside]]
    return hit


#: Rounds of the local search of :func:`_climb` (each moves the scale by up to 2 %).
CLIMB_ROUNDS = 4


def _neighbourhood(rt: np.ndarray, rf: np.ndarray, grid: np.ndarray, centre: float,
                   guess: Transform, steps: tuple[float, ...]
                   ) -> tuple[int, Transform]:  # fmt: skip
    """The transform near ``guess`` that re-finds the most peaks (ties keep the nearest):
    every scale step of ``steps`` (the query's centre kept fixed), pitch +-0.5 bin and
    offset +-2 frames, counted in one gather."""
    scales = guess.scale * (1 + np.asarray(steps, dtype=np.float64))
    bases = guess.offset + centre * (guess.scale - scales)
    pitches = guess.pitch_bins + np.array([0.0, -0.5, 0.5])
    shifts = np.array([0.0, -2.0, 2.0])
    # (scale, offset, peak) query frames and (pitch, peak) query bins.
    qt = np.rint((rt[None, None, :] - (bases[:, None, None] + shifts[None, :, None]))
                 / scales[:, None, None]).astype(np.int64)  # fmt: skip
    qf = np.rint(rf[None, :] + pitches[:, None]).astype(np.int64)
    t_in = (qt >= 0) & (qt < grid.shape[0])
    f_in = (qf >= 0) & (qf < N_BINS)
    hits = grid[np.clip(qt, 0, grid.shape[0] - 1)[:, None, :, :],
                np.clip(qf, 0, N_BINS - 1)[None, :, None, :]]  # (scale, pitch, offset, peak)
    counts = (hits & t_in[:, None, :, :] & f_in[None, :, None, :]).sum(axis=3)
    # The first maximum in (scale, pitch, offset) order: ties keep the nearest.
    s, p, o = np.unravel_index(int(np.argmax(counts)), counts.shape)
    best = Transform(float(scales[s]), float(pitches[p]), float(bases[s] + shifts[o]))
    return int(counts[s, p, o]), best


def _climb(rt: np.ndarray, rf: np.ndarray, grid: np.ndarray, centre: float,
           guess: Transform) -> Transform:  # fmt: skip
    """A small grid around ``guess``, then steps while they re-find more peaks.

    The vote cells leave the scale off by up to ~4 % where peaks vote loosely (a
    slowed copy with reverb smears them): over a 15 s clip that misplaces its ends
    by a quarter of a second, and only the middle of a real copy lines up. Each
    round moves to the best neighbour (scale within 2 %) while it re-finds more.
    """
    n, tr = _neighbourhood(rt, rf, grid, centre, guess, (0.0, -0.005, 0.005, -0.01, 0.01))
    for _ in range(CLIMB_ROUNDS):
        got, moved = _neighbourhood(rt, rf, grid, centre, tr, (0.0, -0.01, 0.01, -0.02, 0.02))
        if got <= n:
            break
        n, tr = got, moved
    return tr


def verify(query: PeakPrint, work: PeakPrint, guess: Transform,
           grid: np.ndarray | None = None) -> Verified | None:  # fmt: skip
    """Refine ``guess`` on a small grid and measure how many of the recording's
    peaks inside the aligned stretch reappear in the query."""
    n_frames = int(math.ceil(query.duration_s * FPS))
    if grid is None:
        grid = _occupancy(query, n_frames)
    # Reference peaks that can fall inside the query under the guess (with margin).
    lo = guess.offset - 0.05 * n_frames * guess.scale - 10
    hi = guess.offset + 1.05 * n_frames * guess.scale + 10
    a, b = np.searchsorted(work.times, [lo, hi])
    rt, rf = work.times[a:b].astype(np.float64), work.bins[a:b].astype(np.float64)
    if rt.size < 4:
        return None
    tr = _climb(rt, rf, grid, n_frames / 2, guess)
    hit = _count(grid, rt, rf, tr)
    qt = (rt - tr.offset) / tr.scale
    inside = (qt >= 0) & (qt <= n_frames)
    if not hit.any():
        return None
    # The aligned stretch: from the first to the last re-found peak, in query time.
    found_t = qt[hit]
    q0, q1 = float(found_t.min()), float(found_t.max())
    # Near a query edge, the stretch reaches the edge.
    if q0 < 1.0 * FPS:
        q0 = 0.0
    if q1 > n_frames - 1.0 * FPS:
        q1 = float(n_frames)
    considered = int((inside & (qt >= q0 - 1) & (qt <= q1 + 1)).sum())
    matched = int(hit.sum())
    if considered == 0:
        return None
    # Chance alignments re-find peaks in a cluster (the few quads that voted); a
    # copy re-finds them all along: count the seconds of the stretch that have one.
    seconds = max(1, int(math.ceil((q1 - q0) / FPS)))
    busy = np.unique(np.minimum(((found_t - q0) / FPS).astype(np.int64), seconds - 1)).size
    return Verified(
        transform=tr, matched=matched, considered=considered, ratio=matched / considered,
        coverage=busy / seconds,
        query_start=q0 / FPS, query_end=min(q1 / FPS, query.duration_s),
        work_start=max(0.0, (tr.offset + tr.scale * q0) / FPS),
        work_end=min(work.duration_s, (tr.offset + tr.scale * q1) / FPS),
        distinct_bins=int(np.unique(np.rint(rf[hit])).size),
    )  # fmt: skip
