"""tamga-verify: check a Tamga certificate offline, with no server and no database.

This one file is the single implementation of every verification primitive the
registry uses (RFC 9162 Merkle proofs, C2SP signed notes and checkpoints, the
``tamga-proof/1`` bundle and the certificate PDF signature). It imports only
the standard library, ``cryptography`` and ``pypdf`` so that it keeps working
when copied alone::

    pip install cryptography pypdf
    python tamga_verify.py CERTIFICATE.pdf [--file ORIGINAL] [--key PUBLIC_KEY]...
    python tamga_verify.py EVIDENCE.zip [--recompute] [--key PUBLIC_KEY]...
    python tamga_verify.py RECEIPT.json [--proof tamga-proof.json|CERTIFICATE.pdf] [--key K]
    python tamga_verify.py CERTIFICATE.pdf --witness-key VKEY --min-witnesses 2 \\
        --tsa-cert TSA-CA.pem --min-timestamps 2     # pip install rfc3161-client too

Exit status 0 means every check held; 1 means at least one failed; 2 means the
input could not be read at all.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import hashlib
import hmac
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
    "receipt_entry_mismatches",
    "receipt_signed_bytes",
    "verify_receipt",
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


def key_id(name: str, public_key: bytes, alg: int = ED25519_ALG) -> bytes:
    """C2SP signed-note key ID: first 4 bytes of SHA-256(name || 0x0A || alg || key).

    ``alg`` is 0x01 for Ed25519 note signatures, 0x04 for Ed25519 cosignature/v1.
    """
    data = name.encode("utf-8") + b"\n" + bytes([alg]) + public_key
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


def parse_verifier_key(vkey: str, alg: int = ED25519_ALG) -> VerifierKey:
    """Parse ``name+hex8+base64`` and check that the key ID matches the key.

    ``alg`` is the signature type byte the key must carry: 0x01 for a log's
    note key, 0x04 (``COSIGNATURE_ALG``) for a witness's cosignature key.
    """
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
    if len(raw) != 33 or raw[0] != alg:
        raise NoteError(f"only Ed25519 verifier keys (algorithm 0x{alg:02x}) are supported here")
    if key_id(name, raw[1:], alg) != kid:
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


# --------------------------------------------------------------------------- attestations
#
# Two kinds of evidence from outside the registry cover a checkpoint:
# C2SP tlog-cosignature/v1 lines by witnesses (in the checkpoint note itself) and
# RFC 3161 time-stamp responses over SHA-256 of the checkpoint body (the note's
# text without its signatures).

COSIGNATURE_ALG = 0x04
COSIGNATURE_HEADER = "cosignature/v1\n"


def parse_witness_key(vkey: str) -> VerifierKey:
    """A witness's cosignature/v1 verifier key (signature type 0x04)."""
    return parse_verifier_key(vkey, COSIGNATURE_ALG)


def encode_witness_key(name: str, public_key: bytes) -> str:
    """``name+hex8(keyid)+base64(0x04 || public key)``: a witness's verifier key."""
    if not _valid_key_name(name) or len(public_key) != 32:
        raise NoteError(f"invalid witness key {name!r}")
    blob = base64.b64encode(bytes([COSIGNATURE_ALG]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key, COSIGNATURE_ALG).hex()}+{blob}"


