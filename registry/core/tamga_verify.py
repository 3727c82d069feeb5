"""tamga-verify: check a Tamga certificate offline, with no server and no database.

This one file is the single implementation of every verification primitive the
registry uses (RFC 9162 Merkle proofs, C2SP signed notes and checkpoints, the
``tamga-proof/1`` bundle and the certificate PDF signature). It imports only
the standard library, ``cryptography`` and ``pypdf`` so that it keeps working
when copied alone::

    pip install cryptography pypdf
    python tamga_verify.py CERTIFICATE.pdf [--file ORIGINAL] [--key PUBLIC_KEY]...
    python tamga_verify.py EVIDENCE.zip [--recompute] [--key PUBLIC_KEY]...

Exit status 0 means every check held; 1 means at least one failed; 2 means the
input could not be read at all.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import hashlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "Check",
    "Checkpoint",
    "NoteError",
    "ProofError",
    "VerifierKey",
    "encode_verifier_key",
    "extract_proof",
    "key_id",
    "leaf_hash",
    "main",
    "node_hash",
    "note_body",
    "parse_checkpoint",
    "parse_verifier_key",
    "canonical_zip",
    "verify_certificate",
    "verify_consistency",
    "verify_evidence_bundle",
    "verify_inclusion",
    "verify_note",
    "verify_pdf_signature",
    "verify_proof_bundle",
]

HASH_SIZE = 32
ED25519_ALG = 0x01
EM_DASH = "\u2014"
PROOF_FORMAT = "tamga-proof/1"
PROOF_ATTACHMENT = "tamga-proof.json"
PDF_SIGNATURE_TAG = b"%TAMGA-SIGNATURE "
MAX_NOTE_SIGNATURES = 100


class ProofError(ValueError):
    """A Merkle inclusion or consistency proof does not verify."""


class NoteError(ValueError):
    """A signed note, verifier key or checkpoint is malformed or not validly signed."""


# --------------------------------------------------------------------------- RFC 9162 hashing


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def _shift_until_lsb_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while fn & 1 == 0 and fn != 0:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an inclusion proof (RFC 9162 §2.1.3.2); raise ProofError if it fails."""
    _check_hash(leaf, "leaf hash")
    _check_hash(root, "root hash")
    if index < 0 or index >= tree_size:
        raise ProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        _check_hash(p, "proof element")
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_until_lsb_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root hash")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check a consistency proof (RFC 9162 §2.1.4.2); raise ProofError if it fails.

    RFC 9162 defines consistency only for ``0 < size1 <= size2``; a proof from the
    empty tree proves nothing, so it is refused like the transparency-dev vectors do.
    """
    if size1 <= 0 or size2 < size1:
        raise ProofError(f"no consistency proof exists from size {size1} to size {size2}")
    if size1 == size2:
        if proof:
            raise ProofError("sizes are equal but the proof is not empty")
        if root1 != root2:
            raise ProofError("sizes are equal but the roots differ")
        return
    _check_hash(root1, "first root")
    _check_hash(root2, "second root")
    if not proof:
        raise ProofError("consistency proof is empty")
    for p in proof:
        _check_hash(p, "proof element")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            fn, sn = _shift_until_lsb_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the first root")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the second root")


# --------------------------------------------------------------------------- C2SP signed notes


def key_id(name: str, public_key: bytes) -> bytes:
    """C2SP signed-note key ID: first 4 bytes of SHA-256(name || 0x0A || 0x01 || key)."""
    data = name.encode("utf-8") + b"\n" + bytes([ED25519_ALG]) + public_key
    return hashlib.sha256(data).digest()[:4]


def _valid_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


@dataclass(frozen=True)
class VerifierKey:
    """A parsed Ed25519 note verifier key."""

    name: str
    key_id: bytes
    public_key: bytes

    @functools.cached_property
    def _ed25519(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._ed25519.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def encode_verifier_key(name: str, public_key: bytes) -> str:
    """The note verifier key string ``name+hex8(keyid)+base64(0x01 || public key)``."""
    if not _valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}")
    if len(public_key) != 32:
        raise NoteError("an Ed25519 public key has 32 bytes")
    blob = base64.b64encode(bytes([ED25519_ALG]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{blob}"


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("invalid base64") from exc


def parse_verifier_key(vkey: str) -> VerifierKey:
    """Parse ``name+hex8+base64`` and check that the key ID matches the key."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key has the form name+keyid+key")
    name, hex_id, blob = parts
    if not _valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}")
    if len(hex_id) != 8 or hex_id != hex_id.lower():
        raise NoteError("the key ID is not 8 lowercase hexadecimal digits")
    try:
        kid = bytes.fromhex(hex_id)
    except ValueError as exc:
        raise NoteError("the key ID is not hexadecimal") from exc
    raw = _b64decode(blob)
    if len(raw) != 33 or raw[0] != ED25519_ALG:
        raise NoteError("only Ed25519 verifier keys (algorithm 0x01) are supported")
    if key_id(name, raw[1:]) != kid:
        raise NoteError("the key ID does not match the key")
    key = VerifierKey(name, kid, raw[1:])
    try:
        key._ed25519  # noqa: B018 - decodes the point once, refusing invalid keys here
    except ValueError as exc:
        raise NoteError("the public key is not a valid Ed25519 key") from exc
    return key


