"""A corpus of real recorded music from Debian packages (game soundtracks).

    from real_music import music_files
    paths = music_files(300)          # list[Path], deterministic order

    .venv/bin/python benchmarks/real_music.py [N]     # list what is available

Debian ships the soundtracks of many free games as Ogg Vorbis (composed and
recorded music: orchestral, rock, electronic, folk, chiptune). ``music_files``
gathers the tracks of the packages in :data:`PACKAGES` that are installed;
when run as root outside CI it first installs the missing ones with apt
(``TAMGA_MUSIC_INSTALL=0`` to skip). Nothing is downloaded at run time
otherwise, and the test suite never uses this.

Tracks shorter than :data:`MIN_SECONDS` (jingles, sound effects) are left out,
as are byte-identical copies, a second file of the same name in one package
(Drascula ships its score once per language) and the separate instrument stems of the
Frets on Fire songs (only their full mix, ``song.ogg``, is kept). The order is
a fixed shuffle, so the first ``n`` mix every package.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

#: Packages with recorded music (their short sound effects are filtered out by length).
PACKAGES: tuple[str, ...] = (
    "wesnoth-1.16-music", "drascula-music", "warzone2100-music", "supertux-data",
    "supertuxkart-data", "widelands-data", "hedgewars-data", "freedroidrpg-data",
    "flare-game", "extremetuxracer-data", "scorched3d-data", "lincity-ng-data",
    "xmoto-data", "openclonk-data", "fretsonfire-songs-muldjord",
    "fretsonfire-songs-sectoid", "asc-music", "frozen-bubble-data", "naev-data",
    "freeorion-data", "megaglest-data", "lugaru-data", "trigger-rally-data",
    "unknown-horizons", "endless-sky-data",
)
EXTENSIONS = {".ogg", ".oga", ".mp3", ".flac", ".opus"}
MIN_SECONDS = 30.0
STEMS = {"guitar.ogg", "rhythm.ogg", "drums.ogg", "bass.ogg", "vocals.ogg", "preview.ogg"}
CACHE = Path(__file__).resolve().parent / ".cache" / "real_music.json"


def _installed(package: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    return "ok installed" in done.stdout


def install_missing(packages: list[str] | None = None) -> list[str]:
    """apt-get install the missing music packages (root only, never in CI)."""
    if os.environ.get("CI") or os.environ.get("TAMGA_MUSIC_INSTALL") == "0":
        return []
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return []
    missing = [p for p in (packages or PACKAGES) if not _installed(p)]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends",
             "-o", "DPkg::Lock::Timeout=600", *missing],
            check=False, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return missing


def _duration(path: Path) -> float:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return 0.0
            if container.duration:
                return container.duration / 1_000_000
            stream = container.streams.audio[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
    except Exception:  # noqa: BLE001 - an unreadable file is simply not in the corpus
        return 0.0
    return 0.0


def _package_files(package: str) -> list[str]:
    done = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False)
    return done.stdout.splitlines() if done.returncode == 0 else []


def _candidates() -> list[Path]:
    out: list[Path] = []
    for package in PACKAGES:
        names: set[str] = set()  # one copy of a track per package (drascula: 6 languages)
        for name in sorted(_package_files(package)):
            path = Path(name)
            if path.suffix.lower() not in EXTENSIONS or "voices" in path.parts:
                continue
            if path.name in names:
                continue
            names.add(path.name)
            if "fretsonfire" in package and path.name in STEMS:
                continue
            if path.is_file() and path.stat().st_size >= 200_000:
                out.append(path)
    return out


def _listing() -> list[dict]:
    """Every usable track with its duration (cached by path, size and mtime)."""
    cache: dict[str, dict] = {}
    if CACHE.exists():
        cache = {e["path"]: e for e in json.loads(CACHE.read_text())}
    entries = []
    for path in _candidates():
        st = path.stat()
        e = cache.get(str(path))
        if not e or e["size"] != st.st_size or e["mtime"] != st.st_mtime:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            e = {"path": str(path), "size": st.st_size, "mtime": st.st_mtime,
                 "sha256": digest, "seconds": _duration(path)}  # fmt: skip
        entries.append(e)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(json.dumps(entries))
    return entries


def music_files(n: int | None = None, *, min_seconds: float = MIN_SECONDS,
                install: bool = True) -> list[Path]:  # fmt: skip
    """Up to ``n`` distinct real music tracks (all of them when ``n`` is None).

    Raises RuntimeError when fewer than ``n`` are available, naming what to install.
    """
    if install:
        install_missing()
    seen: set[str] = set()
    tracks = []
    for e in _listing():
        if e["seconds"] < min_seconds or e["sha256"] in seen:
            continue
        seen.add(e["sha256"])
        tracks.append(Path(e["path"]))
    random.Random(20261129).shuffle(tracks)
    if n is not None and len(tracks) < n:
        raise RuntimeError(
            f"only {len(tracks)} music tracks of {min_seconds:g} s or more are installed; "
            f"install more of: {' '.join(PACKAGES)}"
        )
    return tracks if n is None else tracks[:n]


if __name__ == "__main__":
    files = music_files(int(sys.argv[1]) if len(sys.argv) > 1 else None)
    total = sum(e["seconds"] for e in json.loads(CACHE.read_text())
                if Path(e["path"]) in set(files))  # fmt: skip
    print(f"{len(files)} tracks, {total / 3600:.1f} h")
    for f in files[:20]:
        print(f)
