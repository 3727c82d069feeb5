"""Chromaprint fingerprints of whole recordings, via Debian's ``fpcalc``.

A fingerprint is the sequence of 32-bit Chromaprint items (one every
1365/11025 s, about 8 per second) plus the duration, kept as a numpy ``uint32``
array and stored as little-endian bytes behind a small header.

Queries are fingerprinted at a few resampled speeds and tempos
(:func:`fingerprint_query`) so a clip played up to ~3 % faster or slower still
lines up with the registered recording; plain Chromaprint loses the match at
about 2.5 %.
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

try:  # pyacoustid's ctypes binding to Debian's libchromaprint1
    import chromaprint as _libchromaprint
except ImportError:  # fpcalc alone still does everything, only slower for queries
    _libchromaprint = None

from registry.core.errors import CorruptMedia, FingerprintError, MediaTooShort, SilentAudio
from registry.core.media import AudioInfo, MediaLimits, bounded, probe_audio

SAMPLE_RATE = 11025
ITEM_STEP = 1365  # samples between items (frame 4096, overlap 2/3)
ITEM_SECONDS = ITEM_STEP / SAMPLE_RATE
ITEMS_PER_SECOND = 1 / ITEM_SECONDS
# Items lost at the edges (the first 4096-sample frame, the 16-frame item filters
# and the chroma smoothing); measured with fpcalc 1.5 on files of 15 s to 70 s.
EDGE_ITEMS = 21.3
# Chromaprint's item for digital silence (all-zero chroma), algorithm 2.
SILENCE_ITEMS = frozenset({627964279})

_MAGIC = b"TAF1"
_HEADER = struct.Struct("<4sIfH2x")  # magic, item count, duration, speed*10000
FPCALC_TIMEOUT_S = 1800
# Speeds (query played this many times faster than the original) tried at query
# time, both as a plain resample (pitch follows) and as a tempo change.
# Steps of 1.5 %: a residual speed error of 0.5 % already doubles the bit error
# rate of an aligned clip, so coarser steps lose noisy queries.
DEFAULT_SPEEDS: tuple[float, ...] = (0.97, 0.985, 1.015, 1.03)


@dataclass(frozen=True, eq=False)
class AudioFingerprint:
    """Chromaprint items of one recording (or of one query variant).

    ``speed`` is the playback speed of the query relative to the audio these
    items describe: item ``i`` starts at ``i * ITEM_SECONDS / speed`` seconds of
    the original query. Registered recordings have ``speed == 1``.
    """

    items: np.ndarray
    duration_s: float
    speed: float = 1.0
    variant: str = field(default="plain")

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", np.ascontiguousarray(self.items, dtype=np.uint32))

    def __len__(self) -> int:
        return int(self.items.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioFingerprint):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.digest())

    def to_bytes(self) -> bytes:
        """Compact binary form: 16-byte header, then little-endian uint32 items."""
        header = _HEADER.pack(
            _MAGIC, self.items.size, float(self.duration_s), round(self.speed * 10000)
        )
        return header + self.items.astype("<u4", copy=False).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> AudioFingerprint:
        if len(data) < _HEADER.size:
            raise ValueError("fingerprint blob too short")
        magic, count, duration, speed = _HEADER.unpack_from(data)
        if magic != _MAGIC or len(data) != _HEADER.size + 4 * count:
            raise ValueError("not a Tamga audio fingerprint blob")
        items = np.frombuffer(data, dtype="<u4", offset=_HEADER.size, count=count)
        return cls(items.astype(np.uint32), float(duration), speed / 10000)

    def digest(self) -> str:
        """SHA-256 (hex) of :meth:`to_bytes`."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def non_silent_count(self) -> int:
        return int(np.count_nonzero(~np.isin(self.items, list(SILENCE_ITEMS))))


def expected_items(duration_s: float) -> float:
    """How many items Chromaprint yields for ``duration_s`` seconds of audio."""
    return max(0.0, duration_s * ITEMS_PER_SECOND - EDGE_ITEMS)


# --------------------------------------------------------------------------- fpcalc


@dataclass
class _FpcalcResult:
    items: np.ndarray
    returncode: int
    errors: list[str]


