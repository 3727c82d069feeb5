"""The numpy helpers of the indexes give what np.unique gives."""

from __future__ import annotations

import numpy as np

from registry.core.matching import arrays


def test_distinct_and_counts_equal_np_unique() -> None:
    rng = np.random.default_rng(3)
    for dtype, high in ((np.int64, 50), (np.uint64, 2**63), (np.int64, 2**40)):
        for size in (0, 1, 7, 5000):
            values = rng.integers(0, high, size, dtype=dtype)
            values = np.concatenate([values, values[: size // 3]])
            assert np.array_equal(arrays.distinct(values), np.unique(values))
            want_values, want_counts = np.unique(values, return_counts=True)
            got_values, got_counts = arrays.value_counts(values)
            assert np.array_equal(got_values, want_values)
            assert np.array_equal(got_counts, want_counts)


def test_runs_of_a_sorted_array() -> None:
    values, starts, lengths = arrays.runs(np.array([2, 2, 5, 7, 7, 7]))
    assert values.tolist() == [2, 5, 7]
    assert starts.tolist() == [0, 2, 3]
    assert lengths.tolist() == [2, 1, 3]


def test_packed_runs_group_entries_by_key() -> None:
    entry = np.dtype([("a", ">i4"), ("b", "u1")])
    entries = np.array([(1, 2), (3, 4), (5, 6)], dtype=entry)
    keys, starts, packed = arrays.packed_runs(np.array([7, 7, 9]), entries)
    assert keys == [7, 9] and starts.tolist() == [0, 2]
    assert [np.frombuffer(p, dtype=entry).tolist() for p in packed] == [[(1, 2), (3, 4)], [(5, 6)]]