def cosignature_message(body: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header, time line and the whole checkpoint body."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{body}".encode()


class Cosignature(NamedTuple):
    """One checked cosignature line: the witness, its time, and whether it verified."""

    name: str
    timestamp: int
    ok: bool


def check_cosignatures(note: str, witness_keys: Iterable[str | VerifierKey]) -> list[Cosignature]:
    """Every cosignature line of ``note`` made by one of ``witness_keys``, checked.

    Lines by other keys (the log's own signature among them) are ignored.
    """
    keys = [k if isinstance(k, VerifierKey) else parse_witness_key(k) for k in witness_keys]
    body, lines = _split_note(note)
    found: list[Cosignature] = []
    for line in lines:
        name, kid, raw = _parse_signature_line(line)
        for key in keys:
            if key.name != name or key.key_id != kid:
                continue
            if len(raw) != 72:
                found.append(Cosignature(name, 0, False))
                continue
            stamp = int.from_bytes(raw[:8], "big")
            ok = stamp > 0 and key.verify(cosignature_message(body, stamp), raw[8:])
            found.append(Cosignature(name, stamp, ok))
    return found


def checkpoint_digest(note: str) -> bytes:
    """SHA-256 of a checkpoint's body: the message an RFC 3161 time-stamp covers."""
    return hashlib.sha256(note_body(note).encode("utf-8")).digest()


def _utc_text(seconds: float) -> str:
    import datetime as _dt

    moment = _dt.datetime.fromtimestamp(seconds, _dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _load_pem_certificates(pems: Iterable[str | bytes]) -> list[Any]:
    from cryptography import x509

    certs: list[Any] = []
    for pem in pems:
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        certs += x509.load_pem_x509_certificates(data)
    return certs


def check_timestamp(response_der: bytes, digest: bytes, roots: Sequence[Any]) -> tuple[bool, str]:
    """Verify an RFC 3161 TimeStampResp over ``digest`` chained to one of ``roots``.

    Uses ``rfc3161-client``; returns (ok, what was found).
    """
    try:
        import rfc3161_client as tsp
    except ImportError:
        return False, "rfc3161-client is not installed (pip install rfc3161-client)"
    try:
        response = tsp.decode_timestamp_response(response_der)
        info = response.tst_info
        when = info.gen_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    except Exception as exc:  # the Rust decoder raises several types on damaged input
        return False, f"not a readable time-stamp response: {exc}"
    if info.message_imprint.message != digest:
        return False, f"time {when}, but it stamps another message than this checkpoint"
    if not roots:
        return False, f"time {when}, but no certificate to check its signature against"
    if not _issued_under(response, roots):
        return False, f"time {when}, issued under none of the certificates checked against"
    problems = []
    for root in roots:
        try:
            tsp.VerifierBuilder().add_root_certificate(root).build().verify(response, digest)
        except Exception as exc:  # a bad signature, or ValueError from a bad chain
            problems.append(str(exc))
            continue
        subject = root.subject.rfc4514_string()
        return True, f"time {when}, signature chains to {subject}"
    return False, f"time {when}, signature does not verify: {problems[0]}"


def _issued_under(response: Any, roots: Sequence[Any]) -> bool:
    """Does the token's signing certificate name one of ``roots`` as its issuer (or is
    it one of them)? A token of another authority is then not this caller's concern."""
    from cryptography import x509

    names = {r.subject for r in roots}
    try:
        certs = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
        # cryptography reads a certificate's names lazily: a damaged name raises here.
        return not certs or any(c.issuer in names or c.subject in names for c in certs)
    except Exception:  # noqa: BLE001 - a damaged certificate: let verification say so
        return True


def timestamp_status(response_der: bytes, digest: bytes, roots: Sequence[Any]) -> str:
    """"unknown" when the token comes from an authority none of ``roots`` certifies
    (or there are no roots), else "ok" or "failed"."""
    if not roots:
        return "unknown"
    try:
        import rfc3161_client as tsp

        response = tsp.decode_timestamp_response(response_der)
    except Exception:  # noqa: BLE001 - unreadable: a failure, not an unknown authority
        return "failed"
    return "failed" if _issued_under(response, roots) else "unknown"


def attestation_checks(
    note: str,
    timestamps: Sequence[Any],
    *,
    witness_keys: Sequence[str] | None,
    embedded_witness_keys: Sequence[str] = (),
    tsa_roots: Sequence[str | bytes] | None,
    embedded_tsa_roots: Sequence[str] = (),
    min_witnesses: int = 0,
    min_timestamps: int = 0,
) -> list[Check]:
    """The witnesses' cosignatures and the authorities' time-stamps on one checkpoint.

    Only keys and certificates the caller gives count towards the minimums; the
    ones the document carries itself are checked too, but with a warning.
    """
    checks: list[Check] = []
    trusted_w = bool(witness_keys)
    try:
        wkeys = [parse_witness_key(k) for k in (witness_keys or embedded_witness_keys)]
    except NoteError as exc:
        return [Check("witness keys", False, str(exc))]
    try:
        cosigs = check_cosignatures(note, wkeys) if wkeys else []
    except NoteError as exc:
        return [Check("witness cosignatures", False, f"cannot be read: {exc}")]
    witnesses: set[str] = set()
    for c in cosigs:
        if c.ok:
            witnesses.add(c.name)
            detail = f"{c.name} cosigned this checkpoint at {_utc_text(c.timestamp)}"
        else:
            detail = f"{c.name}: the cosignature does not verify"
        if c.ok and not trusted_w:
            detail += " (a key the document carries itself; pass --witness-key to trust it)"
        checks.append(Check("witness cosignature", c.ok, detail, warning=c.ok and not trusted_w))
    trusted_t = bool(tsa_roots)
    try:
        roots = _load_pem_certificates(tsa_roots or embedded_tsa_roots)
    except ValueError as exc:
        return checks + [Check("time-stamp certificates", False, f"cannot be read: {exc}")]
    try:
        digest = checkpoint_digest(note)
    except NoteError as exc:
        return checks + [Check("time-stamps", False, f"checkpoint cannot be read: {exc}")]
    authorities: set[str] = set()
    for item in timestamps:
        try:
            tsa = str(item["tsa"])
            der = base64.b64decode(item["response"], validate=True)
        except (KeyError, TypeError, binascii.Error, ValueError) as exc:
            checks.append(Check("time-stamp", False, f"malformed entry: {exc}"))
            continue
        ok, detail = check_timestamp(der, digest, roots)
        if not ok and timestamp_status(der, digest, roots) == "unknown":
            # Another authority's token, like a cosignature by an unknown key: not
            # checked, not counted, not a failure.
            checks.append(Check("time-stamp not checked", True, f"{tsa}: {detail}",
                                warning=True))
            continue
        if ok and not trusted_t:
            detail += " (a certificate the document carries itself; pass --tsa-cert to trust it)"
        if ok:
            authorities.add(tsa)
        checks.append(Check("time-stamp", ok, f"{tsa}: {detail}", warning=ok and not trusted_t))
    counted_w = len(witnesses) if trusted_w else 0
    counted_t = len(authorities) if trusted_t else 0
    if checks or min_witnesses or min_timestamps:
        ok = counted_w >= min_witnesses and counted_t >= min_timestamps
        detail = (
            f"Timestamped by {len(authorities)} authorities, cosigned by {len(witnesses)} "
            f"witnesses; required: {min_timestamps} time-stamps and {min_witnesses} "
            f"cosignatures from the certificates and keys you gave "
            f"({counted_t} and {counted_w} found)"
        )
        checks.append(Check("attestations", ok, detail))
    return checks


def key_validity_check(
    signers: Sequence[str], public_keys: Sequence[Any], entry_times: Sequence[str]
) -> Check | None:
    """A checkpoint signed by a key after its retirement fails.

    A checkpoint is signed after every entry it holds was written, so an entry
    dated after the signing key's ``valid_until`` proves the key signed after
    it was retired.
    """
    if not entry_times:
        return None
    latest = max(entry_times)
    retired = False
    for key in public_keys:
        if not isinstance(key, dict):
            continue
        until = key.get("valid_until")
        name = str(key.get("vkey", "")).split("+", 1)[0]
        if name in signers and isinstance(until, str) and until:
            retired = True
            if _time_key(latest) > _time_key(until):
                return Check(
                    "signing key validity",
                    False,
                    f"{name} was retired at {until} but signed a checkpoint holding "
                    f"an entry of {latest}",
                )
    if not retired:
        return None  # signed by a key still in service: nothing to add
    return Check(
        "signing key validity", True, "the checkpoint was signed within its key's validity period"
    )


def _time_key(text: str) -> str:
    """RFC 3339 UTC times ('...Z') compare as text once cut to whole seconds."""
    return text[:19]


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


@dataclass(frozen=True)
class AttestationPolicy:
    """What the caller requires of witnesses and time-stamping authorities."""

    witness_keys: tuple[str, ...] = ()
    tsa_roots: tuple[str, ...] = ()  # PEM texts
    min_witnesses: int = 0
    min_timestamps: int = 0


def _bundle_attestation_checks(
    note: str, bundle: dict[str, Any], policy: AttestationPolicy | None
) -> list[Check]:
    policy = policy or AttestationPolicy()
    timestamps = bundle.get("timestamps") or []
    witnesses = bundle.get("witnesses") or []
    roots = bundle.get("tsa_roots") or []
    if not isinstance(timestamps, list) or not isinstance(witnesses, list):
        return [Check("attestations", False, "malformed timestamps or witnesses")]
    return attestation_checks(
        note,
        timestamps,
        witness_keys=list(policy.witness_keys) or None,
        embedded_witness_keys=[
            w["vkey"] for w in witnesses if isinstance(w, dict) and isinstance(w.get("vkey"), str)
        ],
        tsa_roots=list(policy.tsa_roots) or None,
        embedded_tsa_roots=[r for r in roots if isinstance(r, str)],
        min_witnesses=policy.min_witnesses,
        min_timestamps=policy.min_timestamps,
    )


def verify_proof_bundle(
    bundle: dict[str, Any],
    trusted_vkeys: list[str] | None,
    *,
    file_sha256: str | None = None,
    policy: AttestationPolicy | None = None,
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
    validity = _note_key_validity(b.checkpoint, keys, bundle.get("public_keys"), [entry])
    if validity is not None:
        checks.append(validity)
    checks += _bundle_attestation_checks(b.checkpoint, bundle, policy)
    if file_sha256 is not None:
        checks.append(_check_file_hash(entry, file_sha256))
    return checks


def _note_key_validity(
    note: str, keys: list[VerifierKey], public_keys: Any, entries: Sequence[Any]
) -> Check | None:
    try:
        _, signers = verify_note(note, keys)
    except NoteError:
        return None
    times = [str(e["at"]) for e in entries if isinstance(e, dict) and isinstance(e.get("at"), str)]
    return key_validity_check(signers, public_keys if isinstance(public_keys, list) else [], times)


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
    pdf_bytes: bytes,
    trusted_vkeys: list[str] | None,
    *,
    file_sha256: str | None = None,
    policy: AttestationPolicy | None = None,
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
    return [
        sig,
        *verify_proof_bundle(bundle, trusted_vkeys, file_sha256=file_sha256, policy=policy),
    ]


def verify_bundle_json(
    data: bytes,
    trusted_vkeys: list[str] | None,
    *,
    file_sha256: str | None = None,
    policy: AttestationPolicy | None = None,
    proof: dict[str, Any] | None = None,
) -> list[Check]:
    """Checks on a bare ``tamga-proof.json`` (as served by the registry's API), or on a
    ``tamga-receipt/1`` (with ``proof``, a later proof of the work's entry)."""
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Check("proof format", False, f"not JSON: {exc}")]
    if isinstance(bundle, dict) and bundle.get("format") == RECEIPT_FORMAT:
        checks = verify_receipt(bundle, trusted_vkeys, proof=proof, policy=policy)
        if file_sha256 is not None:
            same = file_sha256.lower() == str(bundle.get("main_file_sha256")).lower()
            checks.append(Check("file hash", same, f"SHA-256 {file_sha256.lower()} "
                                + ("equals" if same else "differs from")
                                + " the receipt's main file"))
        return checks
    return verify_proof_bundle(bundle, trusted_vkeys, file_sha256=file_sha256, policy=policy)


# --------------------------------------------------------------------------- receipts
#
# A ``tamga-receipt/1`` is the registry's signed promise, given when it accepts a
# registration (like a Certificate Transparency SCT): the work with this number, this
# main file and this account commitment, submitted at ``submitted_at``, will be in the
# ledger by ``merge_deadline`` (``submitted_at`` + ``max_merge_seconds``). The
# signature covers ``RECEIPT_DOMAIN`` and the canonical JSON of ``RECEIPT_FIELDS``.

RECEIPT_FORMAT = "tamga-receipt/1"
RECEIPT_DOMAIN = b"tamga-receipt/1\n"
RECEIPT_FIELDS = (
    "format",
    "log_origin",
    "registration_number",
    "submitted_at",
    "main_file_sha256",
    "account_commitment",
    "max_merge_seconds",
    "merge_deadline",
)


def receipt_signed_bytes(receipt: dict[str, Any]) -> bytes:
    """The bytes a receipt's signature covers."""
    body = {name: receipt[name] for name in RECEIPT_FIELDS}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return RECEIPT_DOMAIN + text.encode("utf-8")


def _parse_utc(text: Any) -> Any:
    import datetime as _dt

    if not isinstance(text, str) or not text.endswith("Z"):
        raise ValueError(f"{text!r} is not an RFC 3339 UTC time")
    return _dt.datetime.fromisoformat(text[:-1] + "+00:00")


def _check_receipt_fields(receipt: Any) -> Check:
    name = "receipt"
    if not isinstance(receipt, dict) or receipt.get("format") != RECEIPT_FORMAT:
        return Check(name, False, f"not a {RECEIPT_FORMAT} receipt")
    missing = [f for f in (*RECEIPT_FIELDS, "signature") if f not in receipt]
    if missing:
        return Check(name, False, f"missing {', '.join(missing)}")
    seconds = receipt["max_merge_seconds"]
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        return Check(name, False, "max_merge_seconds is not a positive whole number")
    try:
        import datetime as _dt

        submitted = _parse_utc(receipt["submitted_at"])
        deadline = _parse_utc(receipt["merge_deadline"])
    except ValueError as exc:
        return Check(name, False, str(exc))
    if deadline != submitted + _dt.timedelta(seconds=seconds):
        return Check(name, False, "merge_deadline is not submitted_at + max_merge_seconds")
    return Check(
        name,
        True,
        f"{receipt['registration_number']} submitted {receipt['submitted_at']}, "
        f"promised in the ledger by {receipt['merge_deadline']}",
    )


def _check_receipt_signature(receipt: dict[str, Any], trusted: Sequence[str] | None) -> Check:
    name = "receipt signature"
    embedded = [
        k["vkey"]
        for k in receipt.get("public_keys") or []
        if isinstance(k, dict) and isinstance(k.get("vkey"), str)
    ]
    try:
        keys, is_trusted = _select_keys(trusted, embedded)
        key_name, _, blob = str(receipt["signature"]).partition(" ")
        raw = _b64decode(blob)
        message = receipt_signed_bytes(receipt)
    except (NoteError, KeyError, TypeError, ValueError) as exc:
        return Check(name, False, f"malformed: {exc}")
    for key in keys:
        if key.name == key_name and key.key_id == raw[:4]:
            if not key.verify(message, raw[4:]):
                return Check(name, False, f"not valid: the receipt was changed after "
                             f"{key_name} signed it")
            if is_trusted:
                return Check(name, True, f"valid, signed by {key_name} (a key you supplied)")
            return Check(
                name,
                True,
                f"valid, signed by {key_name}, but only against the key the receipt itself "
                "carries; pass --key with the registry's published key to trust it",
                warning=True,
            )
    return Check(name, False, f"signed by {key_name!r}, which is not among the keys checked")


def _check_receipt_key_validity(receipt: dict[str, Any]) -> Check | None:
    key_name = str(receipt.get("signature", "")).partition(" ")[0]
    return key_validity_check(
        [key_name], receipt.get("public_keys") or [], [str(receipt.get("submitted_at"))]
    )


def _main_sha256(entry: dict[str, Any]) -> str | None:
    for item in entry.get("files") or []:
        if isinstance(item, dict) and item.get("role") == "main":
            return str(item.get("sha256", "")).lower()
    return None


def receipt_entry_mismatches(receipt: dict[str, Any], entry: Any) -> list[str]:
    """What differs between a receipt's promise and a ledger entry (empty: it is kept)."""
    if not isinstance(entry, dict):
        return ["the ledger entry is not an object"]
    wanted = {
        "kind": ("work.registered", entry.get("kind")),
        "registration number": (receipt.get("registration_number"),
                                entry.get("registration_number")),
        "submission time": (receipt.get("submitted_at"), entry.get("at")),
        "main file SHA-256": (str(receipt.get("main_file_sha256", "")).lower(),
                              _main_sha256(entry)),
        "account commitment": (receipt.get("account_commitment"),
                               entry.get("registrant_commitment")),
    }
    return [f"{what}: receipt {a!r}, ledger {b!r}" for what, (a, b) in wanted.items() if a != b]


def _attested_times(
    note: str, bundle: dict[str, Any], policy: AttestationPolicy | None
) -> list[tuple[Any, str]]:
    """When a witness or time-stamping authority *the caller trusts* saw this
    checkpoint: (UTC datetime, who), from valid cosignatures and time-stamps only."""
    import datetime as _dt

    policy = policy or AttestationPolicy()
    seen: list[tuple[Any, str]] = []
    if policy.witness_keys:
        try:
            for c in check_cosignatures(note, list(policy.witness_keys)):
                if c.ok:
                    seen.append((_dt.datetime.fromtimestamp(c.timestamp, _dt.UTC), c.name))
        except NoteError:
            pass
    if policy.tsa_roots:
        try:
            import rfc3161_client as tsp

            roots = _load_pem_certificates(policy.tsa_roots)
            digest = checkpoint_digest(note)
        except (ImportError, ValueError, NoteError):
            return seen
        for item in bundle.get("timestamps") or []:
            try:
                der = base64.b64decode(item["response"], validate=True)
                if check_timestamp(der, digest, roots)[0]:
                    when = tsp.decode_timestamp_response(der).tst_info.gen_time
                    when = when if when.tzinfo else when.replace(tzinfo=_dt.UTC)
                    seen.append((when, str(item.get("tsa", "a time-stamping authority"))))
            except Exception:  # noqa: BLE001, S112 - a bad token proves nothing; its own check says why
                continue
    return sorted(seen, key=lambda pair: pair[0])


def _check_merge_time(
    receipt: dict[str, Any], bundle: dict[str, Any], policy: AttestationPolicy | None
) -> Check:
    """In time when a trusted witness or authority saw a checkpoint holding the entry
    by the deadline; otherwise the proof cannot tell (a warning, not a failure)."""
    name, deadline_text = "merge time", str(receipt.get("merge_deadline"))
    deadline = _parse_utc(deadline_text)
    seen = _attested_times(str(bundle.get("checkpoint", "")), bundle, policy)
    if seen and seen[0][0] <= deadline:
        when, who = seen[0]
        return Check(name, True, f"in time: {who} attested the checkpoint holding the entry "
                     f"at {when.strftime('%Y-%m-%dT%H:%M:%SZ')}, before the deadline "
                     f"{deadline_text}")
    if seen:
        when = seen[0][0].strftime("%Y-%m-%dT%H:%M:%SZ")
        return Check(name, True, f"not shown: this checkpoint was first attested at {when}, "
                     f"after the deadline {deadline_text} (an earlier one may hold the "
                     "entry); the registry's `flask ledger monitor` checks the merge time",
                     warning=True)
    return Check(name, True, f"not shown: the proof shows the entry in the ledger, not when "
                 f"it was merged (no checkpoint attestation by a witness or authority you "
                 f"trust); the deadline was {deadline_text}; the registry's "
                 "`flask ledger monitor` reports entries merged late", warning=True)


def _check_receipt_kept(
    receipt: dict[str, Any], bundle: dict[str, Any], policy: AttestationPolicy | None
) -> list[Check]:
    try:
        entry = json.loads(_decode_bundle(bundle).entry.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [Check("receipt honoured", False, f"the proof's entry cannot be read: {exc}")]
    problems = receipt_entry_mismatches(receipt, entry)
    if problems:
        return [Check("receipt honoured", False, "; ".join(problems))]
    return [
        Check("receipt honoured", True, "the ledger entry in the proof is the work the "
              "receipt promised (number, time, main file, account commitment)"),
        _check_merge_time(receipt, bundle, policy),
    ]


def _load_proof(path: str) -> dict[str, Any]:
    """A proof from a file, or fetched online (the registry's ``/w/NUMBER/proof.json``)."""
    if path.startswith(("http://", "https://")):
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(path, timeout=30) as reply:  # noqa: S310
                data = reply.read()
        except urllib.error.URLError as exc:
            raise ValueError(f"cannot fetch {path}: {exc}") from exc
    else:
        with open(path, "rb") as fh:
            data = fh.read()
    if path.lower().endswith(".pdf") or data.startswith(b"%PDF"):
        return extract_proof(data)
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(bundle, dict):
        raise ValueError(f"{path} is not a JSON object")
    return bundle


def verify_receipt(
    receipt: Any,
    trusted_vkeys: list[str] | None,
    *,
    proof: dict[str, Any] | None = None,
    policy: AttestationPolicy | None = None,
) -> list[Check]:
    """The receipt's form and signature; with ``proof`` (a later ``tamga-proof/1`` of the
    work's entry) also that proof, and that its entry is what the receipt promised."""
    form = _check_receipt_fields(receipt)
    if not form.ok:
        return [form]
    checks = [form, _check_receipt_signature(receipt, trusted_vkeys)]
    validity = _check_receipt_key_validity(receipt)
    if validity is not None:
        checks.append(validity)
    if proof is None:
        return checks
    checks += verify_proof_bundle(proof, trusted_vkeys, policy=policy)
    checks += _check_receipt_kept(receipt, proof, policy)
    return checks


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


def _check_ledger(
    manifest: dict[str, Any], keys: list[VerifierKey], policy: AttestationPolicy | None = None
) -> list[Check]:
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
    validity = _note_key_validity(
        ledger["checkpoint"], keys, manifest.get("public_keys"), _ledger_entries(manifest)
    )
    if validity is not None:
        checks.append(validity)
    checks += _bundle_attestation_checks(ledger["checkpoint"], ledger, policy)
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


def video_fingerprint_digest(frames: Sequence[Sequence[Any]], sound_digest: str | None) -> str:
    """SHA-256 of the canonical JSON of a video's frame hashes ([second, window, PDQ hex])
    and its soundtrack's fingerprint digest, as in the ledger entry."""
    body = {"frames": [list(f) for f in frames], "sound": sound_digest}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _recompute_video(video: dict[str, Any], registered: dict[str, str]) -> list[Check]:
    checks = []
    for side in (video["query"], video["work"]):
        if side.get("registration_number"):
            digest = video_fingerprint_digest(side["frames"], side.get("sound_digest"))
            checks.append(_side_digest_check(side, digest, registered))
    by_time: list[dict[float, list[int]]] = []
    for side in (video["query"], video["work"]):
        rows: dict[float, list[int]] = {}
        for t, _code, value in side["frames"]:
            rows.setdefault(round(float(t), 3), []).append(int(value, 16))
        by_time.append(rows)
    wrong = 0
    for qt, wt, bits in video["pairs"]:
        best = min(_popcount(a ^ b) for a in by_time[0][round(float(qt), 3)]
                   for b in by_time[1][round(float(wt), 3)])
        wrong += best != bits
    pairs = len(video["pairs"])
    detail = f"{pairs} aligned frame pair(s), PDQ distances recomputed"
    checks.append(Check("video frame distances", wrong == 0 and pairs > 0,
                        detail if not wrong else f"{detail}: {wrong} not as stated"))
    return checks


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


def _withheld(section: dict[str, Any]) -> list[Check]:
    """A private registration's fingerprint is left out of a bundle for whoever may not
    see it; the comparison then stands on the registry's signature alone."""
    names = [s.get("registration_number") for s in (section["query"], section["work"])
             if s.get("withheld")]
    if not names:
        return []
    return [Check("similarity", True, f"not recomputable here: the fingerprint of {names[0]} "
                  "(a private registration) is withheld; the stated score is signed")]


def _recompute_audio(audio: dict[str, Any], registered: dict[str, str]) -> list[Check]:
    if _withheld(audio):
        return _withheld(audio)
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
    if _withheld(image):
        return _withheld(image)
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
    if pair["work_window"] in image["work"].get("search_windows", {}):
        detail += (" (a corner quarter of the registered picture: hashed from its file by "
                   "the registry, not part of the fingerprint the ledger entry quotes)")
    checks.append(Check("image distances", ok, detail if ok else detail + ", not as stated"))
    return checks


def _image_window(side: dict[str, Any], window: str) -> dict[str, str]:
    if "hashes" in side:
        windows = side["hashes"]["windows"]
        return windows[window] if window in windows else side["search_windows"][window]
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
        if prints.get("video"):
            checks += _recompute_video(prints["video"], registered)
        for side in prints.get("works", []):
            if "frames" in side:
                digest = video_fingerprint_digest(side["frames"], side.get("sound_digest"))
            elif "items" in side:
                digest = audio_fingerprint_digest(side["items"], side["duration_s"])
            else:
                digest = image_hashes_digest(side["hashes"])
            checks.append(_side_digest_check(side, digest, registered))
    except (AttributeError, KeyError, TypeError, ValueError, StopIteration) as exc:
        return [Check("recompute", False, f"{FINGERPRINTS_NAME} cannot be used: {exc!r}")]
    return checks or [Check("recompute", False, "no comparison or fingerprint to recompute")]


ACCOUNT_SCHEME = "tamga-account/1"
ACCOUNT_PREFIX = "hmac-sha256:"


def account_commitment(account_id: int, secret: str, context: str) -> str:
    """Copy of ``registry.core.ledger.commitment.commit``: HMAC-SHA256 keyed by the
    account's secret over "tamga-account/1" LF account id LF context."""
    message = f"{ACCOUNT_SCHEME}\n{int(account_id)}\n{context}".encode()
    return ACCOUNT_PREFIX + hmac.new(bytes.fromhex(secret), message, hashlib.sha256).hexdigest()


def entry_context(entry: dict[str, Any]) -> str:
    """What an entry's account commitments are bound to: its work or its dispute."""
    return str(entry.get("registration_number") or entry.get("dispute") or "")


def check_account(entries: Iterable[dict[str, Any]], account: str) -> list[Check]:
    """Open the account commitments of ``entries`` with ``account`` ("ID:SECRET"):
    one passing check per entry that commits to that account, a failure if none does."""
    try:
        raw_id, secret = account.split(":", 1)
        account_id = int(raw_id)
        bytes.fromhex(secret)
    except ValueError:
        return [Check("account", False, "give --account as ACCOUNT_ID:SECRET (hex)")]
    checks = []
    for entry in entries:
        context = entry_context(entry)
        mine = account_commitment(account_id, secret, context)
        for field, value in sorted(entry.items()):
            if field.endswith("_commitment") and hmac.compare_digest(str(value), mine):
                checks.append(Check(f"account {account_id}", True,
                                    f"is the {field.removesuffix('_commitment')} of "
                                    f"{entry.get('kind')} {context}"))
    return checks or [Check(f"account {account_id}", False,
                            "no ledger entry in the bundle commits to this account")]


def verify_evidence_bundle(
    data: bytes,
    trusted_vkeys: list[str] | None,
    *,
    file_sha256: str | None = None,
    recompute: bool = False,
    policy: AttestationPolicy | None = None,
    account: str | None = None,
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
    checks += _check_ledger(manifest, keys, policy)
    checks += _check_pdfs(members, keys)
    if file_sha256 is not None:
        checks.append(_check_named_file(manifest, file_sha256))
    if recompute:
        checks += recompute_checks(manifest, members)
    if account:
        checks += check_account(_ledger_entries(manifest), account)
    return checks


Verifier = Callable[..., list[Check]]
VERIFIERS: dict[str, Verifier] = {
    ".pdf": verify_certificate,
    ".json": verify_bundle_json,
    ".zip": verify_evidence_bundle,
}


# --------------------------------------------------------------------------- tiled mirrors
#
# A C2SP tlog-tiles log (the registry's /ledger, or a mirror's copy of it, served over
# HTTP or sitting in a folder) as the source of proofs: inclusion and consistency
# proofs are computed here from the tiles and then checked like any other proof, so
# a mirror that serves a wrong hash cannot make a proof pass.

TILE_WIDTH = 256


def _tile_index_path(index: int) -> str:
    parts = []
    while True:
        parts.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    parts.reverse()
    return "/".join([f"x{p}" for p in parts[:-1]] + [parts[-1]])


class TiledLog:
    """Reads ``checkpoint`` and ``tile/...`` below a URL prefix or from a folder."""

    def __init__(self, source: str) -> None:
        self.source = source.rstrip("/")
        self._tiles: dict[tuple[int, int, int], bytes] = {}
        self.size = 0

    def read(self, path: str) -> bytes:
        if self.source.startswith(("http://", "https://")):
            import urllib.request

            with urllib.request.urlopen(f"{self.source}/{path}", timeout=30) as reply:  # noqa: S310
                return reply.read()
        with open(os.path.join(self.source, *path.split("/")), "rb") as fh:
            return fh.read()

    def checkpoint(self) -> str:
        return self.read("checkpoint").decode("utf-8")

    def tile(self, level: int, index: int) -> bytes:
        count = self.size >> (8 * level)
        width = min(TILE_WIDTH, count - index * TILE_WIDTH)
        if width <= 0:
            raise ProofError(f"tile {level}/{index} lies beyond the tree of size {self.size}")
        key = (level, index, width)
        if key not in self._tiles:
            suffix = "" if width == TILE_WIDTH else f".p/{width}"
            data = self.read(f"tile/{level}/{_tile_index_path(index)}{suffix}")
            if len(data) != HASH_SIZE * width:
                raise ProofError(f"tile {level}/{index} has {len(data)} bytes, not {width} hashes")
            self._tiles[key] = data
        return self._tiles[key]

    def subtree(self, height: int, index: int) -> bytes:
        """The hash of the perfect subtree of ``2**height`` leaves number ``index``."""
        if height % 8 == 0:
            level = height // 8
            at = index % TILE_WIDTH
            return self.tile(level, index // TILE_WIDTH)[HASH_SIZE * at : HASH_SIZE * (at + 1)]
        left = self.subtree(height - 1, 2 * index)
        return node_hash(left, self.subtree(height - 1, 2 * index + 1))

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range that starts on a boundary of its own largest split."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self.subtree(n.bit_length() - 1, start // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def inclusion_proof(self, index: int, size: int, offset: int = 0) -> list[bytes]:
        """RFC 9162 PATH(index, D[offset:offset+size])."""
        if size <= 1:
            return []
        k = 1 << ((size - 1).bit_length() - 1)
        if index < k:
            return self.inclusion_proof(index, k, offset) + [self.mth(offset + k, offset + size)]
        return self.inclusion_proof(index - k, size - k, offset + k) + [
            self.mth(offset, offset + k)]

    def consistency_proof(self, old: int, size: int, offset: int = 0,
                          whole: bool = True) -> list[bytes]:
        """RFC 9162 SUBPROOF(old, D[offset:offset+size], whole)."""
        if old == size:
            return [] if whole else [self.mth(offset, offset + size)]
        k = 1 << ((size - 1).bit_length() - 1)
        if old <= k:
            return self.consistency_proof(old, k, offset, whole) + [
                self.mth(offset + k, offset + size)]
        return self.consistency_proof(old - k, size - k, offset + k, False) + [
            self.mth(offset, offset + k)]


def mirror_checks(
    source: str, note: str, entries: Sequence[tuple[int, bytes]], keys: list[VerifierKey]
) -> list[Check]:
    """Check that a mirror's signed tree extends the document's checkpoint and holds its
    entries, with proofs computed from the mirror's tiles."""
    log = TiledLog(source)
    try:
        mirrored = log.checkpoint()
        _, signers = verify_note(mirrored, keys)
        top = parse_checkpoint(note_body(mirrored))
        cp = parse_checkpoint(note_body(note))
    except (OSError, ValueError) as exc:
        return [Check("mirror checkpoint", False, f"{source}: {exc}")]
    if top.origin != cp.origin:
        detail = f"{source} mirrors {top.origin}, not {cp.origin}"
        return [Check("mirror checkpoint", False, detail)]
    checks = [Check("mirror checkpoint", True,
                    f"{source}: tree size {top.size}, signed by {', '.join(signers)}")]
    log.size = top.size
    try:
        proof = log.consistency_proof(cp.size, top.size) if cp.size < top.size else []
        verify_consistency(cp.size, top.size, proof, cp.root_hash, top.root_hash)
        checks.append(Check("mirror consistency", True,
                            f"the tree of size {cp.size} is a prefix of the mirror's {top.size}"))
        for index, entry in entries:
            path = log.inclusion_proof(index, top.size)
            verify_inclusion(leaf_hash(entry), index, top.size, path, top.root_hash)
            checks.append(Check("mirror inclusion", True,
                                f"entry {index} is in the mirror's tree of size {top.size}"))
    except (OSError, ValueError) as exc:  # ProofError is a ValueError
        checks.append(Check("mirror proofs", False, f"{source}: {exc}"))
    return checks


# --------------------------------------------------------------------------- command line


def _read_text(path: str) -> str:
    with open(path, encoding="ascii") as fh:
        return fh.read()


def _read_keys(
    values: Sequence[str], parse: Callable[[str], VerifierKey] = parse_verifier_key
) -> list[str]:
    """Each --key is a verifier key, or a file holding verifier keys one per line."""
    keys: list[str] = []
    for value in values:
        if os.path.isfile(value):
            with open(value, encoding="utf-8") as fh:
                keys += [ln.strip() for ln in fh if ln.strip() and not ln.startswith("#")]
        else:
            keys.append(value.strip())
    for key in keys:
        parse(key)
    return keys


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mirror_document_checks(
    source: str, data: bytes, ext: str, trusted: list[str] | None
) -> list[Check]:
    """The document's checkpoint, entries and keys, checked against a tiled mirror."""
    try:
        if ext == ".zip":
            manifest = _load_manifest(_read_zip(data))
            ledger = manifest["ledger"]
            note, embedded = ledger["checkpoint"], _manifest_keys(manifest)
            entries = [(int(e["leaf_index"]), base64.b64decode(e["entry"]))
                       for e in ledger["entries"]]
        else:
            bundle = json.loads(data) if ext == ".json" else extract_proof(data)
            b = _decode_bundle(bundle)
            note, embedded, entries = b.checkpoint, b.embedded_keys, [(b.leaf_index, b.entry)]
    except (KeyError, TypeError, ValueError) as exc:
        return [Check("mirror", False, f"the document's proof cannot be read: {exc}")]
    keys, _ = _select_keys(trusted, embedded)
    return mirror_checks(source, note, entries, keys)


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
        "document",
        help="certificate PDF, tamga-proof.json, receipt (.json) or evidence bundle (.zip)",
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
        "--witness-key",
        action="append",
        default=[],
        help="a witness's cosignature verifier key (name+id+key) or a file of them; repeatable",
    )
    parser.add_argument(
        "--min-witnesses", type=int, default=0, help="valid cosignatures required (default 0)"
    )
    parser.add_argument(
        "--tsa-cert",
        action="append",
        default=[],
        help="PEM file of a time-stamping authority's CA certificate; repeatable",
    )
    parser.add_argument(
        "--min-timestamps", type=int, default=0, help="valid RFC 3161 time-stamps required"
    )
    parser.add_argument(
        "--mirror",
        help="a tiled copy of the log (URL prefix or folder, as `flask ledger mirror` makes): "
        "check the document's entries and checkpoint against it",
    )
    parser.add_argument(
        "--proof",
        help="receipts (RECEIPT.json): a later tamga-proof.json or certificate PDF of the "
        "work (a file, or online: https://HOST/w/NUMBER/proof.json), to check that the "
        "registry kept the receipt's promise",
    )
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="evidence bundles (.zip): recompute the similarity from fingerprints.json",
    )
    parser.add_argument(
        "--account",
        help="evidence bundles (.zip): ACCOUNT_ID:SECRET from your account page, to show "
        "which ledger entries commit to your account",
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
        policy = AttestationPolicy(
            witness_keys=tuple(_read_keys(args.witness_key, parse_witness_key)),
            tsa_roots=tuple(_read_text(path) for path in args.tsa_cert),
            min_witnesses=args.min_witnesses,
            min_timestamps=args.min_timestamps,
        )
        _load_pem_certificates(policy.tsa_roots)
        with open(args.document, "rb") as fh:
            data = fh.read()
        file_sha = _sha256_file(args.file) if args.file else None
        proof = _load_proof(args.proof) if args.proof else None
    except (OSError, NoteError, ValueError) as exc:
        print(f"\u2718 cannot start: {exc}", file=out)
        return 2
    extra: dict[str, Any] = ({"recompute": args.recompute, "account": args.account}
                             if verifier is verify_evidence_bundle else {})
    if verifier is verify_bundle_json:
        extra["proof"] = proof
    checks = verifier(data, keys, file_sha256=file_sha, policy=policy, **extra)
    if args.mirror:
        checks += _mirror_document_checks(args.mirror, data, ext, keys)
    _print_checks(checks, out)
    ok = all(c.ok and not (args.strict and c.warning) for c in checks)
    print("RESULT: all checks passed" if ok else "RESULT: verification FAILED", file=out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
