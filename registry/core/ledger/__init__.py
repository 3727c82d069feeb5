"""Tamga's tamper-evident ledger: an RFC 9162 Merkle tree with C2SP signed checkpoints.

Verification primitives live in ``registry.core.tamga_verify`` (the standalone
offline verifier); this package produces what it verifies.
"""

from registry.core.ledger.canonical import ENTRY_KINDS, canonical_json, validate_entry
from registry.core.ledger.keys import (
    KeyRing,
    SigningKey,
    load_or_create_keyring,
    rotate,
    sign_note,
    sign_pdf,
    signing_key_from_seed,
)
from registry.core.ledger.store import (
    LEDGER_TABLES,
    POSTGRES_IMMUTABILITY_DROP_SQL,
    POSTGRES_IMMUTABILITY_SQL,
    AppendResult,
    LedgerReport,
    StoredCheckpoint,
    StoredEntry,
    append,
    checkpoint_at,
    consistency_proof,
    get_entries,
    inclusion_proof,
    latest_checkpoint,
    log_consistency_check,
    proof_bundle,
    publish_keys,
    published_keys,
    verify_ledger,
)

__all__ = [
    "ENTRY_KINDS",
    "LEDGER_TABLES",
    "POSTGRES_IMMUTABILITY_DROP_SQL",
    "POSTGRES_IMMUTABILITY_SQL",
    "AppendResult",
    "KeyRing",
    "LedgerReport",
    "SigningKey",
    "StoredCheckpoint",
    "StoredEntry",
    "append",
    "canonical_json",
    "checkpoint_at",
    "consistency_proof",
    "get_entries",
    "inclusion_proof",
    "latest_checkpoint",
    "load_or_create_keyring",
    "log_consistency_check",
    "proof_bundle",
    "publish_keys",
    "published_keys",
    "rotate",
    "sign_note",
    "sign_pdf",
    "signing_key_from_seed",
    "validate_entry",
    "verify_ledger",
]
