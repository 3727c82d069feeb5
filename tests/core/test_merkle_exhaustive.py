"""Efficient proof generation against the RFC's recursive definitions, exhaustively."""

from __future__ import annotations

import pytest

from registry.core.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ReferenceTree,
    append_leaf,
    frontier_root,
    merkle_root,
    perfect_subtrees,
)
from registry.core.tamga_verify import (
    ProofError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(512)]


@pytest.fixture(scope="module")
def trees() -> tuple[MemoryTree, ReferenceTree]:
    return MemoryTree(LEAVES), ReferenceTree(LEAVES)


def test_small_trees_by_hand() -> None:
    a, b, c = LEAVES[:3]
    assert merkle_root([]) == EMPTY_ROOT
    assert merkle_root([a]) == a
    assert merkle_root([a, b]) == node_hash(a, b)
    assert merkle_root([a, b, c]) == node_hash(node_hash(a, b), c)
    assert MemoryTree([a, b, c]).inclusion_proof(2, 3) == [node_hash(a, b)]
    assert MemoryTree([a, b, c]).consistency_proof(2, 3) == [c]


def test_roots_agree_for_every_size(trees: tuple[MemoryTree, ReferenceTree]) -> None:
    fast, ref = trees
    frontier: list = []
    for n in range(1, 513):
        frontier, _ = append_leaf(frontier, n - 1, LEAVES[n - 1])
        want = ref.mth(0, n)
        assert fast.root(n) == want
        assert frontier_root(frontier) == want
        assert [(lv, ix) for lv, ix, _ in frontier] == perfect_subtrees(0, n)
    assert merkle_root(LEAVES) == ref.mth(0, 512)


def test_every_inclusion_proof_up_to_512(trees: tuple[MemoryTree, ReferenceTree]) -> None:
    fast, ref = trees
    checked = 0
    for n in range(1, 513):
        root = fast.root(n)
        for m in range(n):
            proof = fast.inclusion_proof(m, n)
            assert proof == ref.inclusion_proof(m, n), (m, n)
            verify_inclusion(LEAVES[m], m, n, proof, root)
            checked += 1
    assert checked == 512 * 513 // 2


def test_every_consistency_proof_up_to_128(trees: tuple[MemoryTree, ReferenceTree]) -> None:
    fast, ref = trees
    for n in range(1, 129):
        for m in range(1, n + 1):
            proof = fast.consistency_proof(m, n)
            assert proof == ref.consistency_proof(m, n), (m, n)
            verify_consistency(m, n, proof, fast.root(m), fast.root(n))


def test_proofs_fail_for_the_wrong_leaf_or_size(trees: tuple[MemoryTree, ReferenceTree]) -> None:
    fast, _ = trees
    for n in (5, 64, 100, 511):
        root = fast.root(n)
        proof = fast.inclusion_proof(3, n)
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[4], 3, n, proof, root)
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[3], 3, n + 1, proof, fast.root(n + 1))
        cproof = fast.consistency_proof(3, n)
        with pytest.raises(ProofError):
            verify_consistency(3, n, cproof, fast.root(2), root)
        with pytest.raises(ProofError):
            verify_consistency(3, n, cproof[:-1], fast.root(3), root)
