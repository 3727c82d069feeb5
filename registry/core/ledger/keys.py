"""The registry's Ed25519 signing keys: load or create, rotate, sign notes and PDFs.

A key ring lives in one folder: ``keyring.json`` lists the keys (name,
validity period, seed file) and each private seed sits in its own file of mode
0600. The newest key (the one without ``valid_until``) signs; retired keys keep
their public half published so that old checkpoints and certificates still
verify. A deployment may instead provide the seed through the environment
(``signing_key_from_seed``), in which case nothing is written to disk.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.core.errors import LedgerError
from registry.core.tamga_verify import (
    EM_DASH,
    PDF_SIGNATURE_TAG,
    NoteError,
    encode_verifier_key,
    key_id,
    split_pdf_signature,
)

KEYRING_FILE = "keyring.json"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def seed_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class SigningKey:
    """One named Ed25519 key with its validity period (UTC)."""

    name: str
    private_key: Ed25519PrivateKey
    valid_from: datetime
    valid_until: datetime | None = None

    @property
    def public_key(self) -> bytes:
        return public_bytes(self.private_key)

    @property
    def vkey(self) -> str:
        return encode_verifier_key(self.name, self.public_key)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def public_info(self) -> dict[str, Any]:
        until = _rfc3339(self.valid_until) if self.valid_until else None
        return {
            "name": self.name,
            "vkey": self.vkey,
            "valid_from": _rfc3339(self.valid_from),
            "valid_until": until,
        }


def signing_key_from_seed(
    name: str, seed: bytes | str, valid_from: datetime | None = None
) -> SigningKey:
    """A key from a 32-byte seed, raw or base64 (e.g. from an environment variable)."""
    if isinstance(seed, str):
        try:
            seed = base64.b64decode(seed.strip(), validate=True)
        except binascii.Error as exc:
            raise LedgerError("the signing key seed is not base64") from exc
    if len(seed) != 32:
        raise LedgerError("an Ed25519 seed has 32 bytes")
    check_key_name(name)
    moment = valid_from or datetime(1970, 1, 1, tzinfo=UTC)
    return SigningKey(name, Ed25519PrivateKey.from_private_bytes(seed), moment)


def check_key_name(name: str) -> None:
    """Key names are non-empty, without spaces or '+' (they appear in notes and keys)."""
    try:
        encode_verifier_key(name, b"\0" * 32)
    except NoteError as exc:
        raise LedgerError(str(exc)) from exc


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """A C2SP signed note: the body, a blank line and one signature line."""
    if not body.endswith("\n"):
        raise LedgerError("a note body ends with a newline")
    pub = public_bytes(private_key)
    sig = private_key.sign(body.encode("utf-8"))
    blob = base64.b64encode(key_id(name, pub) + sig).decode("ascii")
    return f"{body}\n{EM_DASH} {name} {blob}\n"


def sign_pdf(pdf_bytes: bytes, name: str, private_key: Ed25519PrivateKey) -> bytes:
    """Append the last line ``%TAMGA-SIGNATURE <name> <base64(key id || signature)>``.

    The signature covers every byte before that line, which must end with
    ``%%EOF`` and a newline (one is added after a bare ``%%EOF``). A PDF that
    already carries a signature line is refused rather than signed twice.
    """
    if split_pdf_signature(pdf_bytes)[1] is not None:
        raise LedgerError("the PDF is already signed")
    if pdf_bytes.endswith(b"%%EOF"):
        pdf_bytes += b"\n"
    if not (pdf_bytes.endswith(b"%%EOF\n") or pdf_bytes.endswith(b"%%EOF\r\n")):
        raise LedgerError("the PDF does not end with %%EOF")
    pub = public_bytes(private_key)
    blob = base64.b64encode(key_id(name, pub) + private_key.sign(pdf_bytes))
    return pdf_bytes + PDF_SIGNATURE_TAG + name.encode("ascii") + b" " + blob + b"\n"


class KeyRing:
    """Several named keys; the newest unretired one signs, all stay published."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise LedgerError("a key ring needs at least one key")
        names = [k.name for k in keys]
        if len(set(names)) != len(names):
            raise LedgerError("key names in a key ring must be unique")
        self.keys = sorted(keys, key=lambda k: k.valid_from)

    @property
    def current(self) -> SigningKey:
        active = [k for k in self.keys if k.valid_until is None]
        if not active:
            raise LedgerError("every key in the key ring is retired")
        return active[-1]

    def vkeys(self) -> list[str]:
        return [k.vkey for k in self.keys]

    def public_info(self) -> list[dict[str, Any]]:
        return [k.public_info() for k in self.keys]

    def sign_note(self, body: str) -> str:
        key = self.current
        return sign_note(body, key.name, key.private_key)

    def sign_pdf(self, pdf_bytes: bytes) -> bytes:
        key = self.current
        return sign_pdf(pdf_bytes, key.name, key.private_key)


def _write_private(path: Path, data: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _write_manifest(folder: Path, keys: list[SigningKey]) -> None:
    manifest = [
        {
            **{k: v for k, v in key.public_info().items() if k != "vkey"},
            "seed_file": f"{key.name}.seed",
        }
        for key in keys
    ]
    tmp = folder / (KEYRING_FILE + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(folder / KEYRING_FILE)


def _new_key(folder: Path, name: str, now: datetime) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    check_key_name(name)
    key = SigningKey(name, private, now)
    _write_private(folder / f"{name}.seed", base64.b64encode(seed_bytes(private)).decode() + "\n")
    return key


def load_keyring(folder: Path) -> KeyRing:
    """Read a key ring folder; raise LedgerError if it is missing or damaged."""
    manifest_path = Path(folder) / KEYRING_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        keys = []
        for item in manifest:
            seed = (Path(folder) / item["seed_file"]).read_text(encoding="ascii")
            key = signing_key_from_seed(item["name"], seed, _parse_time(item["valid_from"]))
            keys.append(
                SigningKey(
                    key.name, key.private_key, key.valid_from, _parse_time(item.get("valid_until"))
                )
            )
    except (OSError, ValueError, KeyError, TypeError, LedgerError) as exc:
        raise LedgerError(f"cannot read the key ring in {folder}: {exc}") from exc
    return KeyRing(keys)


def default_key_name(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def load_or_create_keyring(
    folder: Path, prefix: str = "tamga", now: datetime | None = None
) -> KeyRing:
    """Load the key ring in ``folder``, generating a first key (mode 0600) if there is none."""
    folder = Path(folder)
    if (folder / KEYRING_FILE).exists():
        return load_keyring(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    key = _new_key(folder, default_key_name(prefix, now), now)
    _write_manifest(folder, [key])
    return KeyRing([key])


def rotate(folder: Path, prefix: str = "tamga", now: datetime | None = None) -> KeyRing:
    """Retire the current key at ``now`` and add a new one that signs from then on."""
    folder = Path(folder)
    ring = load_keyring(folder)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    if now <= ring.current.valid_from:
        raise LedgerError("a new key must start after the current one")
    new = _new_key(folder, default_key_name(prefix, now), now)
    keys = [
        SigningKey(k.name, k.private_key, k.valid_from, k.valid_until or now) for k in ring.keys
    ]
    _write_manifest(folder, [*keys, new])
    return KeyRing([*keys, new])
