"""Signed receipts at submission: the registry's promise, like a
Certificate Transparency SCT, that an accepted registration will be in the ledger
within ``max_merge_seconds``.

The format and its verification live in ``registry.core.tamga_verify`` (the
standalone verifier); this module signs with the ledger's key ring.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from registry.core.errors import ValidationFailed
from registry.core.ledger.keys import KeyRing
from registry.core.tamga_verify import (
    RECEIPT_FORMAT,
    receipt_entry_mismatches,
    receipt_signed_bytes,
)

__all__ = ["RECEIPT_FORMAT", "issue", "receipt_entry_mismatches", "rfc3339"]


def rfc3339(moment: datetime) -> str:
    """UTC with microseconds and a ``Z`` (the ledger entries' time format)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def issue(
    keyring: KeyRing,
    *,
    origin: str,
    registration_number: str,
    submitted_at: datetime,
    main_file_sha256: str,
    account_commitment: str,
    max_merge_seconds: int,
) -> dict[str, Any]:
    """A signed ``tamga-receipt/1``, with the public keys to check it by."""
    if max_merge_seconds <= 0:
        raise ValidationFailed("the maximum merge delay must be positive")
    submitted = submitted_at if submitted_at.tzinfo else submitted_at.replace(tzinfo=UTC)
    receipt: dict[str, Any] = {
        "format": RECEIPT_FORMAT,
        "log_origin": origin,
        "registration_number": registration_number,
        "submitted_at": rfc3339(submitted),
        "main_file_sha256": main_file_sha256.lower(),
        "account_commitment": account_commitment,
        "max_merge_seconds": int(max_merge_seconds),
        "merge_deadline": rfc3339(submitted + timedelta(seconds=int(max_merge_seconds))),
    }
    key = keyring.current
    signature = key.private_key.sign(receipt_signed_bytes(receipt))
    blob = base64.b64encode(key.key_id + signature).decode("ascii")
    receipt["signature"] = f"{key.name} {blob}"
    receipt["public_keys"] = [
        {k: info[k] for k in ("name", "vkey", "valid_from", "valid_until")}
        for info in keyring.public_info()
    ]
    return receipt
