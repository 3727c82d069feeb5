"""Content-addressed file storage: ``ab/cd/abcd….ext`` under a root folder.

The same bytes always land at the same key, so storing twice is harmless and a
file's name proves its content.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_EXT = re.compile(r"^[a-z0-9]{1,8}$")


_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}(\.[a-z0-9]{1,8})?")


def keys_in(value: Any) -> Iterator[str]:
    """Every storage key inside a JSON value (key frames, comparison stills, thumbnails)."""
    if isinstance(value, str):
        if _KEY.fullmatch(value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from keys_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys_in(item)


class ContentStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def key_for(sha256: str, ext: str) -> str:
        ext = ext.lower().lstrip(".")
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a SHA-256 hex digest")
        suffix = f".{ext}" if _EXT.match(ext) else ""
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix}"

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("storage key escapes the storage folder")
        return path

    def put(self, source: Path, sha256: str, ext: str) -> str:
        """Move ``source`` into the store (or drop it if identical bytes are there)."""
        key = self.key_for(sha256, ext)
        target = self.path(key)
        if target.exists():
            source.unlink(missing_ok=True)
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            shutil.move(str(source), tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk leaves no partial file behind
            raise
        return key

    def put_bytes(self, data: bytes, sha256: str, ext: str) -> str:
        key = self.key_for(sha256, ext)
        target = self.path(key)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return key

    def keys(self) -> Iterator[str]:
        """Every stored file's key (``.part`` files and other dot files excluded)."""
        if not self.root.exists():
            return
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()

    def partial_files(self) -> Iterator[Path]:
        """Unfinished writes (``.….part``) left by a process that died or ran out of disk."""
        if self.root.exists():
            yield from (p for p in self.root.rglob(".*.part") if p.is_file())

    def exists(self, key: str) -> bool:
        return self.path(key).exists()
