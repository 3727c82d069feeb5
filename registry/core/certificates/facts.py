"""What a certificate states: plain dataclasses the web layer fills in.

The ledger part (entry index, checkpoint, inclusion proof) can be read from the
proof bundle with :func:`ledger_facts_from_bundle`, so the printed text and the
embedded machine-readable proof come from the same source.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from registry.core.errors import ValidationFailed

from .i18n import is_known

PROOF_FORMAT = "tamga-proof/1"
SIGNATURE_PREFIX = "\u2014 "  # C2SP signed note: em dash, space, key name, space, base64
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

Share = Decimal | float | int


@dataclass(frozen=True)
class Author:
    name: str
    role: str
    share: Share | None = None  # percent of the authorship, 0-100
    # Co-authors confirm: "confirmed" (with the date), "pending" or "declined";
    # None when the author was never asked (the registrant, or nobody invited).
    confirmation: str | None = None
    confirmed_on: date | None = None


@dataclass(frozen=True)
class WorkFile:
    role: str  # "main" or "supporting"
    name: str
    sha256: str  # lowercase hex


@dataclass(frozen=True)
class Checkpoint:
    """A parsed C2SP signed-note checkpoint; ``text`` keeps the exact note."""

    origin: str
    tree_size: int
    root_hash: str  # base64
    signatures: tuple[str, ...]  # whole signature lines, "— name base64"
    text: str

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        body, sep, sigs = text.partition("\n\n")
        lines = body.split("\n")
        if not sep or len(lines) < 3:
            raise ValidationFailed("checkpoint is not a signed note")
        origin, size, root = lines[0], lines[1], lines[2]
        if not size.isdigit() or not _is_base64(root, 32):
            raise ValidationFailed("checkpoint body is malformed")
        signatures = tuple(line for line in sigs.split("\n") if line)
        if not signatures or not all(s.startswith(SIGNATURE_PREFIX) for s in signatures):
            raise ValidationFailed("checkpoint has no signature line")
        return cls(origin, int(size), root, signatures, text)


@dataclass(frozen=True)
class LedgerFacts:
    leaf_index: int
    checkpoint: Checkpoint
    inclusion_proof: tuple[str, ...]  # base64 hashes, leaf to root
    timestamps: int = 0  # RFC 3161 time-stamps the proof carries for the checkpoint
    cosignatures: int = 0  # witness cosignature lines on the checkpoint


def attestation_counts(data: Mapping[str, Any], checkpoint: Checkpoint) -> tuple[int, int]:
    """(time-stamping authorities, witnesses) a proof bundle carries for its checkpoint."""
    stamps = data.get("timestamps") or []
    authorities = {t.get("tsa") for t in stamps if isinstance(t, dict)}
    witnesses = {w.get("name") for w in data.get("witnesses") or [] if isinstance(w, dict)}
    signed = {line[len(SIGNATURE_PREFIX):].split(" ", 1)[0] for line in checkpoint.signatures}
    return len(authorities), len(witnesses & signed)


MAX_KEY_FRAMES = 12


@dataclass(frozen=True)
class CertificateFacts:
    registration_number: str
    registered_at: datetime  # timezone-aware
    registrant: str
    title: str
    work_type: str
    authors: Sequence[Author]
    files: Sequence[WorkFile]
    ledger: LedgerFacts
    verify_url: str
    created_on: date | str | None = None  # a date, or a year such as "2019"
    original_title: str | None = None
    published: bool = False
    published_on: date | str | None = None
    publication_place: str | None = None
    publication_url: str | None = None
    ai_use: str = "none"
    ai_tools: Sequence[str] = field(default_factory=tuple)
    human_contribution: str | None = None
    licence: str | None = None
    fingerprint_digest: str | None = None
    fingerprint_kind: str | None = None  # a media kind: "audio", "image", "video"
    iscc: str | None = None
    status: str = "registered"
    ai_label: str | None = None  # "ai_generated" or "ai_assisted": the visible label
    credentialed_url: str | None = None  # where the C2PA-signed copy is downloaded
    #: A video's key frames, (seconds, JPEG bytes), printed only where the owner allows
    #: thumbnails; empty for other works.
    key_frames: Sequence[tuple[float, bytes]] = field(default_factory=tuple)


def _is_base64(text: str, length: int | None = None) -> bool:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return length is None or len(raw) == length


def load_bundle(bundle: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """The proof bundle as a dict, checked for the fields a certificate relies on."""
    if isinstance(bundle, Mapping):
        data = dict(bundle)
    else:
        try:
            data = json.loads(bundle.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationFailed("proof bundle is not UTF-8 JSON") from exc
    if not isinstance(data, dict) or data.get("format") != PROOF_FORMAT:
        raise ValidationFailed(f"proof bundle format is not {PROOF_FORMAT}")
    for key, kind in (("leaf_index", int), ("tree_size", int), ("checkpoint", str)):
        if not isinstance(data.get(key), kind):
            raise ValidationFailed(f"proof bundle field {key!r} is missing or malformed")
    proof = data.get("inclusion_proof")
    if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
        raise ValidationFailed("proof bundle field 'inclusion_proof' is malformed")
    return data


def ledger_facts_from_bundle(bundle: bytes | Mapping[str, Any]) -> LedgerFacts:
    """The ledger facts a certificate prints, read from a ``tamga-proof/1`` bundle."""
    data = load_bundle(bundle)
    checkpoint = Checkpoint.parse(data["checkpoint"])
    if checkpoint.tree_size != data["tree_size"]:
        raise ValidationFailed("proof bundle tree_size differs from its checkpoint")
    stamps, cosigs = attestation_counts(data, checkpoint)
    return LedgerFacts(data["leaf_index"], checkpoint, tuple(data["inclusion_proof"]),
                       stamps, cosigs)


def canonical_bundle_bytes(bundle: bytes | Mapping[str, Any]) -> bytes:
    """Bytes to embed: given bytes unchanged, a mapping as canonical JSON."""
    if isinstance(bundle, bytes | bytearray):
        return bytes(bundle)
    return json.dumps(bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def validate_facts(facts: CertificateFacts) -> None:
    """Refuse facts a certificate must not state (raises ``ValidationFailed``)."""
    problems = _fact_problems(facts) + _ledger_problems(facts.ledger)
    if problems:
        raise ValidationFailed("; ".join(problems), problems=problems)


def _fact_problems(facts: CertificateFacts) -> list[str]:
    problems: list[str] = []
    if not facts.registration_number.strip():
        problems.append("registration number is empty")
    if facts.registered_at.tzinfo is None or facts.registered_at.utcoffset() is None:
        problems.append("registered_at must be timezone-aware")
    for vocabulary, code in (
        ("work_type", facts.work_type),
        ("ai_use", facts.ai_use),
        ("status", facts.status),
    ):
        if not is_known(vocabulary, code):
            problems.append(f"unknown {vocabulary} {code!r}")
    if facts.fingerprint_kind is not None and not is_known(
        "fingerprint_kind", facts.fingerprint_kind
    ):
        problems.append(f"unknown fingerprint kind {facts.fingerprint_kind!r}")
    if len(facts.key_frames) > MAX_KEY_FRAMES:
        problems.append(f"more than {MAX_KEY_FRAMES} key frames")
    for t, jpeg in facts.key_frames:
        if not (isinstance(t, int | float) and t >= 0) or not jpeg.startswith(b"\xff\xd8"):
            problems.append("a key frame is not a JPEG with a time of 0 s or more")
            break
    for item in facts.files:
        if not is_known("file_role", item.role):
            problems.append(f"unknown file role {item.role!r}")
        if not _SHA256_HEX.match(item.sha256):
            problems.append(f"file {item.name!r} has no lowercase hex SHA-256")
    if not facts.verify_url.startswith(("https://", "http://")):
        problems.append("verify_url must be an http(s) URL")
    problems.extend(_share_problems(facts.authors))
    return problems


def _share_problems(authors: Sequence[Author]) -> list[str]:
    shares = [Decimal(str(a.share)) for a in authors if a.share is not None]
    if any(not 0 <= s <= 100 for s in shares):
        return ["an author's share is outside 0-100 %"]
    if sum(shares, Decimal(0)) > Decimal("100.01"):
        return ["authors' shares add up to more than 100 %"]
    return []


def _ledger_problems(ledger: LedgerFacts) -> list[str]:
    problems: list[str] = []
    if not 0 <= ledger.leaf_index < ledger.checkpoint.tree_size:
        problems.append("leaf index is outside the checkpoint's tree")
    if not all(_is_base64(h, 32) for h in ledger.inclusion_proof):
        problems.append("inclusion proof holds a value that is not a base64 SHA-256")
    return problems


def check_bundle_matches(ledger: LedgerFacts, bundle: bytes | Mapping[str, Any]) -> None:
    """The printed ledger facts must be the ones the embedded proof carries."""
    embedded = ledger_facts_from_bundle(bundle)
    if embedded != ledger:
        raise ValidationFailed("certificate ledger facts differ from the proof bundle")
