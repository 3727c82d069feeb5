"""Certificate PDFs: embedded proof, whole-file signature, and the tamga-verify command."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfWriter
from sqlalchemy import Engine

from registry.core import verify_cli
from registry.core.errors import LedgerError
from registry.core.ledger import (
    KeyRing,
    append,
    load_or_create_keyring,
    proof_bundle,
    publish_keys,
    published_keys,
    sign_pdf,
)
from registry.core.ledger.store import LEDGER_TABLES
from registry.core.sql import metadata
from registry.core.tamga_verify import (
    PROOF_ATTACHMENT,
    extract_proof,
    main,
    verify_pdf_signature,
)

ORIGIN = "tamga.example/ledger"
ORIGINAL = "Менің әнім — қазақша мәтін.\n".encode() * 50


def make_pdf(bundle: dict[str, Any] | None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if bundle is not None:
        writer.add_attachment(PROOF_ATTACHMENT, json.dumps(bundle).encode("utf-8"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return load_or_create_keyring(tmp_path / "keys", now=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def bundle(core_engine: Engine, ring: KeyRing) -> Iterator[dict[str, Any]]:
    with core_engine.begin() as conn:
        metadata.drop_all(conn, tables=LEDGER_TABLES)
        metadata.create_all(conn, tables=LEDGER_TABLES)
        publish_keys(conn, ring)
    for i in range(6):
        data = ORIGINAL if i == 2 else b"other %d" % i
        entry = {
            "kind": "work.registered",
            "at": "2026-11-21T10:00:00Z",
            "files": [{"sha256": hashlib.sha256(data).hexdigest(), "role": "main"}],
        }
        with core_engine.begin() as conn:
            append(conn, entry, ring, ORIGIN)
    with core_engine.connect() as conn:
        made = proof_bundle(conn, 2, published_keys(conn))
    with core_engine.begin() as conn:
        metadata.drop_all(conn, tables=LEDGER_TABLES)
    yield made


@pytest.fixture
def certificate(bundle: dict[str, Any], ring: KeyRing, tmp_path: Path) -> Path:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(ring.sign_pdf(make_pdf(bundle)))
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    status = main([str(a) for a in args])
    return status, capsys.readouterr().out


def test_a_signed_certificate_verifies(
    certificate: Path, ring: KeyRing, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = _run(capsys, certificate, "--key", ring.current.vkey)
    assert status == 0, out
    lines = out.strip().splitlines()
    assert all(line.startswith("\u2714") for line in lines[:-1]), out
    assert "certificate signature" in out and "ledger inclusion" in out
    assert lines[-1] == "RESULT: all checks passed"


def test_the_signature_line_format(certificate: Path, ring: KeyRing) -> None:
    data = certificate.read_bytes()
    head, last = data[:-1].rsplit(b"\n", 1)
    assert head.endswith(b"%%EOF")
    assert last.startswith(b"%TAMGA-SIGNATURE " + ring.current.name.encode() + b" ")
    assert extract_proof(data)["leaf_index"] == 2
    assert verify_pdf_signature(data, ring.vkeys()).ok


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_one_changed_byte_in_the_pdf_fails(
    certificate: Path, ring: KeyRing, capsys: pytest.CaptureFixture[str], where: float
) -> None:
    data = bytearray(certificate.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    certificate.write_bytes(bytes(data))
    status, out = _run(capsys, certificate, "--key", ring.current.vkey)
    assert status == 1
    assert "\u2718 certificate signature" in out


def test_the_original_file_is_compared(
    certificate: Path, ring: KeyRing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = tmp_path / "song.txt"
    original.write_bytes(ORIGINAL)
    status, out = _run(capsys, certificate, "--file", original, "--key", ring.current.vkey)
    assert status == 0 and "\u2714 file hash" in out
    changed = bytearray(ORIGINAL)
    changed[len(changed) // 2] ^= 0x20
    original.write_bytes(bytes(changed))
    status, out = _run(capsys, certificate, "--file", original, "--key", ring.current.vkey)
    assert status == 1 and "\u2718 file hash" in out


def test_without_key_it_warns_and_strict_refuses(
    certificate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = _run(capsys, certificate)
    assert status == 0 and "(warning)" in out
    status, out = _run(capsys, certificate, "--strict")
    assert status == 1


def test_a_key_file_with_several_keys(
    certificate: Path, ring: KeyRing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = load_or_create_keyring(tmp_path / "other")
    keyfile = tmp_path / "tamga.pub"
    keyfile.write_text(f"# Tamga keys\n{other.current.vkey}\n{ring.current.vkey}\n")
    assert _run(capsys, certificate, "--key", keyfile)[0] == 0
    assert _run(capsys, certificate, "--key", other.current.vkey)[0] == 1


def test_a_forger_resigning_with_own_key_is_caught_by_the_trusted_key(
    bundle: dict[str, Any], ring: KeyRing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forger = load_or_create_keyring(tmp_path / "forger")
    forged = dict(bundle, public_keys=forger.public_info())
    path = tmp_path / "forged.pdf"
    path.write_bytes(forger.sign_pdf(make_pdf(forged)))
    status, out = _run(capsys, path, "--key", ring.current.vkey)
    assert status == 1 and "\u2718 certificate signature" in out


def test_unsigned_or_proofless_pdfs_fail(
    bundle: dict[str, Any], ring: KeyRing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(make_pdf(bundle))
    status, out = _run(capsys, unsigned, "--key", ring.current.vkey)
    assert status == 1 and "no Tamga signature" in out
    proofless = tmp_path / "proofless.pdf"
    proofless.write_bytes(ring.sign_pdf(make_pdf(None)))
    status, out = _run(capsys, proofless, "--key", ring.current.vkey)
    assert status == 1 and f"no embedded {PROOF_ATTACHMENT}" in out


def test_sign_pdf_refuses_to_sign_twice_or_a_non_pdf(certificate: Path, ring: KeyRing) -> None:
    key = ring.current
    with pytest.raises(LedgerError):
        sign_pdf(certificate.read_bytes(), key.name, key.private_key)
    with pytest.raises(LedgerError):
        sign_pdf(b"hello", key.name, key.private_key)


def test_other_inputs(
    bundle: dict[str, Any], ring: KeyRing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proof = tmp_path / "tamga-proof.json"
    proof.write_text(json.dumps(bundle))
    assert _run(capsys, proof, "--key", ring.current.vkey)[0] == 0
    evidence = tmp_path / "evidence.zip"
    evidence.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    status, out = _run(capsys, evidence)  # .zip goes to the evidence-bundle verifier
    assert status == 1 and "\u2718" in out and "certificate signature" not in out
    assert _run(capsys, tmp_path / "missing.pdf")[0] == 2
    assert _run(capsys, proof, "--key", "not-a-key")[0] == 2
    assert verify_cli.main is main
