"""The ledger as C2SP tlog-tiles, read back independently, mirrored, and used as the
source of proofs by tamga-verify."""

from __future__ import annotations

import base64
import hashlib
import json
import struct

import pytest

from registry.core import tamga_verify as tv
from registry.core.ledger import store
from registry.extensions import db

pytestmark = [pytest.mark.slow, pytest.mark.app_config({"SERVER_NAME": None})]


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, written out once more, naively, for this test."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _append(app, count: int, start: int = 0) -> None:
    with app.app_context():
        settings = app.extensions["tamga.settings"]
        conn = db.session.connection()
        store.publish_keys(conn, settings.keyring)
        for i in range(start, start + count):
            store.append(conn, {"kind": "work.registered", "at": "2026-11-29T10:00:00Z",
                                "registration_number": f"KZ-2026-{i:06d}"},
                         settings.keyring, settings.ledger_origin)
        db.session.commit()


def test_tiles_match_an_independent_reading_of_the_entries(app, client):
    _append(app, 300)
    entries = []
    for start in (0, 100, 200):
        got = client.get(f"/api/v1/ledger/entries?start={start}&end={start + 100}").get_json()
        entries += [base64.b64decode(e["entry_b64"]) for e in got["entries"]]
    leaves = [_leaf(e) for e in entries]
    note = client.get("/ledger/checkpoint")
    assert note.headers["Content-Type"].startswith("text/plain")
    cp = tv.parse_checkpoint(tv.note_body(note.text))
    assert cp.size == 300 and cp.root_hash == _mth(leaves)
    full = client.get("/ledger/tile/0/000")
    assert full.mimetype == "application/octet-stream" and "immutable" in full.headers[
        "Cache-Control"]
    assert full.data == b"".join(leaves[:256])
    assert client.get("/ledger/tile/0/001.p/44").data == b"".join(leaves[256:300])
    assert client.get("/ledger/tile/1/000.p/1").data == _mth(leaves[:256])
    bundle = client.get("/ledger/tile/entries/000").data
    assert bundle == b"".join(struct.pack(">H", len(e)) + e for e in entries[:256])
    partial = client.get("/ledger/tile/entries/001.p/44").data
    assert partial == b"".join(struct.pack(">H", len(e)) + e for e in entries[256:])
    # Tiles the signed tree does not have, and malformed paths, are not there.
    for path in ("0/001", "0/001.p/45", "1/000", "2/000.p/1", "0/1", "0/x000/000",
                 "entries/002", "0/000.p/256", "0/000.p/07"):
        assert client.get(f"/ledger/tile/{path}").status_code == 404, path


def test_mirror_copies_verifies_and_serves_as_a_proof_source(app, client, runner, served,
                                                             tmp_path, attesters):
    _append(app, 260)
    folder = tmp_path / "mirror"
    result = runner.invoke(args=["ledger", "mirror", f"{served}/ledger", str(folder)])
    assert result.exit_code == 0, result.output
    assert "260 entries verified" in result.output
    assert (folder / "tile/0/000").read_bytes() == client.get("/ledger/tile/0/000").data
    # A proof for entry 3, checked against the mirror (folder and URL alike).
    with app.app_context():
        conn = db.session.connection()
        bundle = store.proof_bundle(conn, 3, store.published_keys(conn), size=10)
    proof = tmp_path / "proof.json"
    proof.write_text(json.dumps(bundle))
    key = ["--key", attesters.log_vkey]
    assert tv.main([str(proof), *key, "--mirror", str(folder)]) == 0
    assert tv.main([str(proof), *key, "--mirror", f"{served}/ledger"]) == 0
    # More entries: the second copy fetches only what changed and checks consistency.
    _append(app, 20, start=260)
    result = runner.invoke(args=["ledger", "mirror", f"{served}/ledger", str(folder)])
    assert result.exit_code == 0, result.output
    assert "280 entries verified (previous copy 260)" in result.output
    assert "2 kept" in result.output  # the full tile and entry bundle 0 never change
    # A mirror serving one wrong hash cannot make a proof pass.
    tile = bytearray((folder / "tile/0/000").read_bytes())
    tile[5 * 32] ^= 0x01
    (folder / "tile/0/000").write_bytes(bytes(tile))
    assert tv.main([str(proof), *key, "--mirror", str(folder)]) == 1
    # Nor does a tampered copy pass `ledger mirror`'s checks when it is used again.
    bundle_path = folder / "tile/entries/000"
    data = bytearray(bundle_path.read_bytes())
    data[10] ^= 0x01
    bundle_path.write_bytes(bytes(data))
    _append(app, 1, start=280)
    result = runner.invoke(args=["ledger", "mirror", f"{served}/ledger", str(folder)])
    assert result.exit_code != 0 and "not updated" in result.output
