"""The one place test media are made: songs rendered from the committed MIDI files with
fluidsynth, clips, videos and re-encodings with ffmpeg, pictures drawn with Pillow, and
the plain files (text, empty, corrupt) that uploads are refused for.

Every test gets them through the session-scoped ``media`` fixture (tests/conftest.py), a
:class:`MediaFactory` that makes each file once per session and caches it. Tests without
the fixture (the framework-free core tests) call :func:`render_midi` and the ``draw_*``
functions directly. The three picture styles are kept apart because tests were tuned on
their exact pixels (matching thresholds, featureless checks): a seed always gives the
same bytes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

FIXTURES = Path(__file__).parent / "fixtures"
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)


def render_midi(midi: Path | str, out: Path, rate: int = 22050) -> Path:
    """MIDI -> WAV with FluidSynth, as a creator's sound recording. ``midi`` is a path or
    the name of a committed fixture (``song_a``)."""
    source = midi if isinstance(midi, Path) else FIXTURES / "audio" / f"{midi}.mid"
    run("fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(rate), "-F", str(out),
        SOUNDFONT, str(source))
    return out


class MediaFactory:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def song(self, name: str = "song_a", fmt: str = "mp3", *, bitrate: str = "64k",
             mono: bool = False) -> Path:
        """A committed MIDI fixture rendered to audio (cached for the session).

        64 kbps keeps uploads under 500 kB, below the test client's temp-file size;
        ``mono`` and another ``bitrate`` give the smaller files some tests were written on.
        """
        wav = self.folder / f"{name}.wav"
        if not wav.exists():
            render_midi(name, wav)
        if fmt == "wav":
            return wav
        variant = ("-mono" if mono else "") + ("" if bitrate == "64k" else f"-{bitrate}")
        out = self.folder / f"{name}{variant}.{fmt}"
        if not out.exists():
            run("ffmpeg", "-y", "-v", "error", "-i", str(wav), *(["-ac", "1"] if mono else []),
                "-b:a", bitrate, str(out))
        return out

    def mono_song(self, name: str = "song_a", bitrate: str = "48k") -> Path:
        """A small mono MP3 of a fixture song (the API and command tests' recordings)."""
        return self.song(name, "mp3", bitrate=bitrate, mono=True)

    def clip(self, name: str, start: float, length: float, fmt: str = "mp3") -> Path:
        out = self.folder / f"{name}-{start:g}-{length:g}.{fmt}"
        if not out.exists():
            run("ffmpeg", "-y", "-v", "error", "-ss", str(start), "-t", str(length), "-i",
                str(self.song(name, "wav")), "-b:a", "96k", str(out))
        return out

    def picture(self, seed: int, fmt: str = "JPEG", size: tuple[int, int] = (640, 480)) -> Path:
        """A photo-like picture: gradient sky, shapes and texture, different per seed."""
        ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
        out = self.folder / f"picture-{seed}-{size[0]}x{size[1]}.{ext}"
        if not out.exists():
            draw_picture(seed, size).save(out, fmt, quality=92)
        return out

    def photo(self, seed: int, size: tuple[int, int] = (640, 480)) -> Path:
        """A JPEG of :func:`draw_photo` (the API and provenance tests' pictures)."""
        out = self.folder / f"photo-{seed}-{size[0]}x{size[1]}.jpg"
        if not out.exists():
            draw_photo(seed, size).save(out, quality=92)
        return out

    def painting(self, seed: int) -> Path:
        """A PNG of :func:`draw_painting` (the bulk import's artwork)."""
        out = self.folder / f"painting-{seed}.png"
        if not out.exists():
            draw_painting(seed).save(out)
        return out

    def text(self) -> Path:
        """A text file, which is no kind of work the registry takes as the main file."""
        out = self.folder / "notes.txt"
        if not out.exists():
            out.write_text("Lyrics, second verse.\n" * 50)
        return out

    def empty(self) -> Path:
        """A zero-byte file that calls itself a JPEG."""
        out = self.folder / "empty.jpg"
        if not out.exists():
            out.write_bytes(b"")
        return out

    def corrupt(self) -> Path:
        """A cut-off WAV: the header promises far more than is there."""
        out = self.folder / "truncated.wav"
        if not out.exists():
            out.write_bytes(self.song("song_a", "wav").read_bytes()[:60_000])
        return out

    def video(self, name: str = "film", *, pictures: tuple[str, ...] = (
            "other_shapes", "shapes", "other_landscape", "texture"), seconds_each: float = 5.0,
            sound: str | None = "song_a", size: tuple[int, int] = (480, 270),
            fmt: str = "mp4") -> Path:
        """A video made of the fixture photographs with pan and zoom, over a rendered song."""
        out = self.folder / f"{name}.{fmt}"
        if out.exists():
            return out
        inputs: list[str] = []
        for picture in pictures:
            inputs += ["-loop", "1", "-framerate", "25", "-t", f"{seconds_each:g}", "-i",
                       str(FIXTURES / "images" / f"{picture}.jpg")]
        w, h = size
        frames = round(seconds_each * 25)
        graph = ";".join(
            f"[{i}:v]scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,"
            f"crop={w * 2}:{h * 2},zoompan=z='1+0.25*on/{frames}':d=1:s={w}x{h}:fps=25:"
            f"x='(iw-iw/zoom)*on/{frames}':y='(ih-ih/zoom)/2',setsar=1[v{i}]"
            for i in range(len(pictures)))
        graph += ";" + "".join(f"[v{i}]" for i in range(len(pictures)))
        graph += f"concat=n={len(pictures)}:v=1:a=0[v]"
        cmd = ["ffmpeg", "-y", "-v", "error", *inputs]
        maps = ["-map", "[v]"]
        if sound:
            cmd += ["-i", str(self.song(sound, "wav"))]
            maps += ["-map", f"{len(pictures)}:a", "-c:a", "aac", "-b:a", "48k"]
        codec = (["-c:v", "libvpx-vp9", "-b:v", "150k", "-deadline", "realtime", "-cpu-used", "8"]
                 if fmt == "webm" else ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30",
                                        "-pix_fmt", "yuv420p"])
        if fmt == "webm" and sound:
            maps[-4:] = ["-map", f"{len(pictures)}:a", "-c:a", "libopus", "-b:a", "48k"]
        run(*cmd, "-filter_complex", graph, *maps, *codec, "-t",
            f"{seconds_each * len(pictures):g}", str(out))
        return out

    def video_clip(self, source: Path, start: float, length: float, name: str, *,
                   vf: str | None = None, af: str | None = None, fmt: str = "mp4",
                   mute: bool = False, crf: int = 28, sound: Path | None = None) -> Path:
        """An excerpt of ``source``, optionally transformed (crop, flip, ...); ``sound``
        replaces its soundtrack with another recording, ``crf`` sets the H.264 quality."""
        out = self.folder / f"{name}.{fmt}"
        if not out.exists():
            cmd = ["ffmpeg", "-y", "-v", "error", "-ss", f"{start:g}", "-t", f"{length:g}",
                   "-i", str(source)]
            if sound is not None:
                cmd += ["-i", str(sound), "-map", "0:v", "-map", "1:a", "-shortest"]
            if vf:
                cmd += ["-vf", vf]
            if af:
                cmd += ["-af", af]
            if mute:
                cmd += ["-an"]
            run(*cmd, "-c:v", "libx264", "-preset", "ultrafast", "-crf", str(crf),
                "-pix_fmt", "yuv420p", str(out))
        return out


