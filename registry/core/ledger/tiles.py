"""The ledger as C2SP tlog-tiles: hash tiles of height 8 and entry bundles.

A tile at level L, index N holds the hashes of the perfect subtrees of height
8·L numbered N·256 … N·256+W-1 (W = 256 for a full tile); at level 0 those are
the leaf hashes. Every such hash is already stored (``ledger_entries.leaf_hash``
and ``ledger_nodes``), so a tile is one range read. Only hashes within the
latest checkpoint are served: a tile never shows an entry no checkpoint signs.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from sqlalchemy import Connection, select

from registry.core.errors import NotFound, ValidationFailed
from registry.core.ledger.store import ledger_entries, ledger_nodes

TILE_WIDTH = 256
TILE_HEIGHT = 8
_SEGMENT = re.compile(r"^\d{3}$")


@dataclass(frozen=True)
class TileRef:
    level: int | None  # None: an entry bundle
    index: int
    width: int | None  # None: a full tile

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)


def encode_index(index: int) -> str:
    """``1234067`` → ``x001/x234/067``: zero-padded 3-digit elements, all but the last x'd."""
    parts = []
    while True:
        parts.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    parts.reverse()
    return "/".join([f"x{p}" for p in parts[:-1]] + [parts[-1]])


def tile_path(level: int | None, index: int, width: int | None = None) -> str:
    """The path below the log prefix: ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>…``."""
    head = "entries" if level is None else str(level)
    suffix = f".p/{width}" if width is not None and width < TILE_WIDTH else ""
    return f"tile/{head}/{encode_index(index)}{suffix}"


def parse_tile_path(rest: str) -> TileRef:
    """Parse what follows ``tile/``; raises ValidationFailed on anything else."""
    parts = rest.split("/")
    if len(parts) < 2:
        raise ValidationFailed("not a tile path")
    head, parts = parts[0], parts[1:]
    width = None
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        if not parts[-1].isdigit() or parts[-1].startswith("0"):
            raise ValidationFailed("a partial tile's width is a number without leading zeros")
        width = int(parts[-1])
        if not 1 <= width < TILE_WIDTH:
            raise ValidationFailed("a partial tile has 1 to 255 hashes")
        parts = parts[:-2] + [parts[-2][:-2]]
    if not all(p.startswith("x") and _SEGMENT.match(p[1:]) for p in parts[:-1]) or not (
            _SEGMENT.match(parts[-1])):
        raise ValidationFailed("a tile index is x-prefixed 3-digit path elements")
    index = int("".join(p.lstrip("x") for p in parts))
    if encode_index(index) != "/".join(parts):
        raise ValidationFailed("a tile index has no extra leading elements")
    if head == "entries":
        return TileRef(None, index, width)
    if not head.isdigit() or (len(head) > 1 and head[0] == "0") or int(head) > 63:
        raise ValidationFailed("a tile level is 0 to 63")
    return TileRef(int(head), index, width)


def _available(ref: TileRef, size: int) -> int:
    """How many hashes (or entries) the tile holds in a tree of ``size``; refuses
    tiles that tree does not have."""
    level = ref.level or 0
    count = size >> (TILE_HEIGHT * level)  # perfect subtrees of this height
    start = ref.index * TILE_WIDTH
    want = ref.width or TILE_WIDTH
    if start + want > count:
        raise NotFound("no such tile in the latest checkpoint's tree", tile=ref.path)
    return want  # a partial tile stays served once its tile is full: its data never changes


def tile_hashes(conn: Connection, ref: TileRef, size: int) -> bytes:
    """The tile's concatenated 32-byte hashes, for a tree of ``size`` entries."""
    if ref.level is None:
        raise ValidationFailed("an entry bundle is not a hash tile")
    want = _available(ref, size)
    start = ref.index * TILE_WIDTH
    if ref.level == 0:
        rows = conn.execute(
            select(ledger_entries.c.leaf_index, ledger_entries.c.leaf_hash)
            .where(ledger_entries.c.leaf_index >= start,
                   ledger_entries.c.leaf_index < start + want)
            .order_by(ledger_entries.c.leaf_index)
        ).all()
    else:
        rows = conn.execute(
            select(ledger_nodes.c.node_index, ledger_nodes.c.hash)
            .where(ledger_nodes.c.level == TILE_HEIGHT * ref.level,
                   ledger_nodes.c.node_index >= start, ledger_nodes.c.node_index < start + want)
            .order_by(ledger_nodes.c.node_index)
        ).all()
    if [int(r[0]) for r in rows] != list(range(start, start + want)):
        raise NotFound("stored hashes of this tile are missing", tile=ref.path)
    return b"".join(bytes(r[1]) for r in rows)


def entry_bundle(conn: Connection, ref: TileRef, size: int) -> bytes:
    """The entries of a level-0 tile, each a big-endian uint16 length and its bytes."""
    want = _available(TileRef(0, ref.index, ref.width), size)
    start = ref.index * TILE_WIDTH
    rows = conn.execute(
        select(ledger_entries.c.leaf_index, ledger_entries.c.entry)
        .where(ledger_entries.c.leaf_index >= start, ledger_entries.c.leaf_index < start + want)
        .order_by(ledger_entries.c.leaf_index)
    ).all()
    out = bytearray()
    for _, entry in rows:
        data = bytes(entry)
        if len(data) > 0xFFFF:
            raise ValidationFailed("an entry is longer than an entry bundle allows")
        out += struct.pack(">H", len(data)) + data
    return bytes(out)


def tiles_for(size: int) -> list[TileRef]:
    """Every hash tile and entry bundle a mirror copies for a tree of ``size``."""
    refs: list[TileRef] = []
    level = 0
    while True:
        count = size >> (TILE_HEIGHT * level)
        if count == 0:
            break
        full, rest = divmod(count, TILE_WIDTH)
        refs += [TileRef(level, n, None) for n in range(full)]
        if rest:
            refs.append(TileRef(level, full, rest))
        if level == 0:
            refs += [TileRef(None, n, None) for n in range(full)]
            if rest:
                refs.append(TileRef(None, full, rest))
        if count < TILE_WIDTH:
            break
        level += 1
    return refs