def _parse_fpcalc_stream(stream: Iterable[bytes]) -> np.ndarray:
    """Parse ``fpcalc -raw`` output chunk by chunk into uint32 items.

    The FINGERPRINT line of a 3-hour file is about 1 MB of text; it is parsed
    incrementally so memory stays at a few bytes per item.
    """
    parts: list[np.ndarray] = []
    pending = b""
    in_fp = False
    for chunk in stream:
        data = pending + chunk
        if not in_fp:
            at = data.find(b"FINGERPRINT=")
            if at < 0:
                pending = data[-16:]
                continue
            data, in_fp = data[at + len(b"FINGERPRINT=") :], True
        end = data.find(b"\n")
        if end >= 0:
            data = data[:end]
        cut = len(data) if end >= 0 else data.rfind(b",") + 1
        if cut:
            parts.append(_to_items(data[:cut]))
        pending = data[cut:]
        if end >= 0:
            pending = b""
            break
    if in_fp and pending:
        parts.append(_to_items(pending))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)


def _to_items(text: bytes) -> np.ndarray:
    values = [v for v in text.strip(b",\r\n ").split(b",") if v]
    return np.array([int(v) for v in values], dtype=np.uint32)


def _read_chunks(fh, size: int = 1 << 16) -> Iterable[bytes]:
    while chunk := fh.read(size):
        yield chunk


def _run_fpcalc(cmd: list[str], stdin: IO[bytes] | None = None) -> _FpcalcResult:
    """Run fpcalc, streaming stdout; stderr is collected on a thread (bounded)."""
    try:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise FingerprintError.because("fpcalc_missing") from exc
    errors: list[str] = []
    with proc:
        assert proc.stdout is not None and proc.stderr is not None
        stderr = proc.stderr

        def drain() -> None:
            for line in stderr:
                if len(errors) < 50:
                    errors.append(line.decode("utf-8", "replace").strip())

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        try:
            items = _parse_fpcalc_stream(_read_chunks(proc.stdout))
            for _ in _read_chunks(proc.stdout):  # drain anything after the fingerprint
                pass
            proc.wait(timeout=FPCALC_TIMEOUT_S)
        except (subprocess.TimeoutExpired, ValueError) as exc:
            proc.kill()
            raise FingerprintError.because("fingerprint_failed") from exc
        finally:
            reader.join(timeout=5)
    return _FpcalcResult(items, proc.returncode, [e for e in errors if e])


def _is_decode_error(line: str) -> bool:
    return line.startswith("ERROR: Error decoding audio frame")


def _accept(result: _FpcalcResult, info: AudioInfo) -> None:
    """Decide whether fpcalc's output is a complete fingerprint of the file.

    fpcalc stops at the first decode error and still prints what it has, exiting
    non-zero; Debian's build does so even at a clean end of stream ("End of
    file"). We accept a non-zero exit only when every error is a frame-decode
    error and the items cover (nearly) the whole duration ffprobe reported, i.e.
    the error happened at the very end. A short fingerprint means a truncated or
    damaged file, whatever the exit code.
    """
    n = result.items.size
    want = expected_items(info.duration_s)
    estimated = info.codec in {"mp3", "aac"} and "mp4" not in info.container
    # MP3/ADTS durations are estimated from the bitrate, so allow more slack.
    ratio = 0.8 if estimated else 0.95
    covered = n >= ratio * want - 10
    decoded_s = (n + EDGE_ITEMS) * ITEM_SECONDS if n else 0.0
    if result.returncode != 0:
        if n == 0 or not all(_is_decode_error(e) for e in result.errors):
            detail = result.errors[-1] if result.errors else f"exit code {result.returncode}"
            raise CorruptMedia.because("audio_undecodable", tool_error=detail[:300])
    if not covered:
        raise CorruptMedia.because(
            "audio_truncated",
            {"announced": f"{info.duration_s:.1f}", "decoded": f"{decoded_s:.1f}"},
            duration_s=info.duration_s,
            decoded_s=decoded_s,
        )


def _check_content(fp: AudioFingerprint, limits: MediaLimits) -> None:
    min_items = expected_items(limits.min_audio_seconds)
    if len(fp) < max(1.0, min_items):
        raise MediaTooShort.because("too_little_audio",
                                    {"minimum": f"{limits.min_audio_seconds:g}"})
    # Every item spans ~2.6 s of audio, so a short sound in silence still yields
    # ~20 non-silent items; ask for as many as the minimum duration would give
    # (or half the items of a short clip).
    needed = min(limits.min_audio_seconds * ITEMS_PER_SECOND, 0.5 * len(fp))
    if fp.non_silent_count() < needed:
        raise SilentAudio.because("silent")


