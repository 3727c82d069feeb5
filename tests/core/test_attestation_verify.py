"""tamga-verify's checks that need no server: a retired key's late signature,
cosignature/v1 lines, and tiled proofs (the round trips with real witnesses and
authorities are in tests/ledger/)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.core import tamga_verify as tv
from registry.core.ledger.keys import sign_note, signing_key_from_seed
from registry.core.ledger.store import checkpoint_body
from registry.core.witness import WitnessKey

OLD = replace(signing_key_from_seed("tamga-old", b"\x01" * 32,
                                    datetime(2026, 1, 1, tzinfo=UTC)),
              valid_until=datetime(2026, 3, 1, tzinfo=UTC))
NEW = signing_key_from_seed("tamga-new", b"\x02" * 32, datetime(2026, 3, 1, tzinfo=UTC))
ORIGIN = "tamga.test/ledger"


def _bundle(at: str, key=OLD) -> dict:
    entry = json.dumps({"kind": "work.registered", "at": at}).encode()
    note = sign_note(checkpoint_body(ORIGIN, 1, tv.leaf_hash(entry)), key.name, key.private_key)
    return {"format": tv.PROOF_FORMAT, "entry": base64.b64encode(entry).decode(),
            "leaf_index": 0, "tree_size": 1, "inclusion_proof": [], "checkpoint": note,
            "public_keys": [OLD.public_info(), NEW.public_info()]}


def test_a_checkpoint_signed_by_a_key_after_its_retirement_fails(tmp_path):
    late = tv.verify_proof_bundle(_bundle("2026-06-01T00:00:00.000000Z"), [OLD.vkey, NEW.vkey])
    failed = [c for c in late if not c.ok]
    assert [c.name for c in failed] == ["signing key validity"]
    assert "retired at 2026-03-01T00:00:00Z" in failed[0].detail
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(_bundle("2026-06-01T00:00:00.000000Z")))
    assert tv.main([str(path), "--key", OLD.vkey]) == 1
    in_time = tv.verify_proof_bundle(_bundle("2026-02-01T00:00:00.000000Z"), [OLD.vkey])
    assert all(c.ok for c in in_time)
    assert any(c.name == "signing key validity" for c in in_time)
    # The current key, never retired, adds no such step.
    current = tv.verify_proof_bundle(_bundle("2026-06-01T00:00:00.000000Z", NEW), [NEW.vkey])
    assert all(c.ok for c in current) and not any(
        c.name == "signing key validity" for c in current)


def test_cosignature_v1_lines_verify_and_count_towards_the_minimum():
    witness = WitnessKey("witness.test/w1", Ed25519PrivateKey.from_private_bytes(b"\x03" * 32))
    other = WitnessKey("witness.test/w2", Ed25519PrivateKey.from_private_bytes(b"\x04" * 32))
    bundle = _bundle("2026-02-01T00:00:00.000000Z")
    body = tv.note_body(bundle["checkpoint"])
    bundle["checkpoint"] += witness.cosign(body, 1_790_000_000)
    assert tv.parse_witness_key(witness.vkey).key_id == tv.key_id(
        witness.name, witness.public_key, tv.COSIGNATURE_ALG)
    found = tv.check_cosignatures(bundle["checkpoint"], [witness.vkey, other.vkey])
    assert found == [tv.Cosignature("witness.test/w1", 1_790_000_000, True)]
    policy = tv.AttestationPolicy(witness_keys=(witness.vkey, other.vkey), min_witnesses=1)
    assert all(c.ok for c in tv.verify_proof_bundle(bundle, [OLD.vkey], policy=policy))
    two = replace(policy, min_witnesses=2)
    assert not all(c.ok for c in tv.verify_proof_bundle(bundle, [OLD.vkey], policy=two))
    # A note key (type 0x01) is not a witness key, and a signature over another time fails.
    try:
        tv.parse_witness_key(OLD.vkey)
        raise AssertionError("a note key was taken for a witness key")
    except tv.NoteError:
        pass
    line = bundle["checkpoint"].rstrip("\n").rsplit("\n", 1)[1]
    name, blob = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[11] ^= 0x01  # inside the timestamp
    forged = bundle["checkpoint"].replace(line, f"{name} {base64.b64encode(bytes(raw)).decode()}")
    assert tv.check_cosignatures(forged, [witness.vkey])[0].ok is False
