"""The SQL ledger: append, proofs against stored checkpoints, tamper detection, triggers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from registry.core.errors import NotFound, ValidationFailed
from registry.core.ledger import (
    KeyRing,
    append,
    canonical_json,
    checkpoint_at,
    consistency_proof,
    get_entries,
    inclusion_proof,
    latest_checkpoint,
    load_or_create_keyring,
    log_consistency_check,
    proof_bundle,
    publish_keys,
    published_keys,
    rotate,
    verify_ledger,
)
from registry.core.ledger.merkle import MemoryTree
from registry.core.ledger.store import LEDGER_TABLES, apply_immutability_triggers, root_at
from registry.core.sql import metadata
from registry.core.tamga_verify import (
    leaf_hash,
    parse_checkpoint,
    verify_consistency,
    verify_inclusion,
    verify_note,
)

ORIGIN = "tamga.example/ledger"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_entry(i: int) -> dict:
    return {
        "kind": "work.registered",
        "at": "2026-11-21T10:00:00Z",
        "registration_number": f"KZ-2026-{i:06d}",
        "title": f"Әннің аты {i}",
        "files": [{"sha256": hashlib.sha256(f"file {i}".encode()).hexdigest(), "role": "main"}],
    }


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return load_or_create_keyring(tmp_path / "keys", now=T0)


@pytest.fixture
def engine(core_engine: Engine, ring: KeyRing) -> Iterator[Engine]:
    with core_engine.begin() as conn:
        metadata.drop_all(conn, tables=LEDGER_TABLES)
        metadata.create_all(conn, tables=LEDGER_TABLES)
        publish_keys(conn, ring)
    yield core_engine
    with core_engine.begin() as conn:
        apply_immutability_triggers(conn, drop=True)
        metadata.drop_all(conn, tables=LEDGER_TABLES)


def fill(engine: Engine, ring: KeyRing, n: int, start: int = 0) -> list[int]:
    indexes = []
    for i in range(start, start + n):
        with engine.begin() as conn:
            indexes.append(append(conn, make_entry(i), ring, ORIGIN).leaf_index)
    return indexes


def test_append_assigns_indexes_and_keeps_every_checkpoint(engine: Engine, ring: KeyRing) -> None:
    assert fill(engine, ring, 21) == list(range(21))
    with engine.connect() as conn:
        entries = get_entries(conn, 0, 100)
        assert [e.leaf_index for e in entries] == list(range(21))
        assert entries[5].entry == canonical_json(make_entry(5))
        assert entries[5].leaf_hash == leaf_hash(entries[5].entry)
        assert entries[5].kind == "work.registered"
        tree = MemoryTree([e.leaf_hash for e in entries])
        for size in range(1, 22):
            cp = checkpoint_at(conn, size)
            assert cp is not None and cp.root_hash == tree.root(size)
            body, names = verify_note(cp.note, ring.vkeys())
            assert names == [ring.current.name]
            assert parse_checkpoint(body) == (ORIGIN, size, tree.root(size), [])
        assert latest_checkpoint(conn).tree_size == 21
        assert checkpoint_at(conn, 22) is None


def test_append_is_rolled_back_with_the_callers_transaction(engine: Engine, ring: KeyRing) -> None:
    fill(engine, ring, 3)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        append(conn, make_entry(99), ring, ORIGIN)
        raise RuntimeError("the event failed")
    assert fill(engine, ring, 1, start=3) == [3]
    with engine.connect() as conn:
        assert verify_ledger(conn, ring.vkeys()).ok


def test_proofs_verify_against_stored_checkpoints(engine: Engine, ring: KeyRing) -> None:
    fill(engine, ring, 37)
    with engine.connect() as conn:
        roots = {s: checkpoint_at(conn, s).root_hash for s in range(1, 38)}
        hashes = [e.leaf_hash for e in get_entries(conn, 0, 37)]
        tree = MemoryTree(hashes)
        for size in (1, 2, 7, 8, 16, 33, 37):
            assert root_at(conn, size) == roots[size]
            for index in range(size):
                proof = inclusion_proof(conn, index, size)
                assert proof == tree.inclusion_proof(index, size)
                verify_inclusion(hashes[index], index, size, proof, roots[size])
        for old in range(1, 38):
            for new in range(old, 38):
                proof = consistency_proof(conn, old, new)
                verify_consistency(old, new, proof, roots[old], roots[new])


def test_proof_requests_outside_the_tree_are_refused(engine: Engine, ring: KeyRing) -> None:
    fill(engine, ring, 4)
    with engine.connect() as conn:
        with pytest.raises(ValidationFailed):
            inclusion_proof(conn, 4, 4)
        with pytest.raises(NotFound):
            inclusion_proof(conn, 1, 5)
        with pytest.raises(ValidationFailed):
            consistency_proof(conn, 0, 3)
        with pytest.raises(NotFound):
            consistency_proof(conn, 2, 9)


def test_entries_are_validated(engine: Engine, ring: KeyRing) -> None:
    with engine.begin() as conn:
        with pytest.raises(ValidationFailed):
            append(conn, {"kind": "work.deleted", "at": "2026-11-21T10:00:00Z"}, ring, ORIGIN)
        with pytest.raises(ValidationFailed):
            append(conn, {"kind": "work.amended", "at": "2026-11-21 10:00"}, ring, ORIGIN)
        with pytest.raises(ValidationFailed):
            append(conn, {**make_entry(1), "share": float("nan")}, ring, ORIGIN)


def _sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def _swap(engine: Engine, a: int, b: int) -> None:
    with engine.connect() as conn:
        ea, eb = get_entries(conn, a, a + 1)[0], get_entries(conn, b, b + 1)[0]
    for target, src in ((a, eb), (b, ea)):
        _sql(
            engine,
            "UPDATE ledger_entries SET entry = :e, leaf_hash = :h WHERE leaf_index = :i",
            e=src.entry,
            h=src.leaf_hash,
            i=target,
        )


def _edit_entry(engine: Engine, index: int, rehash: bool) -> None:
    with engine.connect() as conn:
        entry = get_entries(conn, index, index + 1)[0]
    changed = entry.entry.replace(b"KZ-2026", b"KZ-2025")
    new_hash = leaf_hash(changed) if rehash else entry.leaf_hash
    _sql(
        engine,
        "UPDATE ledger_entries SET entry = :e, leaf_hash = :h WHERE leaf_index = :i",
        e=changed,
        h=new_hash,
        i=index,
    )


def _change_note_byte(engine: Engine, size: int) -> None:
    with engine.connect() as conn:
        note = checkpoint_at(conn, size).note
    changed = note.replace(ORIGIN, ORIGIN.upper(), 1)
    _sql(engine, "UPDATE ledger_checkpoints SET note = :n WHERE tree_size = :s", n=changed, s=size)


TAMPERING = {
    "edited entry": (lambda e: _edit_entry(e, 6, rehash=False), "entry 6: stored leaf hash"),
    "edited entry and leaf hash": (lambda e: _edit_entry(e, 6, rehash=True), "checkpoint 7"),
    "deleted entry": (
        lambda e: _sql(e, "DELETE FROM ledger_entries WHERE leaf_index = 6"),
        "entry 6 is missing",
    ),
    "deleted last entry": (
        lambda e: _sql(e, "DELETE FROM ledger_entries WHERE leaf_index = 11"),
        "checkpoint 12 is beyond",
    ),
    "reordered entries": (lambda e: _swap(e, 3, 9), "checkpoint 4"),
    "checkpoint with a changed byte": (lambda e: _change_note_byte(e, 8), "checkpoint 8"),
    "checkpoint root column": (
        lambda e: _sql(
            e,
            "UPDATE ledger_checkpoints SET root_hash = :r WHERE tree_size = 5",
            r=b"\x00" * 32,
        ),
        "checkpoint 5: stored root",
    ),
    "deleted checkpoint": (
        lambda e: _sql(e, "DELETE FROM ledger_checkpoints WHERE tree_size = 10"),
        "some checkpoint is missing",
    ),
    "subtree hash": (
        lambda e: _sql(
            e,
            "UPDATE ledger_nodes SET hash = :h WHERE level = 2 AND node_index = 1",
            h=b"\x01" * 32,
        ),
        "stored subtree hash (2, 1)",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_ledger_reports_the_first_tampering(
    engine: Engine, ring: KeyRing, case: str
) -> None:
    fill(engine, ring, 12)
    with engine.connect() as conn:
        report = verify_ledger(conn, ring.vkeys(), origin=ORIGIN)
    assert report.ok and report.entries_checked == 12 and report.checkpoints_checked == 12
    tamper, expected = TAMPERING[case]
    tamper(engine)
    with engine.connect() as conn:
        report = verify_ledger(conn, ring.vkeys(), origin=ORIGIN, batch=5)
    assert not report.ok
    assert report.first_problem is not None and expected in report.first_problem


def test_verify_ledger_needs_the_right_keys_and_origin(
    engine: Engine, ring: KeyRing, tmp_path: Path
) -> None:
    fill(engine, ring, 3)
    other = load_or_create_keyring(tmp_path / "other-keys", now=T0)
    seen: list[tuple[int, int]] = []
    with engine.connect() as conn:
        assert verify_ledger(conn, ring.vkeys(), progress=lambda d, t: seen.append((d, t))).ok
        bad_key = verify_ledger(conn, other.vkeys())
        bad_origin = verify_ledger(conn, ring.vkeys(), origin="elsewhere.example/log")
    assert seen[-1] == (3, 3)
    assert not bad_key.ok and "no signature by a known key" in bad_key.first_problem
    assert not bad_origin.ok and "origin" in bad_origin.first_problem


def test_rotation_keeps_old_keys_published_and_verifying(
    engine: Engine, ring: KeyRing, tmp_path: Path
) -> None:
    fill(engine, ring, 3)
    rotated = rotate(tmp_path / "keys", now=T0 + timedelta(days=30))
    with engine.begin() as conn:
        publish_keys(conn, rotated)
    fill(engine, rotated, 3, start=3)
    old, new = rotated.keys
    with engine.connect() as conn:
        keys = published_keys(conn)
        assert [k["name"] for k in keys] == [old.name, new.name]
        assert keys[0]["valid_until"] == "2026-01-31T00:00:00Z"
        assert keys[1]["valid_until"] is None
        assert verify_note(checkpoint_at(conn, 3).note, [old.vkey])[1] == [old.name]
        assert verify_note(checkpoint_at(conn, 6).note, [new.vkey])[1] == [new.name]
        assert verify_ledger(conn, [k["vkey"] for k in keys]).ok
        only_new = verify_ledger(conn, [new.vkey])
    assert not only_new.ok and only_new.first_problem.startswith("checkpoint 1:")


def test_triggers_refuse_update_and_delete(engine: Engine, ring: KeyRing, tmp_path: Path) -> None:
    fill(engine, ring, 3)
    with engine.begin() as conn:
        apply_immutability_triggers(conn)
    refused = [
        "UPDATE ledger_entries SET kind = 'work.withdrawn' WHERE leaf_index = 1",
        "DELETE FROM ledger_entries WHERE leaf_index = 2",
        "UPDATE ledger_checkpoints SET note = 'x' WHERE tree_size = 1",
        "DELETE FROM ledger_checkpoints WHERE tree_size = 3",
        "DELETE FROM ledger_nodes",
        "DELETE FROM ledger_keys",
        "UPDATE ledger_keys SET vkey = 'x'",
    ]
    for statement in refused:
        with pytest.raises(DBAPIError, match="append-only|only accepts"), engine.begin() as conn:
            conn.execute(text(statement))
    rotated = rotate(tmp_path / "keys", now=T0 + timedelta(days=1))
    with engine.begin() as conn:
        publish_keys(conn, rotated)  # retiring a key is the one update allowed
        assert published_keys(conn)[0]["valid_until"] == "2026-01-02T00:00:00Z"
    fill(engine, rotated, 2, start=3)
    with engine.connect() as conn:
        assert verify_ledger(conn, rotated.vkeys()).ok
        assert get_entries(conn, 1, 2)[0].kind == "work.registered"


def test_a_certificate_checkpoint_is_checked_against_the_current_log(
    engine: Engine, ring: KeyRing
) -> None:
    fill(engine, ring, 5)
    with engine.connect() as conn:
        bundle = proof_bundle(conn, 2, published_keys(conn))
        assert log_consistency_check(conn, bundle).ok
    fill(engine, ring, 6, start=5)
    with engine.connect() as conn:
        check = log_consistency_check(conn, bundle)
        assert check.ok and "size 11" in check.detail
        too_big = dict(bundle, checkpoint=checkpoint_at(conn, 11).note.replace("\n11\n", "\n12\n"))
        assert not log_consistency_check(conn, too_big).ok
    # The operator rebuilds the log with entry 1 changed: the old checkpoint no longer fits.
    with engine.begin() as conn:
        metadata.drop_all(conn, tables=LEDGER_TABLES)
        metadata.create_all(conn, tables=LEDGER_TABLES)
    fill(engine, ring, 1)
    fill(engine, ring, 10, start=100)
    with engine.connect() as conn:
        check = log_consistency_check(conn, bundle)
    assert not check.ok and "not part of the current log" in check.detail