def _as_verifier_keys(keys: Iterable[str | VerifierKey]) -> list[VerifierKey]:
    return [k if isinstance(k, VerifierKey) else parse_verifier_key(k) for k in keys]


def _split_note(text: str) -> tuple[str, list[str]]:
    if "\r" in text:
        raise NoteError("a note must not contain carriage returns")
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise NoteError("a note is a text, a blank line and signature lines")
    body, sig_block = text[: split + 1], text[split + 2 :]
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_NOTE_SIGNATURES:
        raise NoteError("too many signatures")
    return body, lines


def note_body(text: str) -> str:
    """The text of a signed note without its signatures (nothing is verified)."""
    return _split_note(text)[0]


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    prefix = EM_DASH + " "
    if not line.startswith(prefix):
        raise NoteError("a signature line starts with an em dash and a space")
    name, _, blob = line[len(prefix) :].partition(" ")
    if not _valid_key_name(name) or not blob:
        raise NoteError("malformed signature line")
    raw = _b64decode(blob)
    if len(raw) < 5:
        raise NoteError("signature is too short")
    return name, raw[:4], raw[4:]


def verify_note(text: str, verifier_keys: Iterable[str | VerifierKey]) -> tuple[str, list[str]]:
    """Verify a C2SP signed note; return its body and the names of the keys that signed it.

    Signatures by unknown keys are ignored, as the spec asks. A signature by a
    known key that does not verify, or no signature by any known key, raises
    NoteError: the caller never gets an unverified body.
    """
    known = _as_verifier_keys(verifier_keys)
    body, lines = _split_note(text)
    message = body.encode("utf-8")
    verified: list[str] = []
    for line in lines:
        name, kid, sig = _parse_signature_line(line)
        for key in known:
            if key.name == name and key.key_id == kid:
                if not key.verify(message, sig):
                    raise NoteError(f"invalid signature by key {name}")
                if name not in verified:
                    verified.append(name)
    if not verified:
        raise NoteError("no signature by a known key")
    return body, verified