def fingerprint_file(
    path: Path,
    limits: MediaLimits,
    *,
    fpcalc: str = "fpcalc",
    ffprobe: str = "ffprobe",
) -> AudioFingerprint:
    """Fingerprint a whole audio file (``fpcalc -raw -length 0``).

    Raises CorruptMedia, MediaTooShort, MediaTooLong, SilentAudio or
    FingerprintError with a message a person understands.
    """
    info = probe_audio(path, limits, ffprobe=ffprobe)
    # Decode no further than the declared duration (plus slack): a header that
    # understates a 10-hour stream cannot make fpcalc decode all of it.
    length = str(int(info.duration_s) + 30)
    result = _run_fpcalc(bounded([fpcalc, "-raw", "-length", length, str(path)]))
    _accept(result, info)
    fp = AudioFingerprint(result.items, info.duration_s)
    _check_content(fp, limits)
    return fp


# --------------------------------------------------------------------------- queries


def _decode_variants(
    path: Path, workdir: Path, speeds: Sequence[float], tempo: bool, ffmpeg: str,
    max_seconds: float | None = None,
) -> tuple[Path, dict[float, Path]]:
    """One ffmpeg run: 11025 Hz mono PCM of the query, plus one PCM per tempo variant;
    with ``max_seconds``, of the first ``max_seconds`` of the file only (ffmpeg stops
    reading there)."""
    plain = workdir / "plain.pcm"
    chain = f"[0:a]aformat=channel_layouts=mono,aresample={SAMPLE_RATE}"
    tempos = list(speeds) if tempo else []
    outs = ["-map", "[p]", "-f", "s16le", "-ac", "1", str(plain)]
    labels = "".join(f"[x{i}]" for i in range(len(tempos)))
    graph = f"{chain},asplit={1 + len(tempos)}[p]{labels}" if tempos else f"{chain}[p]"
    files: dict[float, Path] = {}
    for i, s in enumerate(tempos):
        graph += f";[x{i}]atempo={1 / s:.6f}[t{i}]"
        files[s] = workdir / f"tempo{i}.pcm"
        outs += ["-map", f"[t{i}]", "-f", "s16le", "-ac", "1", str(files[s])]
    limit = ["-t", f"{max_seconds:.3f}"] if max_seconds else []
    cmd = [ffmpeg, "-nostdin", "-v", "error", *limit, "-i", str(path), "-filter_complex", graph,
           *outs]
    done = subprocess.run(bounded(cmd), capture_output=True, timeout=FPCALC_TIMEOUT_S,
                          check=False)
    if not plain.exists() or plain.stat().st_size == 0:
        raise CorruptMedia.because(
            "audio_undecodable", tool_error=done.stderr.decode("utf-8", "replace")[-300:])
    return plain, files


def _fp_raw(pcm: Path, rate: float, fpcalc: str) -> np.ndarray:
    """Fingerprint raw s16le mono PCM, declaring it as sampled at ``rate`` Hz.

    Declaring 11025/s Hz makes Chromaprint resample the audio as if played 1/s
    times as fast, undoing a speed-up by s (pitch included) at no extra decoding
    cost. libchromaprint is called in-process when pyacoustid can load it (a few
    ms, against ~30 ms to start fpcalc); both give the same items.
    """
    if _libchromaprint is not None:
        return _fp_in_process(pcm, rate)
    cmd = [
        fpcalc, "-raw", "-length", "0", "-format", "s16le",
        "-rate", str(round(rate)), "-channels", "1", str(pcm),
    ]  # fmt: skip
    return _run_fpcalc(cmd).items


def _fp_in_process(pcm: Path, rate: float) -> np.ndarray:
    fingerprinter = _libchromaprint.Fingerprinter()
    fingerprinter.start(round(rate), 1)
    with pcm.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            fingerprinter.feed(chunk)
    encoded = fingerprinter.finish()
    if not encoded:
        return np.zeros(0, dtype=np.uint32)
    raw, _algorithm = _libchromaprint.decode_fingerprint(encoded)
    return np.asarray(raw, dtype=np.int64).astype(np.uint32)


