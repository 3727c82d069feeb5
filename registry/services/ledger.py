"""Recording events in the ledger, in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from registry.core.ledger import commitment, store
from registry.extensions import db
from registry.services.settings import RegistrySettings


def rfc3339(moment: datetime) -> str:
    """UTC with microseconds and a ``Z``: the one time format of ledger entries."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def record(kind: str, at: datetime, payload: dict[str, Any],
           settings: RegistrySettings) -> store.AppendResult:
    entry = {"kind": kind, "at": rfc3339(at), **payload}
    conn = db.session.connection()
    store.publish_keys(conn, settings.keyring)
    return store.append(conn, entry, settings.keyring, settings.ledger_origin,
                        checkpoint_interval=settings.checkpoint_interval)


def account_commitment(user: Any, context: str) -> str:
    """A public ledger entry's stand-in for ``user``'s account id (never the id itself):
    a salted commitment the account holder can open with their ledger secret."""
    return commitment.commit(user.id, ledger_secret(user), context)


def ledger_secret(user: Any) -> str:
    """The account's ledger secret, created on first use (flushed with the caller's work)."""
    if not user.ledger_secret:
        user.ledger_secret = commitment.new_secret()
    return str(user.ledger_secret)