class Checkpoint(NamedTuple):
    """A parsed C2SP tlog-checkpoint body."""

    origin: str
    size: int
    root_hash: bytes
    extensions: list[str]


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint body: origin, decimal size, base64 root, optional extension lines."""
    if not body.endswith("\n"):
        raise NoteError("a checkpoint ends with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a size and a root hash")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteError("the checkpoint origin is empty")
    if (
        not size_text.isascii()
        or not size_text.isdigit()
        or (len(size_text) > 1 and size_text[0] == "0")
    ):
        raise NoteError("the checkpoint size is not a decimal number")
    root = _b64decode(root_text)
    if len(root) != HASH_SIZE:
        raise NoteError("the checkpoint root hash is not 32 bytes")
    if any(not line for line in extensions):
        raise NoteError("empty extension line in checkpoint")
    return Checkpoint(origin, int(size_text), root, extensions)


# --------------------------------------------------------------------------- proof bundles


class Check(NamedTuple):
    """One verification step: a short name, whether it held, and what was found.

    ``warning`` marks a step that held but deserves attention (for instance a
    signature checked only against keys the certificate itself carries).
    """

    name: str
    ok: bool
    detail: str
    warning: bool = False


@dataclass(frozen=True)
class _Bundle:
    entry: bytes
    leaf_index: int
    tree_size: int
    proof: list[bytes]
    checkpoint: str
    embedded_keys: list[str]


def _decode_bundle(bundle: dict[str, Any]) -> _Bundle:
    if not isinstance(bundle, dict) or bundle.get("format") != PROOF_FORMAT:
        raise ValueError(f"not a {PROOF_FORMAT} proof bundle")
    try:
        entry = base64.b64decode(bundle["entry"], validate=True)
        proof = [base64.b64decode(h, validate=True) for h in bundle["inclusion_proof"]]
        leaf_index, tree_size = bundle["leaf_index"], bundle["tree_size"]
        checkpoint = bundle["checkpoint"]
        keys = [k["vkey"] for k in bundle.get("public_keys", [])]
    except (KeyError, TypeError, binascii.Error) as exc:
        raise ValueError(f"malformed proof bundle: {exc}") from exc
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (leaf_index, tree_size)):
        raise ValueError("leaf_index and tree_size must be integers")
    if not isinstance(checkpoint, str) or not all(isinstance(k, str) for k in keys):
        raise ValueError("checkpoint and keys must be text")
    return _Bundle(entry, leaf_index, tree_size, proof, checkpoint, keys)


def _select_keys(
    trusted: Sequence[str] | None, embedded: Sequence[str]
) -> tuple[list[VerifierKey], bool]:
    """The keys to verify with, and whether they are trusted (given by the user)."""
    if trusted:
        return _as_verifier_keys(trusted), True
    usable = []
    for vkey in embedded:
        try:
            usable.append(parse_verifier_key(vkey))
        except NoteError:
            continue
    return usable, False


def _check_checkpoint_signature(b: _Bundle, keys: list[VerifierKey], trusted: bool) -> Check:
    name = "checkpoint signature"
    try:
        _, signers = verify_note(b.checkpoint, keys)
    except NoteError as exc:
        return Check(name, False, f"not valid: {exc}")
    who = ", ".join(signers)
    if trusted:
        return Check(name, True, f"valid, signed by {who} (a key you supplied)")
    return Check(
        name,
        True,
        f"valid, signed by {who}, but only against the keys the certificate itself "
        "carries; pass --key with the registry's published key to trust it",
        warning=True,
    )


def _check_checkpoint_body(b: _Bundle) -> tuple[Check, Checkpoint | None]:
    name = "checkpoint"
    try:
        body, _ = _split_note(b.checkpoint)
        cp = parse_checkpoint(body)
    except NoteError as exc:
        return Check(name, False, f"cannot be read: {exc}"), None
    if cp.size != b.tree_size:
        return Check(name, False, f"tree size {cp.size} differs from the proof's {b.tree_size}"), cp
    root = base64.b64encode(cp.root_hash).decode()
    return Check(name, True, f"{cp.origin}: tree size {cp.size}, root {root}"), cp


def _check_inclusion(b: _Bundle, cp: Checkpoint | None) -> Check:
    name = "ledger inclusion"
    if cp is None:
        return Check(name, False, "no readable checkpoint to check against")
    try:
        verify_inclusion(leaf_hash(b.entry), b.leaf_index, b.tree_size, b.proof, cp.root_hash)
    except ProofError as exc:
        return Check(name, False, f"entry {b.leaf_index} is not in the checkpoint: {exc}")
    return Check(name, True, f"entry {b.leaf_index} is included in the tree of size {cp.size}")


def _entry_summary(entry: dict[str, Any]) -> str:
    parts = [str(entry.get(k)) for k in ("kind", "registration_number", "at") if entry.get(k)]
    return " ".join(parts)


def _check_file_hash(entry: dict[str, Any] | None, file_sha256: str) -> Check:
    name = "file hash"
    files = entry.get("files") if isinstance(entry, dict) else None
    if not isinstance(files, list):
        return Check(name, False, "the ledger entry lists no files")
    wanted = file_sha256.lower()
    for item in files:
        if isinstance(item, dict) and str(item.get("sha256", "")).lower() == wanted:
            role = item.get("role", "file")
            return Check(name, True, f"SHA-256 {wanted} equals the registered {role} file")
    return Check(name, False, f"SHA-256 {wanted} is not among the registered files")


def verify_proof_bundle(
    bundle: dict[str, Any],
    trusted_vkeys: list[str] | None,
    *,
    file_sha256: str | None = None,
) -> list[Check]:
    """Run every check on a ``tamga-proof/1`` bundle and return them in order.

    With ``trusted_vkeys`` the checkpoint must be signed by one of them; without,
    the bundle's own ``public_keys`` are used and the signature check carries a
    warning, since a forger could embed a key of their own.
    """
    try:
        b = _decode_bundle(bundle)
    except ValueError as exc:
        return [Check("proof format", False, str(exc))]
    try:
        entry = json.loads(b.entry.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        entry = None
        entry_check = Check("ledger entry", False, f"not JSON: {exc}")
    else:
        if isinstance(entry, dict) and entry.get("kind"):
            entry_check = Check("ledger entry", True, _entry_summary(entry))
        else:
            entry, entry_check = None, Check("ledger entry", False, "not a ledger entry object")
    keys, trusted = _select_keys(trusted_vkeys, b.embedded_keys)
    checks = [entry_check, _check_checkpoint_signature(b, keys, trusted)]
    body_check, cp = _check_checkpoint_body(b)
    checks += [body_check, _check_inclusion(b, cp)]
    if file_sha256 is not None:
        checks.append(_check_file_hash(entry, file_sha256))
    return checks


# --------------------------------------------------------------------------- certificate PDFs


def split_pdf_signature(pdf_bytes: bytes) -> tuple[bytes, bytes | None]:
    """Split a signed PDF into (signed part, signature line without newline).

    The signature line is the file's last line; if there is none the second
    item is None and the first is the whole file.
    """
    if not pdf_bytes.endswith(b"\n"):
        return pdf_bytes, None
    start = pdf_bytes.rfind(b"\n", 0, len(pdf_bytes) - 1) + 1
    line = pdf_bytes[start:-1]
    if not line.startswith(PDF_SIGNATURE_TAG):
        return pdf_bytes, None
    return pdf_bytes[:start], line


def verify_pdf_signature(pdf_bytes: bytes, vkeys: Iterable[str | VerifierKey]) -> Check:
    """Check the registry's Ed25519 signature over every byte before the last line."""
    name = "certificate signature"
    signed, line = split_pdf_signature(pdf_bytes)
    if line is None:
        return Check(name, False, "the PDF carries no Tamga signature line")
    if not (signed.endswith(b"%%EOF\n") or signed.endswith(b"%%EOF\r\n")):
        return Check(name, False, "the signature line does not follow the end of the PDF")
    try:
        key_name, _, blob = line[len(PDF_SIGNATURE_TAG) :].decode("ascii").partition(" ")
        raw = _b64decode(blob)
        keys = _as_verifier_keys(vkeys)
    except (UnicodeDecodeError, NoteError) as exc:
        return Check(name, False, f"malformed signature line: {exc}")
    for key in keys:
        if key.name == key_name and key.key_id == raw[:4]:
            if key.verify(signed, raw[4:]):
                return Check(name, True, f"valid, the whole PDF is signed by {key_name}")
            return Check(name, False, f"the PDF was changed after {key_name} signed it")
    return Check(name, False, f"signed by {key_name!r}, which is not among the keys checked")


