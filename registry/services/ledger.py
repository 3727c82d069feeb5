"""Recording events in the ledger, in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from registry.core.ledger import store
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
    return store.append(conn, entry, settings.keyring, settings.ledger_origin)
