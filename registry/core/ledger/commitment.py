"""Salted commitments to an account, for public ledger entries.

A public ledger entry never carries an account id: it carries

    commitment = HMAC-SHA256(key = the account's secret,
                             msg = "tamga-account/1" LF account id LF context)

as ``"hmac-sha256:<64 hex>"``. The account's secret (32 random bytes, hex) is
known to the registry and shown to the account holder only. Without it the
commitment reveals nothing and links nothing: ``context`` (the registration or
dispute number the entry is about) makes every work's commitment different, so
the private works of one owner cannot be grouped. With it, the owner (or a court
the owner hands it to) *opens* the commitment: ``tamga-verify --account ID:SECRET``
recomputes it and checks it equals the entry's. HMAC-SHA256 is binding: no
other (account, secret) pair yields the same value.

``tamga_verify.account_commitment`` is an identical copy (that file must work
alone); a test keeps the two equal.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCHEME = "tamga-account/1"
PREFIX = "hmac-sha256:"


def new_secret() -> str:
    """A fresh account secret: 32 random bytes as 64 hex digits."""
    return secrets.token_hex(32)


def commit(account_id: int, secret: str, context: str) -> str:
    """The commitment to ``account_id`` for the entry about ``context``."""
    key = bytes.fromhex(secret)
    message = f"{SCHEME}\n{int(account_id)}\n{context}".encode()
    return PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()


def opens(commitment: str, account_id: int, secret: str, context: str) -> bool:
    """True when ``commitment`` is ``account_id``'s under ``secret`` for ``context``."""
    try:
        expected = commit(account_id, secret, context)
    except ValueError:  # not a hex secret
        return False
    return hmac.compare_digest(expected, str(commitment))
