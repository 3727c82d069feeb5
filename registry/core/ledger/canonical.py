"""Canonical JSON for ledger entries, and the entry kinds the registry records.

An entry's bytes are hashed into the Merkle tree, so they must be one fixed
serialisation of the entry: ``json.dumps`` with sorted keys, ``","`` and ``":"``
separators (no insignificant whitespace), NaN and infinities refused, encoded
as UTF-8. Non-ASCII text is written as UTF-8 characters, not ``\\uXXXX``
escapes (``ensure_ascii=False``), so Kazakh and Russian titles stay readable in
the stored bytes; only the characters JSON requires (``"``, ``\\``, control
characters) are escaped. Keys are sorted by Unicode code point. Floats use
Python's shortest round-trip ``repr``; entries should prefer integers and
strings (e.g. shares in basis points) for values other languages re-read.

The verifier never re-serialises an entry: it hashes the stored bytes, so
canonical form matters only for producing them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from registry.core.errors import ValidationFailed

ENTRY_KINDS = frozenset(
    {
        "work.registered",
        "work.amended",
        "work.transferred",
        "work.withdrawn",
        "work.reservation_changed",
        "work.coauthor_confirmed",
        "work.coauthor_declined",
        "dispute.opened",
        "dispute.answered",
        "dispute.evidence_added",
        "dispute.decided",
        "state_filing.prepared",
    }
)

_RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` to canonical JSON bytes (see the module docstring)."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"entry is not canonical-JSON serialisable: {exc}") from exc
    return text.encode("utf-8")


def is_canonical(data: bytes) -> bool:
    """Whether ``data`` is exactly the canonical serialisation of what it decodes to."""
    try:
        return canonical_json(json.loads(data.decode("utf-8"))) == data
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationFailed):
        return False


def validate_entry(entry: dict[str, Any]) -> None:
    """Check the two fields the ledger itself relies on: ``kind`` and ``at``.

    ``at`` is RFC 3339 in UTC with a ``Z`` suffix, e.g. ``2026-11-21T19:40:00Z``.
    Other fields are the caller's business.
    """
    if not isinstance(entry, dict):
        raise ValidationFailed("a ledger entry is a JSON object")
    kind = entry.get("kind")
    if kind not in ENTRY_KINDS:
        raise ValidationFailed(f"unknown ledger entry kind {kind!r}", kind=kind)
    at = entry.get("at")
    if not isinstance(at, str) or not _RFC3339_UTC.match(at):
        raise ValidationFailed("entry 'at' must be RFC 3339 UTC, e.g. 2026-11-21T19:40:00Z")
