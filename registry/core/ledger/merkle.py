"""RFC 9162 Merkle tree: roots, and inclusion / consistency proof generation.

The efficient code works on *perfect subtrees*: the subtree of level ``l`` and
index ``i`` covers leaves ``[i * 2**l, (i + 1) * 2**l)``. Its hash never changes
once all its leaves exist, so the store writes each one once, at append time,
and any range a proof needs is the fold of at most ``log2(n)`` perfect subtrees.
Proofs are computed as lists of leaf ranges first (pure arithmetic), so a
caller can fetch every hash it needs in one query.

``ReferenceTree`` is a literal transcription of the RFC's recursive
definitions, kept only to cross-check the efficient code in tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from registry.core.tamga_verify import node_hash

EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]
NodeKey = tuple[int, int]
PerfectGetter = Callable[[int, int], bytes]
FrontierNode = tuple[int, int, bytes]


def _split_point(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[NodeKey]:
    """Decompose leaves ``[start, end)`` into aligned perfect subtrees, left to right."""
    out: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        out.append((level, start >> level))
        start += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine the hashes of a range's perfect subtrees (left to right) into its hash."""
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def range_hash(start: int, end: int, perfect: PerfectGetter) -> bytes:
    """MTH of leaves ``[start, end)`` from perfect-subtree hashes."""
    if start >= end:
        return EMPTY_ROOT
    return fold([perfect(level, index) for level, index in perfect_subtrees(start, end)])


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose hashes form PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(old: int, new: int) -> list[Range]:
    """Leaf ranges whose hashes form PROOF(old, D[new]) (RFC 9162 §2.1.4.1)."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    ranges: list[Range] = []
    start, end, complete = 0, new, True
    while old != end:
        k = _split_point(end - start)
        if old <= start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, complete = start + k, False
    if not complete:
        ranges.append((start, end))
    return ranges[::-1]


def nodes_for(ranges: Iterable[Range]) -> set[NodeKey]:
    """Every perfect subtree needed to hash the given ranges."""
    return {node for start, end in ranges for node in perfect_subtrees(start, end)}


def hashes_for(ranges: Sequence[Range], perfect: PerfectGetter) -> list[bytes]:
    return [range_hash(start, end, perfect) for start, end in ranges]


def append_leaf(
    frontier: Sequence[FrontierNode], size: int, leaf: bytes
) -> tuple[list[FrontierNode], list[FrontierNode]]:
    """Add leaf number ``size`` to a tree given by its frontier.

    The frontier of a tree of size n is ``perfect_subtrees(0, n)`` with hashes,
    as ``(level, index, hash)``. Returns the new frontier and the perfect
    subtrees of level >= 1 that the new leaf completes.
    """
    stack = list(frontier)
    level, index, h = 0, size, leaf
    completed: list[FrontierNode] = []
    while stack and stack[-1][0] == level:
        _, _, left = stack.pop()
        h, level, index = node_hash(left, h), level + 1, index >> 1
        completed.append((level, index, h))
    stack.append((level, index, h))
    return stack, completed


def frontier_root(frontier: Sequence[FrontierNode]) -> bytes:
    return fold([h for _, _, h in frontier]) if frontier else EMPTY_ROOT


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, level by level (an odd last node moves up as is)."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class MemoryTree:
    """All perfect subtrees of a list of leaf hashes, for proofs at any size <= len."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    def __len__(self) -> int:
        return len(self.levels[0])

    def perfect(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        return range_hash(0, len(self) if size is None else size, self.perfect)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return hashes_for(inclusion_ranges(index, size), self.perfect)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return hashes_for(consistency_ranges(old, new), self.perfect)


class ReferenceTree:
    """The RFC 9162 §2.1 definitions, written recursively; for tests only.

    MTH of a leaf range is memoised so that checking every proof of every
    size stays fast; the recursion itself is the RFC's text.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = list(leaves)
        self.mth = lru_cache(maxsize=None)(self._mth)

    def _mth(self, a: int, b: int) -> bytes:
        n = b - a
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.leaves[a]
        k = _split_point(n)
        return node_hash(self.mth(a, a + k), self.mth(a + k, b))

    def path(self, m: int, a: int, b: int) -> list[bytes]:
        """PATH(m, D[a:b]) with m relative to a."""
        n = b - a
        if n == 1:
            return []
        k = _split_point(n)
        if m < k:
            return self.path(m, a, a + k) + [self.mth(a + k, b)]
        return self.path(m - k, a + k, b) + [self.mth(a, a + k)]

    def subproof(self, m: int, a: int, b: int, complete: bool) -> list[bytes]:
        """SUBPROOF(m, D[a:b], b) with m relative to a."""
        n = b - a
        if m == n:
            return [] if complete else [self.mth(a, b)]
        k = _split_point(n)
        if m <= k:
            return self.subproof(m, a, a + k, complete) + [self.mth(a + k, b)]
        return self.subproof(m - k, a + k, b, False) + [self.mth(a, a + k)]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self.path(index, 0, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return self.subproof(old, 0, new, True)
