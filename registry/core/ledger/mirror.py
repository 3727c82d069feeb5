"""Copy a Tamga ledger served as C2SP tlog-tiles into a folder, verifying everything.

The folder keeps the same layout (``checkpoint``, ``tile/...``), so it can be served
as it is by any static web server and used by ``tamga-verify --mirror``. A second
run fetches only what is new (full tiles never change) and checks that the new
checkpoint extends the one copied before.
"""

from __future__ import annotations

import os
import struct
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registry.core.errors import LedgerError
from registry.core.ledger import merkle
from registry.core.ledger.tiles import TILE_WIDTH, TileRef, tiles_for
from registry.core.tamga_verify import (
    HASH_SIZE,
    NoteError,
    leaf_hash,
    note_body,
    parse_checkpoint,
    verify_note,
)

KEYS_FILE = "keys.txt"


@dataclass(frozen=True)
class MirrorReport:
    origin: str
    size: int
    previous_size: int
    fetched: int
    kept: int
    keys_source: str


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "tamga-mirror/1",
                                                   "Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
        return reply.read()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _split_bundle(data: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise LedgerError("an entry bundle ends inside a length prefix")
        (length,) = struct.unpack(">H", data[at:at + 2])
        entries.append(data[at + 2:at + 2 + length])
        at += 2 + length
    if at != len(data):
        raise LedgerError("an entry bundle ends inside an entry")
    return entries


def _root_of_hashes(hashes: list[bytes]) -> bytes:
    frontier: list[merkle.FrontierNode] = []
    for index, h in enumerate(hashes):
        frontier, _ = merkle.append_leaf(frontier, index, h)
    return merkle.frontier_root(frontier)


def _keys(url: str, folder: Path, keys: list[str] | None) -> tuple[list[str], str]:
    if keys:
        return keys, "the keys given"
    saved = folder / KEYS_FILE
    if saved.exists():
        return saved.read_text().split(), f"{saved} (saved at the first copy)"
    base = url[: -len("/ledger")] if url.endswith("/ledger") else url
    found = _get(f"{base}/api/v1/ledger/keys?format=text").decode().split()
    _write(saved, ("\n".join(found) + "\n").encode())
    return found, f"{base}/api/v1/ledger/keys (trusted on first use, saved to {saved})"


def mirror(url: str, folder: Path, keys: list[str] | None = None,
           progress: Callable[[str], None] | None = None) -> MirrorReport:
    """Fetch, verify and store; raises LedgerError on anything that does not verify."""
    url = url.rstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    vkeys, keys_source = _keys(url, folder, keys)
    note = _get(f"{url}/checkpoint").decode("utf-8")
    try:
        verify_note(note, vkeys)
        cp = parse_checkpoint(note_body(note))
    except NoteError as exc:
        raise LedgerError(f"the log's checkpoint does not verify: {exc}") from exc
    previous = None
    if (folder / "checkpoint").exists():
        previous = parse_checkpoint(note_body((folder / "checkpoint").read_text("utf-8")))
        if previous.origin != cp.origin:
            raise LedgerError(f"{folder} mirrors {previous.origin}, not {cp.origin}")
        if previous.size > cp.size:
            raise LedgerError(f"the log shrank from {previous.size} to {cp.size} entries")
    fetched: dict[str, bytes] = {}
    kept = 0
    for ref in tiles_for(cp.size):
        local = folder / ref.path
        if ref.width is None and local.exists():
            fetched[ref.path] = local.read_bytes()
            kept += 1
            continue
        fetched[ref.path] = _get(f"{url}/{ref.path}")
        if progress:
            progress(ref.path)
    _check(fetched, cp.size, cp.root_hash, previous)
    for path, data in fetched.items():
        _write(folder / path, data)
    _write(folder / "checkpoint", note.encode("utf-8"))
    return MirrorReport(cp.origin, cp.size, previous.size if previous else 0,
                        len(fetched) - kept, kept, keys_source)


def _check(fetched: dict[str, bytes], size: int, root: bytes, previous) -> None:
    """Entries hash to the level-0 tiles, each higher tile hash is the root of the full
    tile below, the leaves give the signed root (and the previous copy's root)."""
    refs = tiles_for(size)
    leaves: list[bytes] = []
    for ref in refs:
        data = fetched[ref.path]
        if ref.level is None:
            entries = _split_bundle(data)
            want = ref.width or TILE_WIDTH
            if len(entries) != want:
                raise LedgerError(f"{ref.path} holds {len(entries)} entries, not {want}")
            tile = fetched[TileRef(0, ref.index, ref.width).path]
            hashes = [leaf_hash(e) for e in entries]
            if b"".join(hashes) != tile:
                raise LedgerError(f"{ref.path}: the entries do not hash to the level-0 tile")
            leaves += hashes
            continue
        if len(data) != HASH_SIZE * (ref.width or TILE_WIDTH):
            raise LedgerError(f"{ref.path} has the wrong length")
        if ref.level > 0:
            for i in range(len(data) // HASH_SIZE):
                below = fetched[TileRef(ref.level - 1, ref.index * TILE_WIDTH + i, None).path]
                hashes = [below[j:j + HASH_SIZE] for j in range(0, len(below), HASH_SIZE)]
                if _root_of_hashes(hashes) != data[i * HASH_SIZE:(i + 1) * HASH_SIZE]:
                    raise LedgerError(f"{ref.path}: hash {i} is not the root of the tile below")
    if len(leaves) != size:
        raise LedgerError(f"the tiles hold {len(leaves)} entries, the checkpoint {size}")
    if _root_of_hashes(leaves) != root:
        raise LedgerError("the entries do not give the checkpoint's root hash")
    if previous is not None and previous.size and _root_of_hashes(
            leaves[:previous.size]) != previous.root_hash:
        raise LedgerError(f"the log's first {previous.size} entries differ from the copy "
                          "made before: a rewritten history")
