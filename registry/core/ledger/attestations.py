"""Stored attestations of checkpoints: RFC 3161 time-stamps and witness cosignatures,
and each attester's progress (for retries with back-off and the status page).

Like ``store``, every function takes a SQLAlchemy ``Connection`` and never commits.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)

from registry.core.ledger.store import (
    StoredCheckpoint,
    _checkpoint,
    _insert_ignoring_duplicates,
    checkpoint_at,
    latest_checkpoint,
    ledger_checkpoints,
)
from registry.core.sql import metadata

ledger_timestamps = Table(
    "ledger_timestamps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tree_size", BigInteger, nullable=False, index=True),
    Column("authority", String(500), nullable=False),
    Column("response", LargeBinary, nullable=False),  # DER TimeStampResp
    Column("gen_time", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tree_size", "authority", name="uq_ledger_timestamps_size_authority"),
)

ledger_cosignatures = Table(
    "ledger_cosignatures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tree_size", BigInteger, nullable=False, index=True),
    Column("witness", String(200), nullable=False),  # the key name
    Column("vkey", String(300), nullable=False),
    Column("line", Text, nullable=False),  # the whole note signature line
    Column("cosigned_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tree_size", "vkey", name="uq_ledger_cosignatures_size_vkey"),
)

# One row per configured attester ("tsa" + URL, "witness" + vkey): how far it got.
attesters = Table(
    "attesters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("target", String(500), nullable=False),
    Column("attested_size", BigInteger, nullable=False, default=0),  # latest size attested
    Column("known_size", BigInteger, nullable=False, default=0),  # a witness's latest size
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_success_at", DateTime(timezone=True), nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("kind", "target", name="uq_attesters_kind_target"),
)

ATTESTATION_TABLES = [ledger_timestamps, ledger_cosignatures, attesters]
MIN_SPACING = timedelta(seconds=1)  # at most one request per attester per second
MAX_BACKOFF = timedelta(minutes=10)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite gives naive UTC back
        return moment.replace(tzinfo=UTC)
    return moment


@dataclass(frozen=True)
class Attester:
    id: int
    kind: str
    target: str
    attested_size: int
    known_size: int
    failures: int
    last_error: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    next_attempt_at: datetime | None

    def due(self, now: datetime, size: int) -> bool:
        """Something new to attest, and neither spacing nor back-off says wait."""
        if size <= self.attested_size:
            return False
        if self.last_attempt_at and now - self.last_attempt_at < MIN_SPACING:
            return False
        return self.next_attempt_at is None or now >= self.next_attempt_at


def _attester(row: Any) -> Attester:
    m = row._mapping
    return Attester(
        m["id"], m["kind"], m["target"], int(m["attested_size"]), int(m["known_size"]),
        int(m["failures"]), m["last_error"], _aware(m["last_attempt_at"]),
        _aware(m["last_success_at"]), _aware(m["next_attempt_at"]),
    )


def ensure_attesters(conn: Connection, kind: str, targets: list[str]) -> list[Attester]:
    """The rows of the configured attesters of ``kind``, made when missing."""
    for target in targets:
        conn.execute(
            _insert_ignoring_duplicates(conn, attesters).values(
                kind=kind, target=target, attested_size=0, known_size=0, failures=0
            )
        )
    rows = conn.execute(
        select(attesters).where(attesters.c.kind == kind, attesters.c.target.in_(targets))
    )
    by_target = {r.target: _attester(r) for r in rows}
    return [by_target[t] for t in targets]


def all_attesters(conn: Connection) -> list[Attester]:
    rows = conn.execute(select(attesters).order_by(attesters.c.kind, attesters.c.target))
    return [_attester(r) for r in rows]


def claim_attempt(conn: Connection, attester: Attester, now: datetime) -> bool:
    """Mark an attempt started; False if another process started one in the last second."""
    last = attesters.c.last_attempt_at
    cond = last.is_(None) | (last <= now - MIN_SPACING)
    result = conn.execute(
        update(attesters).where(attesters.c.id == attester.id, cond).values(last_attempt_at=now)
    )
    return result.rowcount == 1


def record_success(conn: Connection, attester: Attester, size: int, now: datetime,
                   known_size: int | None = None) -> None:
    values: dict[str, Any] = {
        "attested_size": func.max(attesters.c.attested_size, size)
        if conn.dialect.name == "sqlite" else func.greatest(attesters.c.attested_size, size),
        "failures": 0, "last_error": None, "last_success_at": now, "next_attempt_at": None,
    }
    if known_size is not None:
        values["known_size"] = known_size
    conn.execute(update(attesters).where(attesters.c.id == attester.id).values(**values))


def record_known_size(conn: Connection, attester: Attester, size: int) -> None:
    conn.execute(update(attesters).where(attesters.c.id == attester.id).values(known_size=size))


def backoff(failures: int) -> timedelta:
    """2, 4, 8 … seconds after each failure in a row, at most ten minutes."""
    return min(timedelta(seconds=2 ** min(failures, 20)), MAX_BACKOFF)


def record_failure(conn: Connection, attester: Attester, error: str, now: datetime) -> None:
    failures = attester.failures + 1
    conn.execute(
        update(attesters).where(attesters.c.id == attester.id).values(
            failures=failures, last_error=error[:2000], next_attempt_at=now + backoff(failures)
        )
    )


# --------------------------------------------------------------------------- tokens


def add_timestamp(conn: Connection, size: int, authority: str, response: bytes,
                  gen_time: datetime, now: datetime) -> None:
    conn.execute(
        _insert_ignoring_duplicates(conn, ledger_timestamps).values(
            tree_size=size, authority=authority, response=response, gen_time=gen_time,
            created_at=now,
        )
    )


def add_cosignature(conn: Connection, size: int, witness: str, vkey: str, line: str,
                    cosigned_at: datetime, now: datetime) -> None:
    conn.execute(
        _insert_ignoring_duplicates(conn, ledger_cosignatures).values(
            tree_size=size, witness=witness, vkey=vkey, line=line, cosigned_at=cosigned_at,
            created_at=now,
        )
    )


@dataclass(frozen=True)
class StoredTimestamp:
    tree_size: int
    authority: str
    response: bytes
    gen_time: datetime


def timestamps_at(conn: Connection, size: int) -> list[StoredTimestamp]:
    rows = conn.execute(
        select(ledger_timestamps).where(ledger_timestamps.c.tree_size == size)
        .order_by(ledger_timestamps.c.id)
    )
    return [StoredTimestamp(int(r.tree_size), r.authority, bytes(r.response),
                            _aware(r.gen_time) or r.gen_time) for r in rows]


def cosignature_lines(conn: Connection, size: int) -> list[str]:
    rows = conn.execute(
        select(ledger_cosignatures.c.line).where(ledger_cosignatures.c.tree_size == size)
        .order_by(ledger_cosignatures.c.witness)
    )
    return [r.line for r in rows]


def cosigned_note(conn: Connection, cp: StoredCheckpoint) -> str:
    """The checkpoint with its witnesses' cosignature lines added after the log's own."""
    lines = cosignature_lines(conn, cp.tree_size)
    return cp.note + "".join(line + "\n" for line in lines)


def attested_checkpoint(conn: Connection, min_size: int) -> StoredCheckpoint | None:
    """The checkpoint to prove an entry with: of those of size ≥ ``min_size``, the one
    with the most attestations (the largest among equals); else the latest."""
    counts: dict[int, int] = {}
    for table in (ledger_timestamps, ledger_cosignatures):
        rows = conn.execute(
            select(table.c.tree_size, func.count()).where(table.c.tree_size >= min_size)
            .group_by(table.c.tree_size)
        )
        for size, count in rows:
            counts[int(size)] = counts.get(int(size), 0) + int(count)
    if counts:
        best = max(counts, key=lambda s: (counts[s], s))
        found = checkpoint_at(conn, best)
        if found is not None:
            return found
    latest = latest_checkpoint(conn)
    return latest if latest is not None and latest.tree_size >= min_size else None


def attestation_fields(conn: Connection, size: int, witnesses: list[dict[str, str]],
                       tsa_roots: list[str]) -> dict[str, Any]:
    """What a proof bundle or evidence manifest carries about one checkpoint."""
    return {
        "timestamps": [
            {"tsa": t.authority, "response": base64.b64encode(t.response).decode("ascii")}
            for t in timestamps_at(conn, size)
        ],
        "witnesses": witnesses,
        "tsa_roots": tsa_roots,
    }


def checkpoints_since(conn: Connection, size: int) -> list[StoredCheckpoint]:
    rows = conn.execute(
        select(ledger_checkpoints).where(ledger_checkpoints.c.tree_size > size)
        .order_by(ledger_checkpoints.c.tree_size)
    )
    return [_checkpoint(r) for r in rows]
