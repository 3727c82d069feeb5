"""Content-addressed file storage: ``ab/cd/abcd….ext`` under a root folder.

The same bytes always land at the same key, so storing twice is harmless and a
file's name proves its content.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_EXT = re.compile(r"^[a-z0-9]{1,8}$")


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
        shutil.move(str(source), tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        return key

    def put_bytes(self, data: bytes, sha256: str, ext: str) -> str:
        key = self.key_for(sha256, ext)
        target = self.path(key)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return key

    def exists(self, key: str) -> bool:
        return self.path(key).exists()