def extract_proof(pdf_bytes: bytes) -> dict[str, Any]:
    """Read the embedded ``tamga-proof.json`` from a certificate PDF."""
    from pypdf import PdfReader

    signed, _ = split_pdf_signature(pdf_bytes)
    try:
        attachments = PdfReader(io.BytesIO(signed)).attachments
        contents = attachments.get(PROOF_ATTACHMENT)
    except Exception as exc:  # a damaged PDF can make pypdf raise almost anything
        raise ValueError(f"cannot read the PDF: {exc}") from exc
    if not contents:
        raise ValueError(f"the PDF has no embedded {PROOF_ATTACHMENT}")
    try:
        bundle = json.loads(contents[0].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{PROOF_ATTACHMENT} is not JSON: {exc}") from exc
    if not isinstance(bundle, dict):
        raise ValueError(f"{PROOF_ATTACHMENT} is not a JSON object")
    return bundle


def _pdf_keys(trusted: Sequence[str] | None, bundle: dict[str, Any] | None) -> list[str]:
    if trusted:
        return list(trusted)
    if not bundle:
        return []
    return [k["vkey"] for k in bundle.get("public_keys", []) if isinstance(k, dict) and "vkey" in k]


def verify_certificate(
    pdf_bytes: bytes, trusted_vkeys: list[str] | None, *, file_sha256: str | None = None
) -> list[Check]:
    """All checks on a certificate PDF: its own signature, then its embedded proof."""
    try:
        bundle: dict[str, Any] | None = extract_proof(pdf_bytes)
    except ValueError as exc:
        bundle, proof_error = None, str(exc)
    sig = verify_pdf_signature(pdf_bytes, _pdf_keys(trusted_vkeys, bundle))
    if sig.ok and not trusted_vkeys:
        sig = sig._replace(
            detail=sig.detail + " (a key the certificate carries itself)", warning=True
        )
    if bundle is None:
        return [sig, Check("embedded proof", False, proof_error)]
    return [sig, *verify_proof_bundle(bundle, trusted_vkeys, file_sha256=file_sha256)]


def verify_bundle_json(
    data: bytes, trusted_vkeys: list[str] | None, *, file_sha256: str | None = None
) -> list[Check]:
    """Checks on a bare ``tamga-proof.json`` (as served by the registry's API)."""
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Check("proof format", False, f"not JSON: {exc}")]
    return verify_proof_bundle(bundle, trusted_vkeys, file_sha256=file_sha256)