def fingerprint_query(
    path: Path,
    limits: MediaLimits,
    *,
    speeds: Sequence[float] = DEFAULT_SPEEDS,
    tempo: bool = True,
    fpcalc: str = "fpcalc",
    ffmpeg: str = "ffmpeg",
    ffprobe: str = "ffprobe",
    max_seconds: float | None = None,
) -> list[AudioFingerprint]:
    """Fingerprints of a query clip: as is, then undoing each speed in ``speeds``.

    The file is probed first (its declared duration decides the limits before any
    decoding); then only its first ``max_seconds`` (None: all of it) are decoded.

    The clip is decoded once (one ffmpeg run also writes the ``atempo`` tempo
    variants when ``tempo=True``); speed variants (pitch moves with speed) are
    resamples done by fpcalc itself. The first element is the unmodified
    fingerprint, checked like :func:`fingerprint_file` (silence, too short).
    """
    probe_audio(path, limits, ffprobe=ffprobe)  # refuses before decoding
    with tempfile.TemporaryDirectory(prefix="tamga-query-") as tmp:
        plain_pcm, tempo_pcm = _decode_variants(path, Path(tmp), speeds, tempo, ffmpeg,
                                                max_seconds)
        seconds = plain_pcm.stat().st_size / 2 / SAMPLE_RATE
        jobs: list[tuple[Path, float, float, str]] = [(plain_pcm, SAMPLE_RATE, 1.0, "plain")]
        for s in speeds:
            jobs.append((plain_pcm, SAMPLE_RATE / s, s, "speed"))
            if s in tempo_pcm:
                jobs.append((tempo_pcm[s], SAMPLE_RATE, s, "tempo"))
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda j: _fp_raw(j[0], j[1], fpcalc), jobs))
    out = [
        AudioFingerprint(items, seconds, speed, variant)
        for items, (_, _, speed, variant) in zip(results, jobs, strict=True)
    ]
    _check_content(out[0], limits)
    return [fp for fp in out if len(fp) > 0]


# --------------------------------------------------------------------------- in-process queries


def _fp_pcm(pcm: bytes, rate: float, fpcalc: str) -> np.ndarray:
    """Chromaprint items of s16le mono ``pcm`` declared as sampled at ``rate`` Hz."""
    if _libchromaprint is not None:
        fingerprinter = _libchromaprint.Fingerprinter()
        fingerprinter.start(round(rate), 1)
        fingerprinter.feed(pcm)
        encoded = fingerprinter.finish()
        if not encoded:
            return np.zeros(0, dtype=np.uint32)
        raw, _algorithm = _libchromaprint.decode_fingerprint(encoded)
        return np.asarray(raw, dtype=np.int64).astype(np.uint32)
    with tempfile.NamedTemporaryFile(suffix=".pcm") as tmp:
        tmp.write(pcm)
        tmp.flush()
        return _fp_raw(Path(tmp.name), rate, fpcalc)


def fingerprint_samples(
    samples: np.ndarray,
    *,
    speeds: Sequence[float] = DEFAULT_SPEEDS,
    fpcalc: str = "fpcalc",
) -> list[AudioFingerprint]:
    """Chromaprint fingerprints of decoded mono samples at :data:`SAMPLE_RATE` (float
    in -1..1): as is, then undoing each speed in ``speeds`` (a resample, pitch
    included, done by declaring another sample rate). Empty variants are dropped;
    the first element is always the unmodified fingerprint."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    seconds = samples.size / SAMPLE_RATE
    jobs = [(SAMPLE_RATE, 1.0)] + [(SAMPLE_RATE / s, s) for s in speeds]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda j: _fp_pcm(pcm, j[0], fpcalc), jobs))
    out = [
        AudioFingerprint(items, seconds, speed, "plain" if speed == 1.0 else "speed")
        for items, (_, speed) in zip(results, jobs, strict=True)
    ]
    return [out[0]] + [fp for fp in out[1:] if len(fp) > 0]


def check_query_content(fp: AudioFingerprint, limits: MediaLimits) -> None:
    """Too short or silent: the checks of :func:`fingerprint_file`."""
    _check_content(fp, limits)
