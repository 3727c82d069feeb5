"""Generate a synthetic audio corpus: random MIDI songs rendered with fluidsynth, and speech.

Songs have a random key, tempo and progression, a melody, a bass line, chords and
(often) drums, each on a General MIDI instrument picked at random, rendered with
Debian's FluidR3_GM soundfont. Speech is espeak-ng reading random sentences with
random voices. Everything is deterministic from a seed and cached on disk.

Used by ``audio_accuracy.py``; also runnable on its own to write a few MIDI files:
``python benchmarks/audio_corpus.py OUT_DIR N``.
"""

from __future__ import annotations

import random
import struct
import subprocess
import sys
from pathlib import Path

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TICKS = 480
MELODY_PROGRAMS = [0, 4, 6, 11, 19, 24, 25, 40, 41, 56, 57, 65, 68, 71, 73, 80, 81, 104]
BASS_PROGRAMS = [32, 33, 34, 35, 38, 39, 42, 43]
CHORD_PROGRAMS = [0, 2, 4, 5, 16, 19, 24, 48, 49, 50, 52, 88, 89, 91]
SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10]}
WORDS = (
    "the of and to in is you that it he was for on are as with his they at be this "
    "from have or by one had not but what all were when we there can an your which "
    "their said if do will each about how up out them then she many some so these "
    "would other into has more her two like him see time could no make than first "
    "been its who now people my made over did down only way find use may water long "
    "little very after words called just where most know get through back much go good "
    "new write our me man too any day same right look think also around another came "
    "come work three word must because does part even place well such here take why "
    "things help put years different away again off went old number great tell men say "
    "small every found still between name should home big give air line set own under "
    "read last never us left end along while might next sound below saw something "
    "thought both few those always looked show large often together asked house world"
).split()


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _track(events: list[tuple[int, bytes]]) -> bytes:
    events.sort(key=lambda e: (e[0], e[1][0] & 0xF0 != 0x80))  # note-offs first
    body, now = bytearray(), 0
    for tick, msg in events:
        body += _vlq(tick - now) + msg
        now = tick
    body += b"\x00\xff\x2f\x00"
    return b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def _note(events: list, ch: int, start: int, dur: int, pitch: int, vel: int) -> None:
    pitch = max(0, min(127, pitch))
    events.append((start, bytes([0x90 | ch, pitch, vel])))
    events.append((start + max(1, dur), bytes([0x80 | ch, pitch, 0])))


def make_song(seed: int, seconds: float) -> bytes:
    """A random multi-instrument song as Standard MIDI File bytes."""
    rng = random.Random(seed)
    bpm = rng.randint(70, 150)
    beats = int(seconds * bpm / 60) + 1
    root = rng.randint(48, 59)
    scale = SCALES[rng.choice(list(SCALES))]
    ev: list[tuple[int, bytes]] = [(0, b"\xff\x51\x03" + struct.pack(">I", 60_000_000 // bpm)[1:])]
    for ch, progs in ((0, MELODY_PROGRAMS), (1, BASS_PROGRAMS), (2, CHORD_PROGRAMS)):
        ev.append((0, bytes([0xC0 | ch, rng.choice(progs)])))
    degrees = [rng.choice([0, 3, 4, 5, 1, 2, 6]) for _ in range(rng.choice([4, 8]))]
    motif = [(rng.choice([0.5, 0.5, 1, 1, 1.5, 2, 0.25]), rng.randint(-4, 9)) for _ in range(12)]
    drums = rng.random() < 0.7
    for bar in range(beats // 4 + 1):
        t0 = bar * 4 * TICKS
        deg = degrees[bar % len(degrees)]
        chord = [root + 12 + scale[(deg + k) % 7] + 12 * ((deg + k) // 7) for k in (0, 2, 4)]
        for p in chord:
            _note(ev, 2, t0, 4 * TICKS - 10, p, rng.randint(50, 70))
        for beat in range(4):
            if rng.random() < 0.85:
                bp = root - 12 + scale[deg % 7] + (7 if beat == 2 and rng.random() < 0.5 else 0)
                _note(ev, 1, t0 + beat * TICKS, TICKS - 20, bp, rng.randint(80, 100))
            if drums:
                _note(ev, 9, t0 + beat * TICKS, 60, 36 if beat % 2 == 0 else 38, 90)
                _note(ev, 9, t0 + beat * TICKS + TICKS // 2, 40, 42, 60)
        t, end = t0, t0 + 4 * TICKS
        while t < end:
            length, step = motif[rng.randrange(len(motif))] if rng.random() < 0.6 else (
                rng.choice([0.25, 0.5, 1.0]), rng.randint(-3, 10))
            dur = int(length * TICKS)
            if rng.random() < 0.88:
                pitch = root + 12 + scale[(deg + step) % 7] + 12 * ((deg + step) // 7)
                _note(ev, 0, t, dur - 10, pitch, rng.randint(85, 115))
            t += dur
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
    return header + _track(ev)


def render_midi(midi: Path, wav: Path, rate: int = 22050) -> None:
    """Render a MIDI file to WAV with fluidsynth and the FluidR3 GM soundfont."""
    cmd = ["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(rate), "-F", str(wav),
           str(SOUNDFONT), str(midi)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)


def make_speech(seed: int, wav: Path, words: int) -> None:
    """espeak-ng reading random words with a random voice, speed and pitch."""
    rng = random.Random(seed)
    text = ". ".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 14)))
                     for _ in range(max(1, words // 9)))
    voice = rng.choice(["en", "en-us", "en+f3", "en+m3", "en+f4", "en-gb", "en+m7"])
    cmd = ["espeak-ng", "-v", voice, "-s", str(rng.randint(130, 190)),
           "-p", str(rng.randint(30, 70)), "-w", str(wav), text]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)


def main() -> None:
    out, n = Path(sys.argv[1]), int(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (out / f"song_{i}.mid").write_bytes(make_song(1000 + i, 40))


if __name__ == "__main__":
    main()
