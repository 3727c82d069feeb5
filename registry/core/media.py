"""Shared media intake for audio and images: receive, classify, probe.

Everything is decided from the file's content (magic bytes, then ``ffprobe`` for
audio), never from its name or the client's MIME type. Every failure is a typed
:class:`~registry.core.errors.MediaError` with a sentence a person understands.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from registry.core.errors import (
    N_,
    CorruptMedia,
    EmptyFile,
    FileTooLarge,
    MediaTooLong,
    MediaTooShort,
    UnsupportedMediaType,
)

CHUNK = 1 << 20
HEAD_BYTES = 64 * 1024
PROBE_TIMEOUT_S = 60
#: Address space and CPU seconds any one decoder process (ffprobe, ffmpeg, fpcalc) may use.
DECODER_MEMORY_BYTES = 1536 * 1024 * 1024
DECODER_CPU_SECONDS = 600


def bounded(cmd: list[str], *, memory: int = DECODER_MEMORY_BYTES,
            cpu_s: int = DECODER_CPU_SECONDS) -> list[str]:
    """``cmd`` run under ``prlimit`` (util-linux): a hostile file cannot make one decoder
    take more than ``memory`` bytes of address space or ``cpu_s`` CPU seconds."""
    if shutil.which("prlimit") is None:
        return cmd
    return ["prlimit", f"--as={memory}", f"--cpu={cpu_s}", "--", *cmd]


@dataclass(frozen=True)
class MediaLimits:
    """Configurable intake limits (defaults from the issue)."""

    max_bytes: int = 200 * 1024 * 1024
    max_audio_seconds: float = 3 * 3600.0
    min_audio_seconds: float = 3.0
    max_pixels: int = 80_000_000
    max_video_seconds: float = 4 * 3600.0


@dataclass(frozen=True)
class ReceivedFile:
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class DetectedType:
    kind: Literal["audio", "image", "video"]
    format: str
    mime: str


@dataclass(frozen=True)
class AudioInfo:
    duration_s: float
    codec: str
    sample_rate: int
    channels: int
    container: str = ""


def _megabytes(n: int) -> str:
    megabytes = n / (1024 * 1024)
    return f"{megabytes:.1f}" if megabytes >= 0.1 else f"{megabytes:.2g}"


def receive_upload(stream: BinaryIO, dest_dir: Path, limits: MediaLimits) -> ReceivedFile:
    """Stream ``stream`` into a new temp file in ``dest_dir``, hashing as it goes.

    Stops reading as soon as the size limit is passed. On any error the partial
    file is deleted, so nothing is ever left behind.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".bin", dir=dest_dir)
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limits.max_bytes:
                    raise FileTooLarge.because(
                        "file_too_large", {"megabytes": _megabytes(limits.max_bytes)},
                        limit=limits.max_bytes,
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise EmptyFile.because("file_empty")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ReceivedFile(path=path, sha256=digest.hexdigest(), size=size)


# --------------------------------------------------------------------------- sniffing

_AUDIO_MIME = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg; codecs=opus",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
}
_IMAGE_MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "heic": "image/heic",
    "avif": "image/avif",
}
_VIDEO_MIME = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "3gp": "video/3gpp",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
    "mpeg": "video/mpeg",
    "mpegts": "video/mp2t",
    "gif": "image/gif",  # an animated GIF is a (silent) video
}
# Codecs ffprobe must report for each audio format we accept.
_AUDIO_CODECS = {
    "mp3": {"mp3"},
    "wav": None,  # any pcm_* codec (checked below) or the few codecs WAV wraps
    "flac": {"flac"},
    "ogg": {"vorbis", "flac"},
    "opus": {"opus"},
    "m4a": {"aac", "alac", "mp3"},
    "aac": {"aac"},
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_VIDEO_BRANDS = {b"qt  ": "mov", b"3gp4": "3gp", b"3gp5": "3gp"}

# (prefix, offset, description) for common files we refuse, to name them.
_KNOWN_OTHERS: list[tuple[bytes, int, str]] = [
    (b"%PDF", 0, N_("PDF document")),
    (b"PK\x03\x04", 0, N_("ZIP archive")),
    (b"PK\x05\x06", 0, N_("ZIP archive")),
    (b"\x1f\x8b", 0, N_("gzip archive")),
    (b"7z\xbc\xaf\x27\x1c", 0, N_("7-Zip archive")),
    (b"Rar!", 0, N_("RAR archive")),
    (b"\x7fELF", 0, N_("ELF executable")),
    (b"MZ", 0, N_("Windows executable")),
    (b"MThd", 0, N_("MIDI file")),
    (b"#!AMR", 0, N_("AMR audio")),
    (b"wvpk", 0, N_("WavPack audio")),
    (b"MAC ", 0, N_("Monkey's Audio")),
    (b"FLV", 0, N_("Flash video")),
    (b"\xd0\xcf\x11\xe0", 0, N_("Microsoft Office document")),
    (b"{\\rtf", 0, N_("RTF document")),
    (b"8BPS", 0, N_("Photoshop document")),
    (b"\x00\x00\x01\x00", 0, N_("Windows icon")),
    (b"SQLite format 3", 0, N_("SQLite database")),
]


def _u32be(b: bytes, at: int) -> int:
    return int.from_bytes(b[at : at + 4], "big")


_MP3_BITRATES = {
    # (version_is_mpeg1, layer) -> kbps table indexed 0..15
    (True, 3): [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0],
    (False, 3): [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0],
    (True, 2): [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0],
    (False, 2): [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0],
}
_MP3_RATES = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def _mp3_frame_len(h: bytes) -> int:
    """Length of the MPEG layer II/III frame whose 4-byte header is ``h``, 0 if invalid."""
    if len(h) < 4 or h[0] != 0xFF or (h[1] & 0xE0) != 0xE0:
        return 0
    version = (h[1] >> 3) & 3
    layer_bits = (h[1] >> 1) & 3
    if version == 1 or layer_bits not in (1, 2):  # reserved version; layer III=1, II=2
        return 0
    layer = 3 if layer_bits == 1 else 2
    rate_idx, br_idx = (h[2] >> 2) & 3, h[2] >> 4
    if rate_idx == 3 or br_idx in (0, 15):
        return 0
    mpeg1 = version == 3
    kbps = _MP3_BITRATES[(mpeg1, layer)][br_idx]
    rate = _MP3_RATES[version][rate_idx]
    pad = (h[2] >> 1) & 1
    coef = 144 if (mpeg1 or layer == 2) else 72
    return coef * kbps * 1000 // rate + pad


def _find_mp3_sync(head: bytes) -> bool:
    """True when two consecutive valid MPEG audio frames appear in ``head``."""
    for i in range(min(len(head) - 4, 16 * 1024)):
        n = _mp3_frame_len(head[i : i + 4])
        if n and _mp3_frame_len(head[i + n : i + n + 4]):
            if i + n + 4 <= len(head):
                return True
    return False


def _is_adts(head: bytes) -> bool:
    if len(head) < 7 or head[0] != 0xFF or (head[1] & 0xF6) != 0xF0:
        return False
    length = ((head[3] & 3) << 11) | (head[4] << 3) | (head[5] >> 5)
    nxt = head[length : length + 2]
    return length > 7 and len(nxt) == 2 and nxt[0] == 0xFF and (nxt[1] & 0xF6) == 0xF0


def _ftyp_brands(head: bytes) -> list[bytes]:
    size = _u32be(head, 0)
    end = min(size, len(head)) if size >= 16 else 16
    brands = [head[8:12]] + [head[i : i + 4] for i in range(16, end - 3, 4)]
    return brands


def _classify_ftyp(head: bytes) -> tuple[str, str]:
    """(kind, format) for ISO-BMFF files; ``("probe", "mp4")`` when ffprobe must decide."""
    brands = _ftyp_brands(head)
    major = brands[0]
    if major in _AVIF_BRANDS:
        return ("image", "avif")
    if major in _HEIF_BRANDS:
        return ("image", "heic")
    if major in _M4A_BRANDS:
        return ("audio", "m4a")
    if major in _VIDEO_BRANDS:
        return ("video", _VIDEO_BRANDS[major])
    if any(b in _AVIF_BRANDS for b in brands) and b"mif1" in brands:
        return ("image", "avif")
    return ("probe", "mp4")


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head[:4096].decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the boundary is still text.
        try:
            text = head[:4090].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return bool(text) and printable / len(text) > 0.97


def _describe_other(head: bytes) -> str:
    for prefix, offset, name in _KNOWN_OTHERS:
        if head[offset : offset + len(prefix)] == prefix:
            return name
    if head[:4] == b"RIFF":
        if head[8:12] == b"AVI ":
            return N_("AVI video")
        return N_("RIFF file")
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return N_("AIFF audio")
    lower = head[:512].lstrip().lower()
    if lower.startswith(b"<svg") or (lower.startswith(b"<?xml") and b"<svg" in head[:2048]):
        return N_("SVG image")
    if lower.startswith((b"<!doctype html", b"<html")):
        return N_("HTML document")
    if lower.startswith(b"<?xml"):
        return N_("XML document")
    if _looks_like_text(head):
        return N_("plain text")
    return N_("unknown binary data")


#: Every name ``sniff`` gives a refused file (the ``kind`` of ``unsupported_type``).
FILE_TYPE_NAMES: tuple[str, ...] = (
    *dict.fromkeys(name for _prefix, _offset, name in _KNOWN_OTHERS),
    N_("AVI video"), N_("RIFF file"), N_("AIFF audio"), N_("SVG image"), N_("HTML document"),
    N_("XML document"), N_("plain text"), N_("unknown binary data"), N_("Ogg video"),
    N_("Ogg file of unknown content"),
)


def _classify_magic(head: bytes) -> tuple[str, str]:
    """(kind, format) from magic bytes; kind may be "probe" or "unsupported"."""
    if head[:3] == b"\xff\xd8\xff":
        return ("image", "jpeg")
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return ("image", "png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ("image", "gif")  # sniff() tells an animated GIF (a video) apart
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ("video", "webm" if b"webm" in head[:64] else "mkv")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return ("video", "avi")
    if head[:4] == b"\x00\x00\x01\xba":
        return ("video", "mpeg")
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return ("video", "mpegts")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return ("image", "tiff")
    if head[:2] == b"BM" and len(head) >= 26 and int.from_bytes(head[14:18], "little") in (
        12, 40, 52, 56, 64, 108, 124,
    ):
        return ("image", "bmp")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ("image", "webp")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ("audio", "wav")
    if head[:4] == b"fLaC":
        return ("audio", "flac")
    if head[:4] == b"OggS":
        if b"OpusHead" in head[:512]:
            return ("audio", "opus")
        if b"\x01vorbis" in head[:512] or b"\x7fFLAC" in head[:512]:
            return ("audio", "ogg")
        if b"\x80theora" in head[:512]:
            return ("unsupported", N_("Ogg video"))
        return ("unsupported", N_("Ogg file of unknown content"))
    if head[4:8] == b"ftyp":
        return _classify_ftyp(head)
    if head[:3] == b"ID3":
        return ("audio", "mp3")
    if _is_adts(head):
        return ("audio", "aac")
    if _find_mp3_sync(head):
        return ("audio", "mp3")
    return ("unsupported", _describe_other(head))


def magic_type(head: bytes) -> DetectedType | None:
    """The type the magic bytes alone establish (audio, image, video), or None where
    :func:`sniff` must look further (an MP4 may be audio or video; unsupported data).
    The engine of that kind checks the streams itself when it decodes the file."""
    kind, fmt = _classify_magic(head) if head else ("", "")
    if kind == "audio" and fmt in _AUDIO_MIME:
        return DetectedType("audio", fmt, _AUDIO_MIME[fmt])
    if kind == "image" and fmt in _IMAGE_MIME:
        return DetectedType("image", fmt, _IMAGE_MIME[fmt])
    if kind == "video" and fmt in _VIDEO_MIME:
        return DetectedType("video", fmt, _VIDEO_MIME[fmt])
    return None


def sniff(path: Path, *, in_process: bool = False) -> DetectedType:
    """Classify a file as a supported audio, image or video format, from content only.

    Audio is confirmed by a probe of its streams (it must contain a decodable audio
    stream of the expected codec and no video; an MP4 with a picture is a video):
    ``ffprobe``, or libavformat in process with ``in_process`` (a lookup: no process
    per query). Images and videos are only classified here, their engines decode
    them themselves (an animated GIF is a video).
    """
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head:
        raise EmptyFile.because("file_empty")
    kind, fmt = _classify_magic(head)
    if kind == "unsupported":
        raise UnsupportedMediaType.because("unsupported_type", {"kind": fmt}, detected=fmt)
    if kind == "image" and fmt == "gif" and _is_animated_gif(path):
        return DetectedType("video", "gif", _VIDEO_MIME["gif"])
    if kind == "image":
        return DetectedType("image", fmt, _IMAGE_MIME[fmt])
    if kind == "video":  # decoded in process by the video kind, which checks the streams
        return DetectedType("video", fmt, _VIDEO_MIME[fmt])
    probe = _probe(path) if in_process else _ffprobe(path)
    if fmt in ("mp4", "m4a") and _has_video(probe):
        return DetectedType("video", "mp4", _VIDEO_MIME["mp4"])
    _reject_video(probe, fmt)
    if kind == "probe":
        fmt = "m4a"
    codec = _first_audio_stream(probe)["codec_name"]
    allowed = _AUDIO_CODECS[fmt]
    if allowed is None:
        ok = codec.startswith("pcm_") or codec in {"adpcm_ms", "mp3"}
    else:
        ok = codec in allowed
    if not ok:
        raise UnsupportedMediaType.because(
            "unsupported_codec", {"container": fmt.upper(), "codec": codec},
            detected=f"{fmt}/{codec}",
        )
    return DetectedType("audio", fmt, _AUDIO_MIME[fmt])


# --------------------------------------------------------------------------- ffprobe


def _ffprobe(path: Path, ffprobe: str = "ffprobe") -> dict:
    cmd = [
        ffprobe, "-v", "error", "-of", "json",
        "-show_entries",
        "stream=codec_type,codec_name,sample_rate,channels,duration:"
        "stream_disposition=attached_pic:format=format_name,duration",
        str(path),
    ]  # fmt: skip
    try:
        done = subprocess.run(bounded(cmd, cpu_s=PROBE_TIMEOUT_S), capture_output=True,
                              timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CorruptMedia.because("read_timeout") from exc
    err = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        raise CorruptMedia.because("undecodable", tool_error=err[-500:])
    try:
        data = json.loads(done.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise CorruptMedia.because("unanalysable") from exc
    if not data.get("streams"):
        raise CorruptMedia.because("no_readable_audio", tool_error=err[-500:])
    return data


def _probe(path: Path) -> dict:
    """What :func:`_ffprobe` reports, read by libavformat in process (PyAV).

    Only the container's headers are read, as ffprobe does. Used by lookups, where
    starting a process per query cost more than the rest of the decoding; a
    registration keeps ffprobe, whose declared durations its records were made with
    (the two can differ by an encoder delay of a few tens of milliseconds)."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            streams = [_stream_entry(s) for s in container.streams]
            duration = container.duration / 1_000_000 if container.duration else None
            fmt = {"format_name": container.format.name, "duration": duration}
    except (av.FFmpegError, ValueError, UnicodeDecodeError) as exc:
        raise CorruptMedia.because("undecodable", tool_error=str(exc)[-500:]) from exc
    if not streams:
        raise CorruptMedia.because("no_readable_audio")
    return {"streams": streams, "format": fmt}


#: AV_DISPOSITION_ATTACHED_PIC: a cover picture, not a video track.
ATTACHED_PIC = 0x400


def _stream_entry(stream) -> dict:
    """One stream as ffprobe's JSON names it (``codec_name`` is the codec, not the decoder)."""
    ctx = stream.codec_context
    codec = getattr(ctx, "codec", None) if ctx is not None else None
    entry: dict = {
        "codec_type": stream.type,
        "codec_name": codec.canonical_name if codec is not None else None,
        "disposition": {"attached_pic": int(bool(stream.disposition & ATTACHED_PIC))},
    }
    if stream.type == "audio" and ctx is not None:
        entry.update(sample_rate=ctx.sample_rate, channels=ctx.channels)
    if stream.duration is not None and stream.time_base is not None:
        entry["duration"] = float(stream.duration * stream.time_base)
    return entry


def _is_animated_gif(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return bool(getattr(im, "is_animated", False))
    except Exception:  # a damaged GIF: the image engine reports it
        return False


def _has_video(probe: dict) -> bool:
    return any(s.get("codec_type") == "video"
               and (s.get("disposition") or {}).get("attached_pic") != 1
               for s in probe.get("streams", []))


def _reject_video(probe: dict, fmt: str) -> None:
    for s in probe.get("streams", []):
        is_cover = (s.get("disposition") or {}).get("attached_pic") == 1
        if s.get("codec_type") == "video" and not is_cover:
            name = "MP4" if fmt in ("mp4", "m4a") else fmt.upper()
            raise UnsupportedMediaType.because("unsupported_video_container",
                                               {"container": name}, detected=f"{name} video")


def _first_audio_stream(probe: dict) -> dict:
    for s in probe.get("streams", []):
        if s.get("codec_type") == "audio" and s.get("codec_name"):
            return s
    raise CorruptMedia.because("no_audio_track")


def _duration(probe: dict, stream: dict) -> float:
    for value in (probe.get("format", {}).get("duration"), stream.get("duration")):
        try:
            if value is not None and float(value) > 0:
                return float(value)
        except ValueError:
            continue
    raise CorruptMedia.because("audio_length_unknown")


def _check_wav_complete(path: Path) -> None:
    """A WAV whose data chunk announces more bytes than the file holds was cut short.

    ffmpeg quietly clamps such files to what is there, so check the header.
    Streamed WAVs (size 0 or 0xFFFFFFFF) announce nothing and pass.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk = fh.read(8)
            cid, length = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if cid == b"data":
                missing = pos + 8 + length - size
                if length not in (0, 0xFFFFFFFF) and missing > 4:
                    raise CorruptMedia.because("wav_truncated", {"missing": missing},
                                               missing_bytes=missing)
                return
            pos += 8 + length + (length & 1)


def declared_duration(path: Path, *, ffprobe: str = "ffprobe") -> float:
    """The duration the container declares (or ffprobe estimates from its headers and
    bitrate), in seconds, without decoding the audio: the probe every limit is decided
    on before any decoder runs."""
    probe = _ffprobe(path, ffprobe)
    return _duration(probe, _first_audio_stream(probe))


def probe_audio(path: Path, limits: MediaLimits, *, ffprobe: str = "ffprobe",
                in_process: bool = False) -> AudioInfo:  # fmt: skip
    """Duration, codec and layout of an audio file, checked against ``limits``.

    Decides from the container's declared duration only: nothing is decoded here, so
    an over-long file is refused before any decoder runs. ``in_process``: read by
    libavformat in this process instead of ``ffprobe`` (see :func:`_probe`)."""
    _check_wav_complete(path)
    probe = _probe(path) if in_process else _ffprobe(path, ffprobe)
    stream = _first_audio_stream(probe)
    duration = _duration(probe, stream)
    if duration < limits.min_audio_seconds:
        raise MediaTooShort.because(
            "audio_too_short",
            {"duration": f"{duration:.1f}", "minimum": f"{limits.min_audio_seconds:g}"},
            duration_s=duration,
        )
    if duration > limits.max_audio_seconds:
        raise MediaTooLong.because(
            "audio_too_long",
            {"minutes": f"{duration / 60:.0f}", "limit": f"{limits.max_audio_seconds / 60:.0f}"},
            duration_s=duration,
        )
    return AudioInfo(
        duration_s=duration,
        codec=str(stream["codec_name"]),
        sample_rate=int(stream.get("sample_rate") or 0),
        channels=int(stream.get("channels") or 0),
        container=str(probe.get("format", {}).get("format_name", "")),
    )
