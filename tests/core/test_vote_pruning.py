"""The quads' vote smooths only the cells that can still be among the best
(``arrays.contention_bar``, ``arrays.neighbour_sums``): its answer, and the pairs',
must be the one a plain 27- (quads) or 3-cell (pairs) smoothing over every cell
gives."""

from __future__ import annotations

from collections import Counter
from itertools import product

import numpy as np
import pytest

from registry.core.matching import arrays
from registry.core.matching import pair_index as pr
from registry.core.matching import peak_index as pi


def _best_per_work(cells: Counter, neighbours: list[tuple], keep: int,
                   floor: int) -> list[tuple]:  # fmt: skip
    """Brute force: every cell's votes plus its neighbours', most first (ties in
    cell order), the first cell of each work."""
    smoothed = {c: sum(cells.get(tuple(a + b for a, b in zip(c, d, strict=True)), 0)
                       for d in neighbours) for c in cells}  # fmt: skip
    out, seen = [], set()
    for c in sorted(cells, key=lambda c: (-smoothed[c], c)):
        if smoothed[c] >= floor and c[0] not in seen:
            seen.add(c[0])
            out.append((smoothed[c], *c))
    return out[:keep]


def _hits(rng: np.random.Generator, n_works: int, chance: int, planted: int) -> pi._Hits:
    """Chance hits scattered over many works, and a few works with a true alignment."""
    work = rng.integers(0, n_works, chance)
    log_scale = rng.uniform(-0.3, 0.3, chance)
    pitch = rng.uniform(-20, 20, chance)
    offset = rng.uniform(0, 3000, chance)
    for w in range(planted):
        n = 4 + 3 * w
        work = np.append(work, np.full(n, w))
        log_scale = np.append(log_scale, rng.normal(0.05 * w, 0.01, n))
        pitch = np.append(pitch, rng.normal(w, 0.3, n))
        offset = np.append(offset, rng.normal(100 * w + 50, 1.0, n))
    z = np.zeros(work.size)
    return pi._Hits(work.astype(np.int64), log_scale, pitch, offset, z, z)


@pytest.mark.parametrize("seed", range(6))
def test_quad_vote_equals_plain_smoothing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    params = pi.PeakSearchParams()
    h = _hits(rng, n_works=[30, 400, 5000][seed % 3], chance=8000, planted=6)
    s, p, o = pi._cells(h, params)
    cells = Counter(zip(h.work.tolist(), s.tolist(), p.tolist(), o.tolist(), strict=True))
    want = _best_per_work(cells, [(0, *d) for d in product((-1, 0, 1), repeat=3)],
                          params.max_candidates, params.min_votes)  # fmt: skip
    got = [(v, w, s_, p_, o_ - (1 << 20)) for v, w, s_, p_, o_ in pi._vote(h, params)]
    assert got == [(v, w, s_, p_, o_ - (1 << 20)) for v, w, s_, p_, o_ in want]
    assert got and got[0][1] == 5  # the strongest planted alignment comes first


@pytest.mark.parametrize("seed", range(6))
def test_pair_vote_equals_plain_smoothing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    params = pr.PairSearchParams()
    h = _hits(rng, n_works=[30, 400, 5000][seed % 3], chance=20000, planted=6)
    cell = np.rint(h.offset / params.offset_step).astype(np.int64)
    cells = Counter(zip(h.work.tolist(), cell.tolist(), strict=True))
    want = _best_per_work(cells, [(0, -1), (0, 0), (0, 1)], params.max_candidates,
                          params.min_votes)  # fmt: skip
    assert pr._vote(h.work, h.offset, params) == [(v, w, c) for v, w, c in want]



def test_the_bar_is_the_keep_th_best_single_cell() -> None:
    groups = np.array([1, 1, 2, 3, 3, 3, 4])
    counts = np.array([2, 2, 5, 1, 1, 1, 1])
    assert arrays.contention_bar(groups, counts, 2, 1) == 2  # groups 2 (5) and 1 (2)
    assert arrays.contention_bar(groups, counts, 1, 1) == 5
    assert arrays.contention_bar(groups, counts, 2, 4) == 4  # the floor
    assert arrays.contention_bar(groups, counts, 9, 1) == 1  # fewer groups than kept


def test_neighbour_sums_of_chosen_cells() -> None:
    uniq, counts = np.array([3, 4, 5, 9]), np.array([1, 2, 4, 8])
    assert arrays.neighbour_sums(uniq, counts, np.array([1, 3]), (-1, 0, 1)).tolist() == [7, 8]
    assert arrays.neighbour_sums(uniq, counts, np.array([0]), (1, 6)).tolist() == [10]


def test_with_adjacent_equals_the_searched_sums() -> None:
    rng = np.random.default_rng(7)
    for size in (0, 1, 2, 50, 3000):
        uniq, counts = arrays.value_counts(rng.integers(0, 2 * size + 1, size))
        want = arrays.neighbour_sums(uniq, counts, np.arange(uniq.size), (-1, 0, 1))
        assert arrays.with_adjacent(uniq, counts).tolist() == want.tolist()


def test_key_join_pairs_every_equal_key() -> None:
    rng = np.random.default_rng(11)
    for size in (0, 1, 40, 2000):
        sorted_keys = np.sort(rng.integers(0, 60, size))
        keys = np.repeat(rng.integers(0, 80, size // 4 + 1), rng.integers(1, 5, size // 4 + 1))
        i, j = arrays.key_join(sorted_keys, keys)
        want = [(a, b) for a in range(keys.size) for b in range(sorted_keys.size)
                if keys[a] == sorted_keys[b]]  # fmt: skip
        assert list(zip(i.tolist(), j.tolist(), strict=True)) == want