# --------------------------------------------------------------------------- evidence bundles

EVIDENCE_FORMAT = "tamga-evidence/1"
FINGERPRINTS_FORMAT = "tamga-fingerprints/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.json.sig"
FINGERPRINTS_NAME = "fingerprints.json"
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
AUDIO_FP_MAGIC = b"TAF1"
AUDIO_FP_HEADER = "<4sIfH2x"  # magic, item count, duration (float32), speed * 10000


def canonical_zip(members: dict[str, bytes]) -> bytes:
    """The one byte layout of a bundle: names sorted, stored uncompressed, fixed times.

    Storing without compression makes the archive a pure function of its
    members, so the verifier rebuilds it and compares every byte.
    """
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name])
    return out.getvalue()


def manifest_signature_line(key_name: str, key_id_bytes: bytes, signature: bytes) -> bytes:
    """``manifest.json.sig``: ``<key name> <base64(key id || Ed25519 signature)>`` and a newline."""
    blob = base64.b64encode(key_id_bytes + signature).decode("ascii")
    return f"{key_name} {blob}\n".encode("ascii")


def _read_zip(data: bytes) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        if len(set(names)) != len(names):
            raise ValueError("the archive holds two members with the same name")
        return {name: archive.read(name) for name in names}  # read() checks each CRC


def _check_archive(data: bytes) -> tuple[Check, dict[str, bytes] | None]:
    name = "bundle archive"
    try:
        members = _read_zip(data)
    except Exception as exc:  # zipfile raises several types on damaged archives
        return Check(name, False, f"not a readable ZIP: {exc}"), None
    if canonical_zip(members) != data:
        return Check(
            name,
            False,
            "the archive's bytes differ from its canonical layout "
            "(something outside the files was changed)",
        ), members
    return Check(name, True, f"{len(members)} files, canonical layout"), members


def _load_manifest(members: dict[str, bytes]) -> dict[str, Any]:
    raw = members.get(MANIFEST_NAME)
    if raw is None:
        raise ValueError(f"the bundle has no {MANIFEST_NAME}")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{MANIFEST_NAME} is not JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != EVIDENCE_FORMAT:
        raise ValueError(f"{MANIFEST_NAME} is not a {EVIDENCE_FORMAT} manifest")
    return manifest


def _manifest_keys(manifest: dict[str, Any]) -> list[str]:
    keys = manifest.get("public_keys", [])
    return [k["vkey"] for k in keys if isinstance(k, dict) and isinstance(k.get("vkey"), str)]


def _check_manifest_signature(
    members: dict[str, bytes], keys: list[VerifierKey], trusted: bool
) -> Check:
    name = "manifest signature"
    line = members.get(SIGNATURE_NAME)
    if line is None:
        return Check(name, False, f"the bundle has no {SIGNATURE_NAME}")
    try:
        key_name, _, blob = line.decode("ascii").rstrip("\n").partition(" ")
        raw = _b64decode(blob)
    except (UnicodeDecodeError, NoteError) as exc:
        return Check(name, False, f"malformed signature: {exc}")
    for key in keys:
        if key.name == key_name and key.key_id == raw[:4]:
            if not key.verify(members[MANIFEST_NAME], raw[4:]):
                return Check(name, False, f"{MANIFEST_NAME} was changed after {key_name} signed it")
            if trusted:
                return Check(name, True, f"valid, signed by {key_name} (a key you supplied)")
            return Check(
                name,
                True,
                f"valid, signed by {key_name}, a key the bundle carries "
                "itself; pass --key with the registry's published key to trust it",
                warning=True,
            )
    return Check(name, False, f"signed by {key_name!r}, which is not among the keys checked")


