"""Proof bundles built from a real store, verified by the standalone verifier."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from registry.core.ledger import (
    KeyRing,
    append,
    load_or_create_keyring,
    proof_bundle,
    publish_keys,
    published_keys,
)
from registry.core.ledger.store import LEDGER_TABLES
from registry.core.sql import metadata
from registry.core.tamga_verify import Check, verify_proof_bundle

ORIGIN = "tamga.example/ledger"
MAIN_FILE = b"original audio bytes \xd2\x9b\xd3\x99"


def _entry(i: int) -> dict[str, Any]:
    main = MAIN_FILE if i == 4 else f"file {i}".encode()
    return {
        "kind": "work.registered",
        "at": f"2026-11-21T10:00:{i:02d}Z",
        "registration_number": f"KZ-2026-{i:06d}",
        "files": [
            {"sha256": hashlib.sha256(main).hexdigest(), "role": "main"},
            {"sha256": hashlib.sha256(b"score %d" % i).hexdigest(), "role": "supporting"},
        ],
    }


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return load_or_create_keyring(tmp_path / "keys", now=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def bundle(core_engine: Engine, ring: KeyRing) -> Iterator[dict[str, Any]]:
    with core_engine.begin() as conn:
        metadata.drop_all(conn, tables=LEDGER_TABLES)
        metadata.create_all(conn, tables=LEDGER_TABLES)
        publish_keys(conn, ring)
    for i in range(11):
        with core_engine.begin() as conn:
            append(conn, _entry(i), ring, ORIGIN)
    with core_engine.connect() as conn:
        made = proof_bundle(conn, 4, published_keys(conn))
    with core_engine.begin() as conn:
        metadata.drop_all(conn, tables=LEDGER_TABLES)
    yield json.loads(json.dumps(made))  # exactly what a JSON file would carry


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_a_bundle_from_the_store_verifies_with_the_trusted_key(
    bundle: dict[str, Any], ring: KeyRing
) -> None:
    checks = verify_proof_bundle(bundle, ring.vkeys())
    assert [c.name for c in checks] == [
        "ledger entry",
        "checkpoint signature",
        "checkpoint",
        "ledger inclusion",
    ]
    assert all(c.ok and not c.warning for c in checks), checks
    assert bundle["tree_size"] == 11 and bundle["leaf_index"] == 4
    assert ring.current.name in _by_name(checks)["checkpoint signature"].detail


def test_without_a_trusted_key_the_embedded_key_is_used_with_a_warning(
    bundle: dict[str, Any],
) -> None:
    signature = _by_name(verify_proof_bundle(bundle, None))["checkpoint signature"]
    assert signature.ok and signature.warning
    assert "--key" in signature.detail


def test_another_key_is_not_trusted(bundle: dict[str, Any], tmp_path: Path) -> None:
    other = load_or_create_keyring(tmp_path / "other")
    checks = _by_name(verify_proof_bundle(bundle, other.vkeys()))
    assert not checks["checkpoint signature"].ok
    assert checks["ledger inclusion"].ok  # the maths holds; the signer is not trusted


def _flip_b64(value: str, position: int) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[position % len(raw)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _flip_note(note: str, position: int) -> str:
    ch = note[position]
    return note[:position] + ("0" if ch != "0" else "1") + note[position + 1 :]


def _tamper_signature(b: dict[str, Any]) -> None:
    head, sig_line = b["checkpoint"].rsplit("\n\n", 1)
    name_part, blob = sig_line.rstrip("\n").rsplit(" ", 1)
    b["checkpoint"] = f"{head}\n\n{name_part} {_flip_b64(blob, 20)}\n"


TAMPERING = {
    "entry byte": (lambda b: b.update(entry=_flip_b64(b["entry"], 30)), "ledger inclusion"),
    "first proof hash": (
        lambda b: b["inclusion_proof"].__setitem__(0, _flip_b64(b["inclusion_proof"][0], 3)),
        "ledger inclusion",
    ),
    "last proof hash": (
        lambda b: b["inclusion_proof"].__setitem__(-1, _flip_b64(b["inclusion_proof"][-1], 31)),
        "ledger inclusion",
    ),
    "dropped proof hash": (lambda b: b["inclusion_proof"].pop(), "ledger inclusion"),
    "leaf index": (lambda b: b.update(leaf_index=5), "ledger inclusion"),
    "tree size": (lambda b: b.update(tree_size=12), "checkpoint"),
    "checkpoint size digit": (
        lambda b: b.update(checkpoint=b["checkpoint"].replace("\n11\n", "\n12\n", 1)),
        "checkpoint signature",
    ),
    "checkpoint root byte": (
        lambda b: b.update(checkpoint=_flip_note(b["checkpoint"], 25)),
        "checkpoint signature",
    ),
    "checkpoint signature byte": (_tamper_signature, "checkpoint signature"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_one_changed_byte_fails(bundle: dict[str, Any], ring: KeyRing, case: str) -> None:
    tamper, failing = TAMPERING[case]
    changed = copy.deepcopy(bundle)
    tamper(changed)
    checks = _by_name(verify_proof_bundle(changed, ring.vkeys()))
    assert not checks[failing].ok, checks[failing]


def test_the_original_file_hash_is_checked(bundle: dict[str, Any], ring: KeyRing) -> None:
    good = hashlib.sha256(MAIN_FILE).hexdigest()
    changed = bytearray(MAIN_FILE)
    changed[len(changed) // 2] ^= 0x01
    ok = verify_proof_bundle(bundle, ring.vkeys(), file_sha256=good)[-1]
    bad = verify_proof_bundle(
        bundle, ring.vkeys(), file_sha256=hashlib.sha256(bytes(changed)).hexdigest()
    )[-1]
    assert ok.name == "file hash" and ok.ok and "main" in ok.detail
    assert bad.name == "file hash" and not bad.ok


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b.update(format="tamga-proof/0"),
        lambda b: b.pop("checkpoint"),
        lambda b: b.update(entry="not base64!"),
        lambda b: b.update(leaf_index="4"),
    ],
)
def test_malformed_bundles_fail_cleanly(bundle: dict[str, Any], ring: KeyRing, damage) -> None:
    changed = copy.deepcopy(bundle)
    damage(changed)
    checks = verify_proof_bundle(changed, ring.vkeys())
    assert checks[0].name == "proof format" and not checks[0].ok


@pytest.mark.parametrize("entry", [b"[1, 2]", b"\xff\xfe", b'{"no": "kind"}'])
def test_an_entry_that_is_not_a_ledger_entry_fails(
    bundle: dict[str, Any], ring: KeyRing, entry: bytes
) -> None:
    changed = dict(bundle, entry=base64.b64encode(entry).decode())
    checks = _by_name(verify_proof_bundle(changed, ring.vkeys(), file_sha256="00" * 32))
    assert not checks["ledger entry"].ok
    assert not checks["ledger inclusion"].ok
    assert not checks["file hash"].ok