def draw_picture(seed: int, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    y = np.linspace(0, 1, h)[:, None, None]
    top, bottom = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
    sky = (top * (1 - y) + bottom * y).repeat(w, axis=1)
    image = Image.fromarray(sky.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(30, w // 2)), y0 + int(rng.integers(30, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    noise = rng.normal(0, 12, (h, w, 3))
    arr = np.clip(np.asarray(image, dtype=float) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB").filter(ImageFilter.GaussianBlur(0.8))


def draw_photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo-like picture: a colour gradient, outlined shapes and noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    x = np.linspace(0, 1, w)[None, :]
    y = np.linspace(0, 1, h)[:, None]
    base = np.stack([255 * x * np.ones_like(y), 255 * y * np.ones_like(x),
                     255 * (1 - x) * y], axis=-1)
    base += rng.normal(0, 12, base.shape)
    image = Image.fromarray(np.clip(base, 0, 255).astype("uint8"), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        x1, y1 = x0 + int(rng.integers(30, 200)), y0 + int(rng.integers(30, 200))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour, outline=(0, 0, 0), width=3)
    return image


def draw_painting(seed: int) -> Image.Image:
    """Noise, blurred into blobs, with a few sharp lines: an 800x600 image with structure."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    image = Image.fromarray(noise, "RGB").resize((800, 600), Image.BICUBIC)
    image = image.filter(ImageFilter.GaussianBlur(6))
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        points = [tuple(int(v) for v in rng.integers(0, 800, 2)) for _ in range(2)]
        draw.line(points, fill=tuple(int(c) for c in rng.integers(0, 256, 3)), width=6)
    return image
