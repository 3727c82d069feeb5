"""The registry's signing key ring: creation on first run, reload, seeds, rotation."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry.core.errors import LedgerError
from registry.core.ledger import load_or_create_keyring, rotate, signing_key_from_seed
from registry.core.ledger.keys import KEYRING_FILE, KeyRing, seed_bytes
from registry.core.tamga_verify import parse_verifier_key, verify_note

T0 = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_run_creates_a_private_key_file_of_mode_0600(tmp_path: Path) -> None:
    folder = tmp_path / "instance" / "ledger-keys"
    ring = load_or_create_keyring(folder, prefix="tamga", now=T0)
    key = ring.current
    assert key.name == "tamga-20260301T083000Z"
    seed_file = folder / f"{key.name}.seed"
    assert _mode(seed_file) == 0o600
    assert _mode(folder / KEYRING_FILE) == 0o600
    assert base64.b64decode(seed_file.read_text()) == seed_bytes(key.private_key)
    assert key.public_key.hex() not in (folder / KEYRING_FILE).read_text()


def test_reloading_gives_the_same_key(tmp_path: Path) -> None:
    first = load_or_create_keyring(tmp_path, now=T0)
    again = load_or_create_keyring(tmp_path, now=T0 + timedelta(days=3))
    assert again.vkeys() == first.vkeys()
    note = again.sign_note("origin\n1\n" + base64.b64encode(b"\0" * 32).decode() + "\n")
    assert verify_note(note, first.vkeys())[1] == [first.current.name]


def test_a_seed_from_the_environment(tmp_path: Path) -> None:
    seed = base64.b64encode(bytes(range(32))).decode()
    key = signing_key_from_seed("tamga-env", seed, T0)
    same = signing_key_from_seed("tamga-env", bytes(range(32)), T0)
    assert key.vkey == same.vkey
    assert parse_verifier_key(key.vkey).public_key == key.public_key
    assert KeyRing([key]).public_info() == [
        {
            "name": "tamga-env",
            "vkey": key.vkey,
            "valid_from": "2026-03-01T08:30:00Z",
            "valid_until": None,
        }
    ]
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(LedgerError):
            signing_key_from_seed("tamga-env", bad)
    with pytest.raises(LedgerError, match="invalid key name"):
        signing_key_from_seed("bad name", seed)


def test_rotation_retires_the_old_key_and_keeps_it_published(tmp_path: Path) -> None:
    first = load_or_create_keyring(tmp_path, now=T0)
    later = T0 + timedelta(days=90)
    ring = rotate(tmp_path, now=later)
    old, new = ring.keys
    assert old.vkey == first.current.vkey and old.valid_until == later
    assert new.valid_from == later and new.valid_until is None
    assert ring.current is new
    reloaded = load_or_create_keyring(tmp_path)
    assert [k["vkey"] for k in reloaded.public_info()] == [old.vkey, new.vkey]
    assert reloaded.public_info()[0]["valid_until"] == "2026-05-30T08:30:00Z"
    body = "origin\n2\n" + base64.b64encode(b"\1" * 32).decode() + "\n"
    assert verify_note(reloaded.sign_note(body), reloaded.vkeys())[1] == [new.name]
    manifest = json.loads((tmp_path / KEYRING_FILE).read_text())
    assert [m["name"] for m in manifest] == [old.name, new.name]
    assert all(_mode(tmp_path / m["seed_file"]) == 0o600 for m in manifest)


def test_rotation_must_move_forward(tmp_path: Path) -> None:
    load_or_create_keyring(tmp_path, now=T0)
    with pytest.raises(LedgerError):
        rotate(tmp_path, now=T0)


def test_a_damaged_key_ring_is_reported(tmp_path: Path) -> None:
    ring = load_or_create_keyring(tmp_path, now=T0)
    (tmp_path / f"{ring.current.name}.seed").write_text("garbage")
    with pytest.raises(LedgerError, match="cannot read the key ring"):
        load_or_create_keyring(tmp_path)
    with pytest.raises(LedgerError, match="invalid key name"):
        load_or_create_keyring(tmp_path / "other", prefix="tamga registry")
