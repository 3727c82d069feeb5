"""C2SP signed notes and checkpoints, starting from the Go note package's example."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from registry.core.ledger.keys import sign_note, signing_key_from_seed
from registry.core.tamga_verify import (
    NoteError,
    encode_verifier_key,
    key_id,
    parse_checkpoint,
    parse_verifier_key,
    verify_note,
)

EXAMPLE = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "note" / "peter_neumann.json").read_text(
        encoding="utf-8"
    )
)


def _example_signer():
    blob = EXAMPLE["signer_key"].split("+", 4)[4]
    raw = base64.b64decode(blob)
    assert raw[0] == 0x01
    return signing_key_from_seed("PeterNeumann", raw[1:])


def test_example_verifier_key_parses() -> None:
    key = parse_verifier_key(EXAMPLE["verifier_key"])
    assert key.name == "PeterNeumann"
    assert key.key_id.hex() == "c74f20a3"
    assert key_id(key.name, key.public_key) == key.key_id
    assert encode_verifier_key(key.name, key.public_key) == EXAMPLE["verifier_key"]


def test_example_note_verifies() -> None:
    body, names = verify_note(EXAMPLE["signed_note"], [EXAMPLE["verifier_key"]])
    assert body == EXAMPLE["text"]
    assert names == ["PeterNeumann"]


def test_signing_the_example_reproduces_it_byte_for_byte() -> None:
    key = _example_signer()
    assert key.vkey == EXAMPLE["verifier_key"]
    assert sign_note(EXAMPLE["text"], key.name, key.private_key) == EXAMPLE["signed_note"]


@pytest.mark.parametrize("position", [0, 30, 60, 95])
def test_a_changed_byte_in_the_text_fails(position: int) -> None:
    note = EXAMPLE["signed_note"]
    changed = note[:position] + ("X" if note[position] != "X" else "Y") + note[position + 1 :]
    with pytest.raises(NoteError):
        verify_note(changed, [EXAMPLE["verifier_key"]])


def test_a_changed_signature_fails() -> None:
    note = EXAMPLE["signed_note"]
    changed = note.replace("x08go/ZJku", "x08go/ZJkv")
    with pytest.raises(NoteError, match="invalid signature"):
        verify_note(changed, [EXAMPLE["verifier_key"]])


def test_unknown_signers_are_ignored_but_one_known_is_required() -> None:
    other = signing_key_from_seed("Other", b"\x07" * 32)
    extra = sign_note(EXAMPLE["text"], other.name, other.private_key).split("\n\n")[1]
    cosigned = EXAMPLE["signed_note"] + extra
    body, names = verify_note(cosigned, [EXAMPLE["verifier_key"]])
    assert body == EXAMPLE["text"] and names == ["PeterNeumann"]
    _, both = verify_note(cosigned, [EXAMPLE["verifier_key"], other.vkey])
    assert both == ["PeterNeumann", "Other"]
    with pytest.raises(NoteError, match="no signature by a known key"):
        verify_note(EXAMPLE["signed_note"], [other.vkey])


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpjMQ==",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_verifier_key(vkey)


@pytest.mark.parametrize(
    "note",
    [
        "no blank line\n\u2014 PeterNeumann x08go/ZJ=\n",
        EXAMPLE["signed_note"].rstrip("\n"),
        EXAMPLE["signed_note"].replace("\u2014", "-"),
        EXAMPLE["signed_note"].replace("\n", "\r\n"),
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(NoteError):
        verify_note(note, [EXAMPLE["verifier_key"]])


def test_checkpoint_from_the_c2sp_spec_parses() -> None:
    body = (
        "example.com/behind-the-sofa\n20852163\n"
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextension line\n"
    )
    cp = parse_checkpoint(body)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.extensions == ["extension line"]


@pytest.mark.parametrize(
    "body",
    [
        "origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
        "\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n",
        "origin\n12\n",
    ],
)
def test_malformed_checkpoints_are_refused(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)


def test_verifier_keys_whose_base64_holds_a_plus_round_trip() -> None:
    keys = [signing_key_from_seed("tamga-test", bytes([i]) * 32) for i in range(40)]
    with_plus = [k for k in keys if "+" in k.vkey.split("+", 2)[2]]
    assert with_plus
    for key in with_plus:
        parsed = parse_verifier_key(key.vkey)
        assert (parsed.name, parsed.public_key) == (key.name, key.public_key)
