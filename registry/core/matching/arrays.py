"""Small numpy helpers shared by the indexes.

``np.unique`` sorts and then, in numpy 2.x, takes a slower general path: on the
few thousand values of one search it cost 0.9 ms where sorting and comparing
neighbours costs 0.05 ms.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct values, index of each one's first occurrence, run lengths) of an
    already sorted array."""
    if not values.size:
        empty = np.zeros(0, dtype=np.int64)
        return values[:0], empty, empty
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], starts, np.diff(np.append(starts, values.size))


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of ``values`` (what ``np.unique`` returns)."""
    return runs(np.sort(values))[0]


def value_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and how often each occurs
    (``np.unique(values, return_counts=True)``)."""
    uniq, _, lengths = runs(np.sort(values))
    return uniq, lengths


def packed_runs(keys: np.ndarray, entries: np.ndarray) -> tuple[list[int], np.ndarray, list[bytes]]:
    """Group structured ``entries`` by their already sorted ``keys``: (distinct
    keys, first index of each, the entries of each key packed as bytes) -- the
    rows of a packed posting table."""
    uniq, starts, _ = runs(keys)
    blob = entries.tobytes()
    bounds = (np.append(starts, keys.size) * entries.dtype.itemsize).tolist()
    packed = [blob[bounds[i] : bounds[i + 1]] for i in range(uniq.size)]
    return uniq.tolist(), starts, packed



def contention_bar(groups: np.ndarray, counts: np.ndarray, keep: int, floor: int) -> int:
    """The fewest smoothed votes a cell needs to give one of the ``keep`` best groups
    (``groups`` sorted, one per cell): at least ``keep`` groups have a cell with the
    ``keep``-th largest single-cell count, and smoothing only adds votes. ``floor``:
    the least any candidate needs."""
    if not groups.size:
        return floor
    _, starts, _ = runs(groups)
    best = np.maximum.reduceat(counts, starts)
    if best.size <= keep:
        return floor
    return max(floor, int(np.partition(best, best.size - keep)[best.size - keep]))


def neighbour_sums(uniq: np.ndarray, counts: np.ndarray, at: np.ndarray,
                   shifts: Sequence[int]) -> np.ndarray:  # fmt: skip
    """For the cells ``uniq[at]`` (``uniq`` sorted distinct codes, ``counts`` their
    counts): the counts of the cells ``code + shift`` summed over ``shifts``
    (include 0 for the cell's own)."""
    out = np.zeros(at.size, dtype=np.int64)
    if not uniq.size:
        return out
    cells = uniq[at]
    for shift in shifts:
        if shift == 0:
            out += counts[at]
            continue
        want = cells + shift
        j = np.minimum(np.searchsorted(uniq, want), uniq.size - 1)
        out += np.where(uniq[j] == want, counts[j], 0)
    return out


def with_adjacent(uniq: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each code's count plus the counts of ``code - 1`` and ``code + 1`` (``uniq``
    sorted distinct): :func:`neighbour_sums` over every code with shifts -1, 0 and
    1, read from the neighbouring positions instead of searched."""
    out = counts.astype(np.int64, copy=True)
    if uniq.size > 1:
        next_to = uniq[1:] == uniq[:-1] + 1
        out[:-1] += np.where(next_to, counts[1:], 0)
        out[1:] += np.where(next_to, counts[:-1], 0)
    return out


def key_join(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) with ``keys[i] == sorted_keys[j]``, as two index arrays
    (i ascending). ``keys`` comes in runs of equal values (a posting list's keys):
    each run is searched once."""
    values, starts, lengths = runs(keys)
    lo = np.searchsorted(sorted_keys, values, "left")
    n = np.searchsorted(sorted_keys, values, "right") - lo
    per_key = np.repeat(n, lengths)  # matches of each entry of ``keys``
    i = np.repeat(np.arange(keys.size), per_key)
    first = np.repeat(np.repeat(lo, lengths), per_key)
    j = np.arange(i.size) - np.repeat(np.cumsum(per_key) - per_key, per_key) + first
    return i, j
