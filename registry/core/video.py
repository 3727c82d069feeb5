"""Video: in-process decoding (PyAV), per-second PDQ frame hashes, key frames.

A registered video gives one frame per second (:data:`REGISTER_STEP_S`); each
sampled frame is scaled down by the decoder (``frame.reformat``), so memory
stays bounded whatever the film's length, and hashed with PDQ (Meta's 256-bit
perceptual hash, via ``pdqhash``) in two or three windows:

- ``full``: the frame with uniform borders (letterbox, pillarbox) trimmed;
- ``v916``: the centre 9:16 column of a landscape frame, which is what a
  vertical re-upload (Shorts, Reels) keeps of it;
- ``v916_frame``: where trimming took bars (or rows as flat as bars: a clear sky),
  also the centre column of the untrimmed frame, since a vertical re-upload crops
  the frame as it is.

Frames whose PDQ quality is below :data:`MIN_QUALITY` (black, flat, the middle
of a fade) carry no information and are not kept: they never vote.

A query clip is sampled twice per second (:data:`QUERY_STEP_S`, so some query
frame is within 0.25 s of each registered one) and hashed as is, with uniform
borders trimmed (letterbox, a picture shown inside a larger frame) and, for
each, mirrored (PDQ's dihedral variants; the flip is what re-uploads use).
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from registry.core.errors import CorruptMedia, MediaTooLong, UnsupportedMediaType
from registry.core.media import MediaLimits

REGISTER_STEP_S = 1.0
QUERY_STEP_S = 0.5
#: Frames are scaled to this width (height keeps the ratio) before hashing.
HASH_WIDTH = 256
#: PDQ's own quality score (0..100): below this a frame is flat, black or fading.
MIN_QUALITY = 20
#: Uniform borders: a row/column is "uniform" if its luma spread is below this.
BORDER_STD = 4.0
MAX_BORDER_FRACTION = 0.45
WINDOWS = {"full": 0, "v916": 1, "v916_frame": 2}
WINDOW_NAMES = {v: k for k, v in WINDOWS.items()}
#: Query variant codes: bit 0 = mirrored, bit 1 = borders trimmed.
VARIANT_NAMES = {0: "plain", 1: "mirror", 2: "trim", 3: "trim_mirror"}
KEY_FRAMES = 8
#: A registration reports how far its decoding is this many times (long films).
PROGRESS_STEPS = 20
KEY_FRAME_WIDTH = 240
_MAGIC = b"TVF1"
_HEADER = struct.Struct("<4sIf")


@dataclass(frozen=True)
class VideoInfo:
    duration_s: float
    width: int
    height: int
    fps: float
    has_picture: bool
    has_sound: bool
    codec: str


@dataclass
class FrameHashes:
    """Hashes of sampled frames: ``times`` (s), ``codes`` (window or variant code),
    ``bits`` (N x 32 bytes, PDQ's 256 bits packed big-endian)."""

    times: np.ndarray
    codes: np.ndarray
    bits: np.ndarray
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times, dtype=np.float32).reshape(-1)
        self.codes = np.asarray(self.codes, dtype=np.uint8).reshape(-1)
        self.bits = np.asarray(self.bits, dtype=np.uint8).reshape(-1, 32)

    def __len__(self) -> int:
        return int(self.times.size)

    def to_bytes(self) -> bytes:
        n = len(self)
        return (_HEADER.pack(_MAGIC, n, float(self.duration_s))
                + self.times.astype("<f4").tobytes() + self.codes.tobytes()
                + self.bits.tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> FrameHashes:
        magic, n, duration = _HEADER.unpack_from(data)
        if magic != _MAGIC or len(data) != _HEADER.size + n * (4 + 1 + 32):
            raise ValueError("not a Tamga frame-hash blob")
        at = _HEADER.size
        times = np.frombuffer(data, "<f4", n, at)
        codes = np.frombuffer(data, np.uint8, n, at + 4 * n)
        bits = np.frombuffer(data, np.uint8, 32 * n, at + 5 * n).reshape(n, 32)
        return cls(times.astype(np.float32), codes.copy(), bits.copy(), float(duration))

    def digest(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def hex_rows(self) -> list[list]:
        """``[[time, code, hex], ...]``: the JSON form (evidence bundles)."""
        return [[round(float(t), 3), int(c), b.tobytes().hex()]
                for t, c, b in zip(self.times, self.codes, self.bits, strict=True)]


@dataclass
class KeyFrame:
    time_s: float
    jpeg: bytes


@dataclass
class VideoPrints:
    info: VideoInfo
    frames: FrameHashes  # registered: what is indexed; query: every variant
    key_frames: list[KeyFrame] = field(default_factory=list)
    informative: int = 0  # sampled frames that carried information
    #: registered only: the frames as a query (plain and mirrored) for the prior-match check
    search: FrameHashes | None = None


# --------------------------------------------------------------------------- decoding


def _open(path: Path):
    import av

    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError) as exc:
        raise CorruptMedia.because("video_undecodable") from exc


def probe_video(path: Path, limits: MediaLimits) -> VideoInfo:
    """Streams and duration of a video, checked against ``limits``."""
    with _open(path) as container:
        vstreams = [s for s in container.streams.video
                    if not (s.disposition and "attached_pic" in str(s.disposition).lower())]
        astreams = list(container.streams.audio)
        if not vstreams and not astreams:
            raise CorruptMedia.because("video_no_streams")
        duration = _duration(container, vstreams[0] if vstreams else astreams[0])
        v = vstreams[0] if vstreams else None
        info = VideoInfo(
            duration_s=duration,
            width=int(v.codec_context.width or 0) if v else 0,
            height=int(v.codec_context.height or 0) if v else 0,
            fps=float(v.average_rate or 0) if v else 0.0,
            has_picture=v is not None, has_sound=bool(astreams),
            codec=(v.codec_context.name if v else astreams[0].codec_context.name) or "",
        )
    if duration > limits.max_video_seconds:
        raise MediaTooLong.because(
            "video_too_long",
            {"minutes": f"{duration / 60:.0f}", "limit": f"{limits.max_video_seconds / 60:.0f}"},
            duration_s=duration)
    if duration < 1.0:
        raise CorruptMedia.because("video_too_short")
    return info


def _duration(container, stream) -> float:
    if container.duration:
        return container.duration / 1_000_000
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    raise CorruptMedia.because("video_length_unknown")


def sample_frames(path: Path, step: float, *, width: int = HASH_WIDTH,
                  reference_only: bool = False) -> Iterator[tuple[float, np.ndarray]]:
    """(time, RGB array scaled to ``width``) of the first frame at or after each
    multiple of ``step`` seconds. Streams: one decoded frame in memory at a time.

    ``reference_only`` (queries): the decoder skips the frames no other frame is
    predicted from (B-frames: about half of an H.264 stream's decoding work), so the
    sampled frame may come a frame or two later. A registration decodes every frame,
    so that anyone re-computing its hashes from the file gets exactly the same ones.
    A stream whose every frame would be skipped is decoded in full."""
    if reference_only:
        found = False
        for item in _sample(path, step, width, "NONREF"):
            found = True
            yield item
        if found:
            return
    yield from _sample(path, step, width, None)


def _sample(path: Path, step: float, width: int, skip: str | None
            ) -> Iterator[tuple[float, np.ndarray]]:
    import av

    with _open(path) as container:
        if not container.streams.video:
            return
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if skip:
            stream.codec_context.skip_frame = skip
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        next_t = 0.0
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float(frame.pts * stream.time_base) - start
                if t + 1e-3 < next_t:
                    continue
                h = max(2, round(width * frame.height / max(frame.width, 1)) // 2 * 2)
                yield max(t, 0.0), frame.to_ndarray(width=width, height=h, format="rgb24")
                next_t = (math.floor(t / step + 1e-6) + 1) * step
        except (av.error.FFmpegError, OSError) as exc:
            raise CorruptMedia.because("video_undecodable") from exc


# --------------------------------------------------------------------------- hashing


def _pdq(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    import pdqhash

    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(bits.astype(np.uint8)), int(quality)


def _pdq_flipped(rgb: np.ndarray) -> tuple[list[np.ndarray], int]:
    """The hash of the picture and of its mirror image (the dihedral variant that
    re-uploads use; hashing the flipped pixels is exact and cheaper than all eight)."""
    plain, quality = _pdq(rgb)
    mirrored, _ = _pdq(rgb[:, ::-1])
    return [plain, mirrored], quality


def trim_borders(rgb: np.ndarray) -> np.ndarray | None:
    """The picture without uniform borders (bars, a frame around a picture), or
    None when there are none worth trimming."""
    luma = rgb.mean(axis=2)
    h, w = luma.shape

    def run(profile: np.ndarray, limit: int) -> int:
        n = 0
        while n < limit and profile[n] < BORDER_STD:
            n += 1
        return n

    # rows first, then columns of what is left between them, then rows again: a title
    # bar across the top of a screen recording makes every column of its side borders
    # non-uniform until the bar itself is cut off
    top = run(luma.std(axis=1), int(h * MAX_BORDER_FRACTION))
    bottom = run(luma.std(axis=1)[::-1], int(h * MAX_BORDER_FRACTION))
    cols = luma[top:h - bottom].std(axis=0)
    left = run(cols, int(w * MAX_BORDER_FRACTION))
    right = run(cols[::-1], int(w * MAX_BORDER_FRACTION))
    rows = luma[:, left:w - right].std(axis=1)
    top = max(top, run(rows, int(h * MAX_BORDER_FRACTION)))
    bottom = max(bottom, run(rows[::-1], int(h * MAX_BORDER_FRACTION)))
    if max(top, bottom, left, right) < max(2, min(h, w) // 40):
        return None
    inner = rgb[top:h - bottom, left:w - right]
    if inner.shape[0] < h // 5 or inner.shape[1] < w // 5:
        return None
    return inner


def centre_column(rgb: np.ndarray, ratio: float = 9 / 16) -> np.ndarray | None:
    """The centre ``ratio`` (width/height) column of a landscape picture."""
    h, w = rgb.shape[:2]
    cw = round(h * ratio)
    if cw >= w * 0.85:
        return None
    x = (w - cw) // 2
    return rgb[:, x:x + cw]


def registration_hashes(rgb: np.ndarray
                        ) -> tuple[list[tuple[int, np.ndarray]], np.ndarray | None, int]:
    """[(window code, hash)] of a registered frame, the hash of its mirror image (what
    the prior-match check searches with besides the frame itself) and its quality."""
    picture = trim_borders(rgb)
    picture = rgb if picture is None else picture
    (full, mirrored), quality = _pdq_flipped(picture)
    if quality < MIN_QUALITY:
        return [], None, quality
    out = [(WINDOWS["full"], full)]
    # A vertical re-upload crops the frame as it is; where trimming took rows or columns
    # (bars, or a sky as flat as a bar), the trimmed picture's column is another crop
    columns = [(WINDOWS["v916"], picture)]
    if picture is not rgb:
        columns.append((WINDOWS["v916_frame"], rgb))
    for code, source in columns:
        column = centre_column(source)
        if column is not None:
            bits, q = _pdq(column)
            if q >= MIN_QUALITY:
                out.append((code, bits))
    return out, mirrored, quality


def query_hashes(rgb: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """[(variant code, hash)] of a query frame: as is, borders trimmed, each mirrored."""
    out: list[tuple[int, np.ndarray]] = []
    forms = [(0, rgb)]
    trimmed = trim_borders(rgb)
    if trimmed is not None:
        forms.append((2, trimmed))
    for code, picture in forms:
        (plain, mirrored), quality = _pdq_flipped(picture)
        if quality >= MIN_QUALITY:
            out += [(code, plain), (code | 1, mirrored)]
    return out


def _jpeg(rgb: np.ndarray, width: int = KEY_FRAME_WIDTH) -> bytes:
    im = Image.fromarray(rgb)
    if im.width > width:
        im = im.resize((width, max(1, round(im.height * width / im.width))),
                       Image.Resampling.BILINEAR)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=80)
    return out.getvalue()


def fingerprint_video(path: Path, limits: MediaLimits, *, key_frames: int = KEY_FRAMES,
                      progress: Callable[[float], None] | None = None) -> VideoPrints:
    """Per-second frame hashes and key frames of a registered video; ``progress`` is
    told the decoded fraction of the film every 5 % (at most once a second of video)."""
    info = probe_video(path, limits)
    report_every = max(REGISTER_STEP_S, info.duration_s / PROGRESS_STEPS)
    reported = 0.0
    rows: list[tuple[float, int, np.ndarray]] = []
    search: list[tuple[float, int, np.ndarray]] = []
    targets = [info.duration_s * (i + 0.5) / key_frames for i in range(key_frames)]
    keys: list[KeyFrame] = []
    for t, rgb in sample_frames(path, REGISTER_STEP_S):
        hashes, mirrored, quality = registration_hashes(rgb)
        rows += [(t, code, value) for code, value in hashes]
        if hashes and mirrored is not None:
            search += [(t, 0, hashes[0][1]), (t, 1, mirrored)]
        while len(keys) < len(targets) and t >= targets[len(keys)] + REGISTER_STEP_S * 30:
            targets.pop(len(keys))  # a long dark stretch: no key frame there
        if len(keys) < len(targets) and t >= targets[len(keys)] and quality >= MIN_QUALITY:
            keys.append(KeyFrame(round(t, 2), _jpeg(rgb)))
        if progress is not None and t - reported >= report_every:
            reported = t
            progress(min(1.0, t / info.duration_s))
    return VideoPrints(info, _frame_hashes(rows, info.duration_s), keys,
                       len({t for t, _, _ in search}), _frame_hashes(search, info.duration_s))


def _frame_hashes(rows: list[tuple[float, int, np.ndarray]], duration: float) -> FrameHashes:
    return FrameHashes(np.array([r[0] for r in rows], dtype=np.float32),
                       np.array([r[1] for r in rows], dtype=np.uint8),
                       np.array([r[2] for r in rows], dtype=np.uint8).reshape(-1, 32), duration)


def query_frames(path: Path, limits: MediaLimits, *, step: float = QUERY_STEP_S,
                 max_seconds: float | None = None) -> VideoPrints:
    """The hashes of a query clip (every variant of every sampled frame); with
    ``max_seconds``, of its first ``max_seconds`` only (decoding stops there)."""
    info = probe_video(path, limits)
    rows: list[tuple[float, int, np.ndarray]] = []
    for t, rgb in sample_frames(path, step, reference_only=True):
        if max_seconds is not None and t > max_seconds:
            break
        rows += [(t, code, value) for code, value in query_hashes(rgb)]
    return VideoPrints(info, _frame_hashes(rows, info.duration_s), [],
                       len({t for t, _, _ in rows}))


def still_query(rgb: np.ndarray) -> FrameHashes:
    """A still picture as a one-frame query (a frame grab looked up against videos)."""
    if rgb.shape[1] > HASH_WIDTH:
        h = max(2, round(HASH_WIDTH * rgb.shape[0] / rgb.shape[1]))
        rgb = np.asarray(Image.fromarray(rgb).resize((HASH_WIDTH, h), Image.Resampling.BILINEAR))
    hashes = query_hashes(rgb)
    return FrameHashes(np.zeros(len(hashes), dtype=np.float32),
                       np.array([c for c, _ in hashes], dtype=np.uint8),
                       np.array([b for _, b in hashes], dtype=np.uint8).reshape(-1, 32), 0.0)


def grab_frames(path: Path, times: list[float], *, width: int = KEY_FRAME_WIDTH) -> list[bytes]:
    """JPEGs of the frames at ``times`` (seconds), by seeking: for evidence reports."""
    import av

    out: list[bytes] = []
    with _open(path) as container:
        if not container.streams.video:
            return []
        stream = container.streams.video[0]
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        for t in times:
            container.seek(int((max(t - 0.05, 0) + start) * av.time_base), backward=True,
                           any_frame=False)
            picked = None
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                picked = frame
                if float(frame.pts * stream.time_base) - start >= t - 0.02:
                    break
            if picked is None:
                continue
            h = max(2, round(width * picked.height / max(picked.width, 1)) // 2 * 2)
            out.append(_jpeg(picked.to_ndarray(width=width, height=h, format="rgb24")))
    return out


def hamming_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit distances between rows of two (N, 32) / (M, 32) uint8 arrays: (N, M)."""
    x = np.bitwise_xor(a[:, None, :], b[None, :, :])
    return np.bitwise_count(x).sum(axis=2, dtype=np.int32)


def refuse_unsupported(info: VideoInfo) -> None:
    if not info.has_picture and not info.has_sound:
        raise UnsupportedMediaType.because("video_no_streams")
