"""Small numpy helpers shared by the indexes.

``np.unique`` sorts and then, in numpy 2.x, takes a slower general path: on the
few thousand values of one search it cost 0.9 ms where sorting and comparing
neighbours costs 0.05 ms.
"""

from __future__ import annotations

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