def _check_files(manifest: dict[str, Any], members: dict[str, bytes]) -> list[Check]:
    listed = manifest.get("files")
    if not isinstance(listed, list):
        return [Check("files", False, "the manifest lists no files")]
    checks: list[Check] = []
    seen = {MANIFEST_NAME, SIGNATURE_NAME}
    for item in listed:
        fname = item.get("name") if isinstance(item, dict) else None
        if not isinstance(fname, str):
            checks.append(Check("file", False, "a manifest file entry has no name"))
            continue
        seen.add(fname)
        data = members.get(fname)
        if data is None:
            checks.append(Check(f"file {fname}", False, "listed in the manifest but missing"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        ok = digest == item.get("sha256") and len(data) == item.get("size")
        detail = f"SHA-256 {digest}, {len(data)} bytes"
        checks.append(Check(f"file {fname}", ok, detail if ok else detail + ", not as listed"))
    checks += [
        Check(f"file {n}", False, "present but not listed in the manifest")
        for n in sorted(set(members) - seen)
    ]
    return checks


def _b64_list(values: Any) -> list[bytes]:
    if not isinstance(values, list):
        raise ValueError("a proof is a list of base64 hashes")
    return [base64.b64decode(v, validate=True) for v in values]


def _signed_checkpoint(note: Any, keys: list[VerifierKey], what: str) -> tuple[Check, Any]:
    if not isinstance(note, str):
        return Check(what, False, "missing"), None
    try:
        body, signers = verify_note(note, keys)
        cp = parse_checkpoint(body)
    except NoteError as exc:
        return Check(what, False, f"not valid: {exc}"), None
    root = base64.b64encode(cp.root_hash).decode()
    return Check(
        what, True, f"signed by {', '.join(signers)}: tree size {cp.size}, root {root}"
    ), cp


def _check_entry(item: Any, cp: Checkpoint) -> Check:
    try:
        entry = base64.b64decode(item["entry"], validate=True)
        index = item["leaf_index"]
        verify_inclusion(
            leaf_hash(entry), index, cp.size, _b64_list(item["inclusion_proof"]), cp.root_hash
        )
        summary = _entry_summary(json.loads(entry.decode("utf-8")))
    except (KeyError, TypeError, ValueError, ProofError) as exc:
        return Check("ledger entry", False, f"does not verify: {exc}")
    return Check(
        f"ledger entry {index}", True, f"{summary}: included in the tree of size {cp.size}"
    )


def _check_ledger(manifest: dict[str, Any], keys: list[VerifierKey]) -> list[Check]:
    ledger = manifest.get("ledger")
    if not isinstance(ledger, dict) or not ledger:
        return [Check("ledger", False, "the manifest has no ledger section")]
    first, cp = _signed_checkpoint(ledger.get("checkpoint"), keys, "checkpoint")
    last, latest = _signed_checkpoint(ledger.get("latest_checkpoint"), keys, "latest checkpoint")
    checks = [first, last]
    entries = ledger.get("entries")
    if cp is None or not isinstance(entries, list) or not entries:
        return checks + [Check("ledger entries", False, "no entries to check")]
    checks += [_check_entry(item, cp) for item in entries]
    if latest is not None:
        try:
            proof = _b64_list(ledger.get("consistency_proof"))
            verify_consistency(cp.size, latest.size, proof, cp.root_hash, latest.root_hash)
            checks.append(
                Check(
                    "consistency",
                    True,
                    f"the tree of size {cp.size} is a prefix "
                    f"of the latest tree of size {latest.size}",
                )
            )
        except (ValueError, ProofError) as exc:
            checks.append(Check("consistency", False, f"does not verify: {exc}"))
    return checks


def _check_pdfs(members: dict[str, bytes], keys: list[VerifierKey]) -> list[Check]:
    checks = []
    for fname in sorted(n for n in members if n.lower().endswith(".pdf")):
        check = verify_pdf_signature(members[fname], keys)
        checks.append(check._replace(name=f"{fname} signature"))
    return checks


def _ledger_entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in (manifest.get("ledger") or {}).get("entries") or []:
        try:
            entry = json.loads(base64.b64decode(item["entry"], validate=True).decode("utf-8"))
        except (KeyError, TypeError, ValueError):
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def _check_named_file(manifest: dict[str, Any], file_sha256: str) -> Check:
    for entry in _ledger_entries(manifest):
        if entry.get("kind") == "work.registered":
            check = _check_file_hash(entry, file_sha256)
            if check.ok:
                number = entry.get("registration_number")
                return check._replace(detail=f"{check.detail} of {number}")
    return Check(
        "file hash",
        False,
        f"SHA-256 {file_sha256.lower()} is not a registered file of any work in the bundle",
    )


# -- recomputing the comparison from the fingerprints ---------------------------------


def _popcount(value: int) -> int:
    return bin(value).count("1")


def audio_bit_errors(
    query: Sequence[int], work: Sequence[int], segments: Iterable[dict[str, Any]]
) -> tuple[int, int]:
    """(differing bits, compared bits) of the query items against the work's, shifted
    by each segment's ``offset_items`` over ``[query_start_item, query_end_item)``."""
    errors = compared = 0
    for seg in segments:
        start, end, offset = seg["query_start_item"], seg["query_end_item"], seg["offset_items"]
        if not (
            0 <= start < end <= len(query) and 0 <= start + offset and end + offset <= len(work)
        ):
            raise ValueError(f"segment {start}..{end} at offset {offset} lies outside the items")
        for i in range(start, end):
            errors += _popcount((query[i] ^ work[i + offset]) & 0xFFFFFFFF)
        compared += 32 * (end - start)
    return errors, compared


def audio_fingerprint_digest(items: Sequence[int], duration_s: float, speed: float = 1.0) -> str:
    """SHA-256 of Tamga's binary fingerprint form, as quoted in the ledger entry."""
    import struct

    header = struct.pack(
        AUDIO_FP_HEADER, AUDIO_FP_MAGIC, len(items), float(duration_s), round(speed * 10000)
    )
    body = struct.pack(f"<{len(items)}I", *items)
    return hashlib.sha256(header + body).hexdigest()


def image_hashes_digest(hashes: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of registered image hashes, as in the ledger entry."""
    text = json.dumps(hashes, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def image_distances(a: dict[str, str], b: dict[str, str]) -> dict[str, int]:
    """Hamming distances of the pHash, dHash and wHash (hex strings) of two windows."""
    return {k: _popcount(int(a[k], 16) ^ int(b[k], 16)) for k in ("phash", "dhash", "whash")}


def _registered_digests(manifest: dict[str, Any]) -> dict[str, str]:
    out = {}
    for entry in _ledger_entries(manifest):
        fp = entry.get("fingerprint")
        if entry.get("kind") == "work.registered" and isinstance(fp, dict):
            out[str(entry.get("registration_number"))] = str(fp.get("digest"))
    return out


def _side_digest_check(side: dict[str, Any], digest: str, registered: dict[str, str]) -> Check:
    number = side.get("registration_number")
    what = f"fingerprint of {number}"
    if number not in registered:
        return Check(what, False, "no registration entry of this work in the bundle")
    if registered[number] != digest:
        return Check(what, False, "differs from the fingerprint recorded in the ledger")
    return Check(what, True, f"equals the ledger's fingerprint digest {digest[:16]}…")


def _recompute_audio(audio: dict[str, Any], registered: dict[str, str]) -> list[Check]:
    q, w = audio["query"], audio["work"]
    checks = []
    for side in (q, w):
        if side.get("registration_number"):
            digest = audio_fingerprint_digest(
                side["items"], side["duration_s"], side.get("speed", 1.0)
            )
            checks.append(_side_digest_check(side, digest, registered))
    errors, compared = audio_bit_errors(q["items"], w["items"], audio["segments"])
    ber = errors / compared if compared else 1.0
    similarity = round(max(0.0, 1.0 - 2.0 * ber), 4)
    ok = abs(round(ber, 4) - audio["bit_error_rate"]) < 1e-9 and similarity == audio["similarity"]
    detail = (
        f"{errors} of {compared} bits differ over {len(audio['segments'])} segment(s): "
        f"bit error rate {ber:.4f}, similarity {similarity:.4f}"
    )
    checks.append(Check("audio similarity", ok, detail if ok else detail + ", not as stated"))
    return checks


def _recompute_image(image: dict[str, Any], registered: dict[str, str]) -> list[Check]:
    checks = []
    for side in (image["query"], image["work"]):
        if side.get("registration_number"):
            checks.append(_side_digest_check(side, image_hashes_digest(side["hashes"]), registered))
    pair = image["pair"]
    q_hash = _image_window(image["query"], pair["query_window"])
    w_hash = _image_window(image["work"], pair["work_window"])
    distances = image_distances(q_hash, w_hash)
    ok = distances == pair["distances"]
    detail = ", ".join(f"{k} {v}" for k, v in sorted(distances.items()))
    detail = f"{pair['query_window']} against {pair['work_window']}: Hamming {detail}"
    checks.append(Check("image distances", ok, detail if ok else detail + ", not as stated"))
    return checks


def _image_window(side: dict[str, Any], window: str) -> dict[str, str]:
    if "hashes" in side:
        return side["hashes"]["windows"][window]
    return next(v["hashes"] for v in side["variants"] if v["name"] == window)


def recompute_checks(manifest: dict[str, Any], members: dict[str, bytes]) -> list[Check]:
    """Recompute the similarity from ``fingerprints.json`` with no Tamga code at all."""
    raw = members.get(FINGERPRINTS_NAME)
    if raw is None:
        return [Check("recompute", False, f"the bundle has no {FINGERPRINTS_NAME}")]
    try:
        prints = json.loads(raw.decode("utf-8"))
        if prints.get("format") != FINGERPRINTS_FORMAT:
            raise ValueError(f"not {FINGERPRINTS_FORMAT}")
        registered = _registered_digests(manifest)
        checks: list[Check] = []
        if prints.get("audio"):
            checks += _recompute_audio(prints["audio"], registered)
        if prints.get("image"):
            checks += _recompute_image(prints["image"], registered)
        for side in prints.get("works", []):
            digest = (
                audio_fingerprint_digest(side["items"], side["duration_s"])
                if "items" in side
                else image_hashes_digest(side["hashes"])
            )
            checks.append(_side_digest_check(side, digest, registered))
    except (AttributeError, KeyError, TypeError, ValueError, StopIteration) as exc:
        return [Check("recompute", False, f"{FINGERPRINTS_NAME} cannot be used: {exc!r}")]
    return checks or [Check("recompute", False, "no comparison or fingerprint to recompute")]


def verify_evidence_bundle(
    data: bytes,
    trusted_vkeys: list[str] | None,
    *,
    file_sha256: str | None = None,
    recompute: bool = False,
) -> list[Check]:
    """Every check on a ``tamga-evidence/1`` ZIP: the archive, the manifest signature,
    each file's hash and size, the ledger entries' inclusion proofs, the checkpoints'
    signatures and their consistency, the PDFs' signatures, and (``recompute``) the
    similarity recomputed from the fingerprints."""
    archive, members = _check_archive(data)
    if members is None:
        return [archive]
    try:
        manifest = _load_manifest(members)
    except ValueError as exc:
        return [archive, Check("manifest", False, str(exc))]
    keys, trusted = _select_keys(trusted_vkeys, _manifest_keys(manifest))
    checks = [archive, _check_manifest_signature(members, keys, trusted)]
    checks += _check_files(manifest, members)
    checks += _check_ledger(manifest, keys)
    checks += _check_pdfs(members, keys)
    if file_sha256 is not None:
        checks.append(_check_named_file(manifest, file_sha256))
    if recompute:
        checks += recompute_checks(manifest, members)
    return checks


Verifier = Callable[..., list[Check]]
VERIFIERS: dict[str, Verifier] = {
    ".pdf": verify_certificate,
    ".json": verify_bundle_json,
    ".zip": verify_evidence_bundle,
}


# --------------------------------------------------------------------------- command line


def _read_keys(values: Sequence[str]) -> list[str]:
    """Each --key is a verifier key, or a file holding verifier keys one per line."""
    keys: list[str] = []
    for value in values:
        if os.path.isfile(value):
            with open(value, encoding="utf-8") as fh:
                keys += [ln.strip() for ln in fh if ln.strip() and not ln.startswith("#")]
        else:
            keys.append(value.strip())
    for key in keys:
        parse_verifier_key(key)
    return keys


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _print_checks(checks: Sequence[Check], out: Any) -> None:
    for check in checks:
        mark = "\u2714" if check.ok else "\u2718"
        note = " (warning)" if check.ok and check.warning else ""
        print(f"{mark} {check.name}{note}: {check.detail}", file=out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tamga-verify",
        description="Verify a Tamga certificate offline. Exit 0 only if every check holds.",
    )
    parser.add_argument(
        "document", help="certificate PDF, tamga-proof.json or evidence bundle (.zip)"
    )
    parser.add_argument("--file", help="the original file, to compare with the registered hash")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        help="the registry's public key (name+id+key) or a file of them; repeatable",
    )
    parser.add_argument(
        "--strict", action="store_true", help="treat warnings (e.g. no --key given) as failures"
    )
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="evidence bundles (.zip): recompute the similarity from fingerprints.json",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(errors="replace")  # ✔/✘ on a console that cannot show them
    ext = os.path.splitext(args.document)[1].lower()
    verifier = VERIFIERS.get(ext, verify_certificate)
    try:
        keys = _read_keys(args.key) or None
        with open(args.document, "rb") as fh:
            data = fh.read()
        file_sha = _sha256_file(args.file) if args.file else None
    except (OSError, NoteError) as exc:
        print(f"\u2718 cannot start: {exc}", file=out)
        return 2
    extra = {"recompute": args.recompute} if verifier is verify_evidence_bundle else {}
    checks = verifier(data, keys, file_sha256=file_sha, **extra)
    _print_checks(checks, out)
    ok = all(c.ok and not (args.strict and c.warning) for c in checks)
    print("RESULT: all checks passed" if ok else "RESULT: verification FAILED", file=out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
