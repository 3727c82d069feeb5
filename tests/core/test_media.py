"""Media intake: streamed upload, content sniffing and the audio probe (real ffprobe, and
libavformat in process as a lookup probes: both must say the same)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from registry.core.errors import (
    CorruptMedia,
    EmptyFile,
    FileTooLarge,
    MediaTooLong,
    MediaTooShort,
    UnsupportedMediaType,
)
from registry.core.media import MediaLimits, probe_audio, receive_upload, sniff

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
AUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "audio"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five seconds of a chord at 44.1 kHz stereo, the source of the audio formats."""
    path = tmp_path_factory.mktemp("media") / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=5", "-f", "lavfi", "-i", "sine=f=660:d=5",
           "-filter_complex", "amerge", "-ar", "44100", str(path))  # fmt: skip
    return path


@pytest.fixture(params=[False, True], ids=["ffprobe", "in-process"])
def in_process(request: pytest.FixtureRequest) -> bool:
    """Both probes: ffprobe (registration) and PyAV in process (lookups)."""
    return request.param


class ChunkedStream(io.RawIOBase):
    """A stream that hands out data in small pieces, optionally failing midway."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        self.data, self.pos, self.fail_after = data, 0, fail_after

    def read(self, size: int = -1) -> bytes:
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise OSError("client disconnected")
        chunk = self.data[self.pos : self.pos + min(size, 1000)]
        self.pos += len(chunk)
        return chunk


# --------------------------------------------------------------------------- upload


def test_receive_upload_hashes_while_streaming(tmp_path: Path) -> None:
    data = os.urandom(12_345)
    got = receive_upload(ChunkedStream(data), tmp_path / "in", MediaLimits())
    assert got.size == len(data)
    assert got.sha256 == hashlib.sha256(data).hexdigest()
    assert got.path.read_bytes() == data
    assert got.path.parent == tmp_path / "in"


def test_receive_upload_too_large_leaves_nothing(tmp_path: Path) -> None:
    stream = ChunkedStream(b"x" * 5000)
    with pytest.raises(FileTooLarge) as err:
        receive_upload(stream, tmp_path, MediaLimits(max_bytes=2048))
    assert "limit" in err.value.message
    assert stream.pos < 5000  # stopped reading once the limit was passed
    assert list(tmp_path.iterdir()) == []


def test_receive_upload_empty(tmp_path: Path) -> None:
    with pytest.raises(EmptyFile):
        receive_upload(io.BytesIO(b""), tmp_path, MediaLimits())
    assert list(tmp_path.iterdir()) == []


def test_receive_upload_broken_stream_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        receive_upload(ChunkedStream(b"y" * 9000, fail_after=3000), tmp_path, MediaLimits())
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- sniff: audio

AUDIO_FORMATS = {
    "mp3": ("x.mp3", ["-c:a", "libmp3lame", "-b:a", "64k"], "audio/mpeg"),
    "mp3-noid3": ("y.mp3", ["-c:a", "libmp3lame", "-id3v2_version", "0", "-write_xing", "0"],
                  "audio/mpeg"),
    "wav": ("x.wav", ["-c:a", "pcm_s16le"], "audio/wav"),
    "flac": ("x.flac", ["-c:a", "flac"], "audio/flac"),
    "ogg": ("x.ogg", ["-c:a", "libvorbis"], "audio/ogg"),
    "opus": ("x.opus", ["-c:a", "libopus", "-b:a", "64k"], "audio/ogg; codecs=opus"),
    "m4a": ("x.m4a", ["-c:a", "aac", "-b:a", "64k"], "audio/mp4"),
    "m4a-isom": ("x.mp4", ["-c:a", "aac", "-b:a", "64k", "-brand", "isom"], "audio/mp4"),
    "aac": ("x.aac", ["-c:a", "aac", "-b:a", "64k"], "audio/aac"),
}


@pytest.mark.parametrize("case", sorted(AUDIO_FORMATS))
def test_sniff_audio_formats_by_content(
    case: str, tone: Path, tmp_path: Path, in_process: bool
) -> None:
    name, args, mime = AUDIO_FORMATS[case]
    encoded = tmp_path / name
    ffmpeg("-i", str(tone), *args, str(encoded))
    disguised = tmp_path / "upload.bin"  # the extension must not matter
    encoded.rename(disguised)
    detected = sniff(disguised, in_process=in_process)
    assert detected.kind == "audio"
    assert detected.format == case.split("-")[0]
    assert detected.mime == mime


def test_sniff_mp3_without_id3_uses_frame_sync(
    tone: Path, tmp_path: Path, in_process: bool
) -> None:
    path = tmp_path / "raw.mp3"
    ffmpeg("-i", str(tone), "-c:a", "libmp3lame", "-id3v2_version", "0", "-write_xing", "0",
           str(path))  # fmt: skip
    assert path.read_bytes()[:3] != b"ID3"
    assert sniff(path, in_process=in_process).format == "mp3"


# --------------------------------------------------------------------------- sniff: images


@pytest.mark.parametrize(
    ("ext", "fmt"),
    [("png", "png"), ("jpg", "jpeg"), ("gif", "gif"), ("bmp", "bmp"), ("tiff", "tiff"),
     ("webp", "webp")],
)  # fmt: skip
def test_sniff_images(ext: str, fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"img.{ext}"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=32x32:d=1", "-frames:v", "1", str(path))
    moved = tmp_path / "image.dat"
    path.rename(moved)
    detected = sniff(moved)
    assert (detected.kind, detected.format) == ("image", fmt)
    assert detected.mime.startswith("image/")


@pytest.mark.parametrize(("brand", "fmt"), [(b"heic", "heic"), (b"mif1", "heic"),
                                            (b"avif", "avif")])
def test_sniff_heif_family_by_ftyp_brand(brand: bytes, fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "photo"
    box = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00" + brand + b"mif1"
    path.write_bytes(box + b"\x00" * 200)
    assert sniff(path).format == fmt


# --------------------------------------------------------------------------- unsupported


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "hello")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n", "PDF document"),
        (_zip_bytes(), "ZIP archive"),
        (b"Just some notes about my song.\nSecond line.\n", "plain text"),
        ("Қазақша мәтін, not audio at all.\n".encode(), "plain text"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "HTML document"),
        (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0", "MIDI file"),
        (bytes(range(256)) * 8, "unknown binary data"),
    ],
    ids=["pdf", "zip", "text", "text-utf8", "html", "midi", "binary"],
)
def test_sniff_rejects_and_names_what_it_found(content: bytes, named: str, tmp_path: Path) -> None:
    path = tmp_path / "song.mp3"  # a lying extension changes nothing
    path.write_bytes(content)
    with pytest.raises(UnsupportedMediaType) as err:
        sniff(path)
    assert named in err.value.message
    assert err.value.details["detected"] == named


def test_sniff_tells_an_mp4_video_from_m4a_audio(in_process: bool) -> None:
    detected = sniff(MEDIA / "video.mp4", in_process=in_process)
    assert (detected.kind, detected.format, detected.mime) == ("video", "mp4", "video/mp4")


def test_sniff_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyFile):
        sniff(path)


def test_sniff_corrupt_audio_with_valid_magic(tmp_path: Path, in_process: bool) -> None:
    path = tmp_path / "bad.flac"
    path.write_bytes(b"fLaC" + os.urandom(3000))
    with pytest.raises(CorruptMedia) as err:
        sniff(path, in_process=in_process)
    assert "damaged" in err.value.message


def test_sniff_truncated_m4a_is_corrupt(tone: Path, tmp_path: Path, in_process: bool) -> None:
    full = tmp_path / "full.m4a"
    ffmpeg("-i", str(tone), "-c:a", "aac", str(full))  # moov atom at the end
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(CorruptMedia):
        sniff(cut, in_process=in_process)


# --------------------------------------------------------------------------- probe


def test_probe_audio_reports_layout(tone: Path, in_process: bool) -> None:
    info = probe_audio(tone, MediaLimits(), in_process=in_process)
    assert info.duration_s == pytest.approx(5.0, abs=0.05)
    assert (info.sample_rate, info.channels) == (44100, 2)
    assert info.codec.startswith("pcm_")


def test_probe_audio_too_short(in_process: bool) -> None:
    with pytest.raises(MediaTooShort) as err:
        probe_audio(MEDIA / "short.wav", MediaLimits(), in_process=in_process)
    assert "1.5 s" in err.value.message


def test_probe_audio_too_long(tone: Path, in_process: bool) -> None:
    with pytest.raises(MediaTooLong):
        probe_audio(tone, MediaLimits(max_audio_seconds=4.0), in_process=in_process)


def test_probe_audio_garbage_is_corrupt(tmp_path: Path, in_process: bool) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(CorruptMedia):
        probe_audio(path, MediaLimits(), in_process=in_process)


def test_committed_fixtures_stay_small() -> None:
    total = sum(p.stat().st_size for d in (MEDIA, AUDIO) for p in d.iterdir())
    assert total < 300_000


def test_magic_type_names_what_the_magic_bytes_settle_and_nothing_else():
    from registry.core.media import DetectedType, magic_type

    jpeg = DetectedType("image", "jpeg", "image/jpeg")
    assert magic_type(b"\xff\xd8\xff\xe0" + bytes(60)) == jpeg
    assert magic_type(b"ID3\x04" + bytes(60)).mime == "audio/mpeg"
    assert magic_type(b"\x1a\x45\xdf\xa3" + bytes(20) + b"webm" + bytes(40)).mime == "video/webm"
    assert magic_type(bytes(4) + b"ftypisom" + bytes(52)) is None  # MP4: audio or video?
    assert magic_type(b"%PDF-1.7" + bytes(56)) is None
    assert magic_type(b"") is None


def test_both_probes_report_the_same_streams(tone: Path, tmp_path: Path) -> None:
    """The in-process probe names codecs as ffprobe does (``mp3``, not the decoder
    ``mp3float``), tells a cover picture from a video track, and declares durations
    within an encoder delay of ffprobe's."""
    from registry.core.media import _ffprobe, _probe

    cover = tmp_path / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x64:d=1", "-frames:v", "1", str(cover))
    with_cover = tmp_path / "cover.mp3"
    ffmpeg("-i", str(tone), "-i", str(cover), "-map", "0:a", "-map", "1:v", "-c:a",
           "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic", str(with_cover))
    files = [with_cover, MEDIA / "video.mp4", MEDIA / "silence.flac"]
    for case in ("ogg", "m4a", "opus"):
        name, args, _ = AUDIO_FORMATS[case]
        ffmpeg("-i", str(tone), *args, str(tmp_path / name))
        files.append(tmp_path / name)
    for path in files:
        a, b = _ffprobe(path), _probe(path)
        fields = ("codec_type", "codec_name", "disposition")
        assert [[s.get(k) for k in fields] for s in a["streams"]] == \
               [[s.get(k) for k in fields] for s in b["streams"]], path.name
        assert float(b["format"]["duration"]) == pytest.approx(
            float(a["format"]["duration"]), abs=0.1), path.name
