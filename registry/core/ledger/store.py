"""The ledger in SQL: append entries with signed checkpoints, serve proofs, verify it all.

Every function takes a SQLAlchemy ``Connection`` and works inside the caller's
transaction; none commits. The same code runs on SQLite and PostgreSQL.

Concurrency: ``append`` assigns leaf indexes without gaps or duplicates. On
PostgreSQL it takes a transaction-scoped advisory lock first, so writers queue
up (use the default READ COMMITTED isolation). On SQLite, writers are
serialised by the database lock; ``append``'s first statement is the INSERT, so
it takes the write lock before reading anything. A caller that reads in the
same transaction *before* appending should open its SQLite transactions with
``BEGIN IMMEDIATE`` (see ``use_immediate_transactions``) and set a busy timeout,
otherwise SQLite may refuse the lock upgrade with "database is locked".
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    and_,
    event,
    func,
    or_,
    select,
    text,
)

from registry.core.errors import LedgerError, NotFound, ValidationFailed
from registry.core.ledger import merkle
from registry.core.ledger.canonical import canonical_json, validate_entry
from registry.core.ledger.keys import KeyRing
from registry.core.sql import metadata
from registry.core.tamga_verify import (
    PROOF_FORMAT,
    Check,
    NoteError,
    ProofError,
    VerifierKey,
    leaf_hash,
    note_body,
    parse_checkpoint,
    parse_verifier_key,
    verify_consistency,
    verify_note,
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("kind", String(40), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Hash of every complete (perfect) subtree of level >= 1; level 0 is ledger_entries.leaf_hash.
ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("node_index", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

ledger_keys = Table(
    "ledger_keys",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("vkey", String(200), nullable=False, unique=True),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=True),
)

LEDGER_TABLES = [ledger_entries, ledger_nodes, ledger_checkpoints, ledger_keys]

# pg_advisory_xact_lock key: the first 8 bytes of SHA-256("tamga-ledger") as a signed int64.
ADVISORY_LOCK_KEY = -0xB588E8F074D5546

_APPEND_ONLY = ("ledger_entries", "ledger_nodes", "ledger_checkpoints")
_KEY_RETIREMENT_ONLY = (
    "OLD.valid_until IS NULL AND NEW.valid_until IS NOT NULL AND NEW.name = OLD.name"
    " AND NEW.vkey = OLD.vkey AND NEW.valid_from = OLD.valid_from"
)

POSTGRES_IMMUTABILITY_STATEMENTS = [
    """CREATE OR REPLACE FUNCTION tamga_ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$""",
    f"""CREATE OR REPLACE FUNCTION tamga_ledger_keys_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {_KEY_RETIREMENT_ONLY} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger_keys only accepts new keys and retiring a key: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$""",
    *(
        f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t}"
        " FOR EACH ROW EXECUTE FUNCTION tamga_ledger_refuse_change()"
        for t in _APPEND_ONLY
    ),
    "CREATE TRIGGER ledger_keys_guard BEFORE UPDATE OR DELETE ON ledger_keys"
    " FOR EACH ROW EXECUTE FUNCTION tamga_ledger_keys_guard()",
    *(
        f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}"
        " FOR EACH STATEMENT EXECUTE FUNCTION tamga_ledger_refuse_change()"
        for t in (*_APPEND_ONLY, "ledger_keys")
    ),
]

POSTGRES_IMMUTABILITY_DROP_STATEMENTS = [
    *(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}" for t in (*_APPEND_ONLY, "ledger_keys")),
    "DROP TRIGGER IF EXISTS ledger_keys_guard ON ledger_keys",
    *(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}" for t in _APPEND_ONLY),
    "DROP FUNCTION IF EXISTS tamga_ledger_keys_guard()",
    "DROP FUNCTION IF EXISTS tamga_ledger_refuse_change()",
]

# For the migration: refuse UPDATE, DELETE and TRUNCATE on the ledger tables
# (ledger_keys accepts only setting valid_until on a key that had none).
POSTGRES_IMMUTABILITY_SQL = ";\n\n".join(POSTGRES_IMMUTABILITY_STATEMENTS) + ";\n"
POSTGRES_IMMUTABILITY_DROP_SQL = ";\n".join(POSTGRES_IMMUTABILITY_DROP_STATEMENTS) + ";\n"

SQLITE_IMMUTABILITY_STATEMENTS = [
    *(
        f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t}"
        f" BEGIN SELECT RAISE(ABORT, 'the ledger table {t} is append-only'); END"
        for t in _APPEND_ONLY
        for op in ("UPDATE", "DELETE")
    ),
    "CREATE TRIGGER ledger_keys_no_delete BEFORE DELETE ON ledger_keys"
    " BEGIN SELECT RAISE(ABORT, 'ledger_keys is append-only'); END",
    f"CREATE TRIGGER ledger_keys_no_update BEFORE UPDATE ON ledger_keys"
    f" WHEN NOT ({_KEY_RETIREMENT_ONLY})"
    " BEGIN SELECT RAISE(ABORT, 'ledger_keys only accepts retiring a key'); END",
]

SQLITE_IMMUTABILITY_DROP_STATEMENTS = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_no_{op}"
        for t in (*_APPEND_ONLY, "ledger_keys")
        for op in ("update", "delete")
    ),
]


def immutability_statements(dialect: str, *, drop: bool = False) -> list[str]:
    """The trigger DDL statements for ``dialect`` ("postgresql" or "sqlite"), one per item."""
    table = {
        ("postgresql", False): POSTGRES_IMMUTABILITY_STATEMENTS,
        ("postgresql", True): POSTGRES_IMMUTABILITY_DROP_STATEMENTS,
        ("sqlite", False): SQLITE_IMMUTABILITY_STATEMENTS,
        ("sqlite", True): SQLITE_IMMUTABILITY_DROP_STATEMENTS,
    }
    try:
        return list(table[(dialect, drop)])
    except KeyError:
        raise LedgerError(f"no ledger immutability triggers for {dialect}") from None


def apply_immutability_triggers(conn: Connection, *, drop: bool = False) -> None:
    """Create (or drop) the append-only triggers on this connection's database.

    Statements go through ``text()`` so that SQLAlchemy escapes the ``%`` of
    PL/pgSQL's RAISE for the driver; an Alembic migration can call this with
    ``op.get_bind()`` or ``op.execute`` each of ``immutability_statements``.
    """
    for statement in immutability_statements(conn.dialect.name, drop=drop):
        conn.execute(text(statement))


@dataclass(frozen=True)
class AppendResult:
    leaf_index: int
    leaf_hash: bytes
    checkpoint_text: str


@dataclass(frozen=True)
class StoredEntry:
    leaf_index: int
    entry: bytes
    leaf_hash: bytes
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str
    created_at: datetime


@dataclass(frozen=True)
class LedgerReport:
    ok: bool
    entries_checked: int
    checkpoints_checked: int
    first_problem: str | None


# --------------------------------------------------------------------------- helpers


def use_immediate_transactions(engine: Engine) -> None:
    """Make a SQLite engine open every transaction with BEGIN IMMEDIATE.

    This is SQLAlchemy's documented recipe; it lets a transaction that reads
    before it appends wait for the write lock instead of failing.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _fetch_perfect(conn: Connection, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Hashes of the given perfect subtrees, in at most two queries."""
    keys = set(keys)
    found: dict[merkle.NodeKey, bytes] = {}
    leaves = [index for level, index in keys if level == 0]
    if leaves:
        rows = conn.execute(
            select(ledger_entries.c.leaf_index, ledger_entries.c.leaf_hash).where(
                ledger_entries.c.leaf_index.in_(leaves)
            )
        )
        found.update({(0, i): bytes(h) for i, h in rows})
    by_level: dict[int, list[int]] = {}
    for level, index in sorted(keys):
        if level > 0:
            by_level.setdefault(level, []).append(index)
    if by_level:
        # One (level = l AND node_index IN ...) term per level: both PostgreSQL and
        # SQLite turn each into primary-key lookups.
        cond = or_(
            *(
                and_(ledger_nodes.c.level == level, ledger_nodes.c.node_index.in_(indexes))
                for level, indexes in by_level.items()
            )
        )
        nodes = conn.execute(
            select(ledger_nodes.c.level, ledger_nodes.c.node_index, ledger_nodes.c.hash).where(cond)
        )
        found.update({(lv, ix): bytes(h) for lv, ix, h in nodes})
    missing = keys - found.keys()
    if missing:
        raise LedgerError(f"stored subtree hashes are missing: {sorted(missing)[:5]}")
    return found


def _hashes(conn: Connection, ranges: Sequence[merkle.Range]) -> list[bytes]:
    found = _fetch_perfect(conn, merkle.nodes_for(ranges))
    return merkle.hashes_for(ranges, lambda level, index: found[(level, index)])


def tree_size(conn: Connection) -> int:
    """Number of entries in the ledger."""
    top = conn.execute(select(func.max(ledger_entries.c.leaf_index))).scalar()
    return 0 if top is None else int(top) + 1


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The C2SP tlog-checkpoint body: origin, size and base64 root hash lines."""
    if not origin or "\n" in origin:
        raise LedgerError("the checkpoint origin is one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


# --------------------------------------------------------------------------- append


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def _insert_entry(conn: Connection, data: bytes, kind: str, created: datetime) -> int:
    """Insert the entry at the next index; the INSERT is the first write, taking the lock."""
    next_index = select(
        func.coalesce(func.max(ledger_entries.c.leaf_index) + 1, 0)
    ).scalar_subquery()
    stmt = (
        ledger_entries.insert()
        .values(
            leaf_index=next_index,
            entry=data,
            leaf_hash=leaf_hash(data),
            kind=kind,
            created_at=created,
        )
        .returning(ledger_entries.c.leaf_index)
    )
    return int(conn.execute(stmt).scalar_one())


def append(
    conn: Connection,
    entry: Mapping[str, Any],
    keyring: KeyRing,
    origin: str,
    *,
    now: datetime | None = None,
    checkpoint_interval: float = 0.0,
) -> AppendResult:
    """Append one entry in the caller's transaction, with a new signed checkpoint
    unless one was signed less than ``checkpoint_interval`` seconds ago.

    Under load that gives one checkpoint per interval instead of one per append;
    the entries appended meanwhile are covered by the next checkpoint, which
    ``sign_checkpoint_if_behind`` (a periodic task) or the next append signs.
    ``checkpoint_text`` is then empty.
    """
    validate_entry(dict(entry))
    data = canonical_json(entry)
    created = _now(now)
    _lock(conn)
    index = _insert_entry(conn, data, str(entry["kind"]), created)
    latest = conn.execute(
        select(ledger_checkpoints.c.tree_size, ledger_checkpoints.c.created_at)
        .order_by(ledger_checkpoints.c.tree_size.desc()).limit(1)
    ).first()
    if latest is not None and latest.tree_size > index:
        raise LedgerError(f"the ledger has {index} entries but its latest checkpoint disagrees")
    defer = (
        checkpoint_interval > 0
        and latest is not None
        and (created - _as_utc(latest.created_at)).total_seconds() < checkpoint_interval
    )
    known = _fetch_perfect(conn, merkle.perfect_subtrees(0, index))
    frontier = [(lv, ix, known[(lv, ix)]) for lv, ix in merkle.perfect_subtrees(0, index)]
    leaf = leaf_hash(data)
    frontier, completed = merkle.append_leaf(frontier, index, leaf)
    if completed:
        conn.execute(
            ledger_nodes.insert(),
            [{"level": lv, "node_index": ix, "hash": h} for lv, ix, h in completed],
        )
    if defer:
        return AppendResult(index, leaf, "")
    root = merkle.frontier_root(frontier)
    note = keyring.sign_note(checkpoint_body(origin, index + 1, root))
    conn.execute(
        ledger_checkpoints.insert().values(
            tree_size=index + 1, root_hash=root, note=note, created_at=created
        )
    )
    return AppendResult(index, leaf, note)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def sign_checkpoint_if_behind(
    conn: Connection, keyring: KeyRing, origin: str, *, now: datetime | None = None
) -> int | None:
    """Sign a checkpoint of the whole tree if entries were appended after the latest
    one; returns its size (None when the latest checkpoint already covers all)."""
    _lock(conn)
    if conn.dialect.name == "sqlite":
        # Take the write lock before reading, so that no append slips in between.
        conn.execute(text("DELETE FROM ledger_checkpoints WHERE 0"))
    size = tree_size(conn)
    checkpointed = conn.execute(select(func.max(ledger_checkpoints.c.tree_size))).scalar() or 0
    if size <= checkpointed:
        return None
    root = root_at(conn, size)
    note = keyring.sign_note(checkpoint_body(origin, size, root))
    conn.execute(
        ledger_checkpoints.insert().values(
            tree_size=size, root_hash=root, note=note, created_at=_now(now)
        )
    )
    return size


# --------------------------------------------------------------------------- reads and proofs


def get_entries(conn: Connection, start: int, end: int) -> list[StoredEntry]:
    """Entries with ``start <= leaf_index < end``, in order."""
    rows = conn.execute(
        select(ledger_entries)
        .where(ledger_entries.c.leaf_index >= start, ledger_entries.c.leaf_index < end)
        .order_by(ledger_entries.c.leaf_index)
    )
    return [
        StoredEntry(r.leaf_index, bytes(r.entry), bytes(r.leaf_hash), r.kind, r.created_at)
        for r in rows
    ]


def _checkpoint(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(row.tree_size, bytes(row.root_hash), row.note, row.created_at)


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(
        select(ledger_checkpoints).order_by(ledger_checkpoints.c.tree_size.desc()).limit(1)
    ).first()
    return _checkpoint(row) if row else None


def checkpoint_at(conn: Connection, size: int) -> StoredCheckpoint | None:
    row = conn.execute(
        select(ledger_checkpoints).where(ledger_checkpoints.c.tree_size == size)
    ).first()
    return _checkpoint(row) if row else None


def _check_size(conn: Connection, size: int) -> None:
    current = tree_size(conn)
    if size > current:
        raise NotFound.because("ledger_too_small", {"current": current}, tree_size=size)


def inclusion_proof(conn: Connection, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) from the stored subtree hashes."""
    if not 0 <= index < size:
        raise ValidationFailed.because("ledger_leaf_outside", {"index": index, "size": size})
    _check_size(conn, size)
    return _hashes(conn, merkle.inclusion_ranges(index, size))


def consistency_proof(conn: Connection, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[new]) from the stored subtree hashes."""
    if not 0 < old <= new:
        raise ValidationFailed.because("ledger_no_consistency", {"old": old, "new": new})
    _check_size(conn, new)
    return _hashes(conn, merkle.consistency_ranges(old, new))


def root_at(conn: Connection, size: int) -> bytes:
    """The tree head of the first ``size`` entries, from stored subtree hashes."""
    _check_size(conn, size)
    return _hashes(conn, [(0, size)])[0] if size else merkle.EMPTY_ROOT


def proof_bundle(
    conn: Connection,
    leaf_index: int,
    public_keys: Sequence[Mapping[str, Any]],
    *,
    size: int | None = None,
) -> dict[str, Any]:
    """A ``tamga-proof/1`` bundle for one entry, against the latest checkpoint or ``size``'s."""
    cp = latest_checkpoint(conn) if size is None else checkpoint_at(conn, size)
    if cp is None or not 0 <= leaf_index < cp.tree_size:
        raise NotFound.because("ledger_entry_not_checkpointed", leaf_index=leaf_index)
    entry = get_entries(conn, leaf_index, leaf_index + 1)[0]
    proof = inclusion_proof(conn, leaf_index, cp.tree_size)
    return {
        "format": PROOF_FORMAT,
        "entry": base64.b64encode(entry.entry).decode("ascii"),
        "leaf_index": leaf_index,
        "tree_size": cp.tree_size,
        "inclusion_proof": [base64.b64encode(h).decode("ascii") for h in proof],
        "checkpoint": cp.note,
        "public_keys": [
            {k: key[k] for k in ("name", "vkey", "valid_from", "valid_until")}
            for key in public_keys
        ],
    }


def log_consistency_check(conn: Connection, bundle: Mapping[str, Any]) -> Check:
    """Is the bundle's checkpoint a prefix of the registry's current log? (for /verify)

    Run it after ``verify_proof_bundle`` has checked the checkpoint's signature:
    this proves, with a consistency proof from the stored subtree hashes, that
    the log the registry serves today extends the one the certificate saw.
    """
    name = "log consistency"
    try:
        cp = parse_checkpoint(note_body(str(bundle["checkpoint"])))
    except (KeyError, NoteError) as exc:
        return Check(name, False, f"the certificate's checkpoint cannot be read: {exc}")
    latest = latest_checkpoint(conn)
    if cp.size < 1 or latest is None or latest.tree_size < cp.size:
        return Check(name, False, f"the registry's log is shorter than {cp.size} entries")
    try:
        proof = consistency_proof(conn, cp.size, latest.tree_size)
        verify_consistency(cp.size, latest.tree_size, proof, cp.root_hash, latest.root_hash)
    except (ProofError, LedgerError) as exc:
        return Check(name, False, f"tree size {cp.size} is not part of the current log: {exc}")
    return Check(
        name,
        True,
        f"the checkpoint of size {cp.size} is consistent with the current log "
        f"of size {latest.tree_size}",
    )


# --------------------------------------------------------------------------- keys


def _rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite returns naive datetimes; they were stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _insert_ignoring_duplicates(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def publish_keys(conn: Connection, keyring: KeyRing) -> None:
    """Record the key ring's public keys; retire keys the ring has retired. Never deletes."""
    stored = {r.name: r for r in conn.execute(select(ledger_keys))}
    for key in keyring.keys:
        row = stored.get(key.name)
        if row is None:
            # Two workers may publish the same new key at once: the second one is a no-op.
            conn.execute(
                _insert_ignoring_duplicates(conn, ledger_keys).values(
                    name=key.name,
                    vkey=key.vkey,
                    valid_from=key.valid_from,
                    valid_until=key.valid_until,
                )
            )
        elif row.vkey != key.vkey:
            raise LedgerError(f"key {key.name} is published with a different public key")
        elif row.valid_until is None and key.valid_until is not None:
            conn.execute(
                ledger_keys.update()
                .where(ledger_keys.c.name == key.name)
                .values(valid_until=key.valid_until)
            )


def published_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every public key ever used, oldest first, as in a proof bundle's ``public_keys``."""
    rows = conn.execute(select(ledger_keys).order_by(ledger_keys.c.valid_from))
    return [
        {
            "name": r.name,
            "vkey": r.vkey,
            "valid_from": _rfc3339(r.valid_from),
            "valid_until": _rfc3339(r.valid_until),
        }
        for r in rows
    ]


# --------------------------------------------------------------------------- verification


class _Problem(Exception):
    pass


@dataclass
class _Walk:
    """State of a full-ledger verification pass."""

    keys: list[VerifierKey]
    origin: str | None
    checkpoints: dict[int, tuple[bytes, str]]
    nodes: dict[merkle.NodeKey, bytes]
    frontier: list[merkle.FrontierNode]
    size: int = 0
    checkpoints_checked: int = 0

    def add(self, index: int, entry: bytes, stored_hash: bytes) -> None:
        if index != self.size:
            raise _Problem(f"entry {self.size} is missing (next stored entry is {index})")
        leaf = leaf_hash(entry)
        if leaf != stored_hash:
            raise _Problem(f"entry {index}: stored leaf hash does not match the entry bytes")
        self.frontier, completed = merkle.append_leaf(self.frontier, index, leaf)
        self.size += 1
        if self.size in self.checkpoints:
            self.check_checkpoint(self.size)
        for level, node_index, h in completed:
            if self.nodes.pop((level, node_index), None) != h:
                raise _Problem(
                    f"stored subtree hash ({level}, {node_index}) is wrong or missing: "
                    f"it differs from entries {node_index << level} to {self.size - 1}"
                )

    def check_checkpoint(self, size: int) -> None:
        stored_root, note = self.checkpoints.pop(size)
        root = merkle.frontier_root(self.frontier)
        if stored_root != root:
            raise _Problem(f"checkpoint {size}: stored root differs from the entries' tree")
        try:
            body, _ = verify_note(note, self.keys)
            cp = parse_checkpoint(body)
        except NoteError as exc:
            raise _Problem(f"checkpoint {size}: {exc}") from exc
        if cp.size != size or cp.root_hash != root:
            raise _Problem(f"checkpoint {size}: signed size or root differs from the entries")
        if self.origin is not None and cp.origin != self.origin:
            raise _Problem(f"checkpoint {size}: origin {cp.origin!r} is not {self.origin!r}")
        self.checkpoints_checked += 1


def _load_walk(conn: Connection, vkeys: Iterable[str | VerifierKey], origin: str | None) -> _Walk:
    keys = [k if isinstance(k, VerifierKey) else parse_verifier_key(k) for k in vkeys]
    checkpoints = {
        int(size): (bytes(root), note)
        for size, root, note in conn.execute(
            select(
                ledger_checkpoints.c.tree_size,
                ledger_checkpoints.c.root_hash,
                ledger_checkpoints.c.note,
            )
        )
    }
    nodes = {
        (int(lv), int(ix)): bytes(h)
        for lv, ix, h in conn.execute(
            select(ledger_nodes.c.level, ledger_nodes.c.node_index, ledger_nodes.c.hash)
        )
    }
    return _Walk(keys, origin, checkpoints, nodes, [])


def _finish(walk: _Walk, every_size_checkpointed: bool) -> None:
    if walk.checkpoints:
        extra = min(walk.checkpoints)
        raise _Problem(f"checkpoint {extra} is beyond the {walk.size} stored entries")
    if walk.nodes:
        raise _Problem(f"stored subtree hash {min(walk.nodes)} is beyond the stored entries")
    if every_size_checkpointed and walk.checkpoints_checked != walk.size:
        raise _Problem(
            f"only {walk.checkpoints_checked} checkpoints for {walk.size} entries: "
            "some checkpoint is missing"
        )


def verify_ledger(
    conn: Connection,
    vkeys: Iterable[str | VerifierKey],
    progress: Callable[[int, int], None] | None = None,
    *,
    origin: str | None = None,
    every_size_checkpointed: bool = True,
    batch: int = 5000,
) -> LedgerReport:
    """Recompute the whole tree from the stored entries and check every stored checkpoint.

    Checks, in leaf order: indexes are 0..n-1 without gaps, each stored leaf
    hash matches its entry bytes, each stored subtree hash matches, and each
    checkpoint's stored root, signed size and root and signature (by one of
    ``vkeys``) match the recomputed tree. Stops at the first problem.
    ``progress(done, total)`` is called after each batch.
    """
    walk = _load_walk(conn, vkeys, origin)
    total = tree_size(conn)
    cols = (ledger_entries.c.leaf_index, ledger_entries.c.entry, ledger_entries.c.leaf_hash)
    start = 0
    try:
        while True:
            rows = conn.execute(
                select(*cols)
                .where(ledger_entries.c.leaf_index >= start)
                .order_by(ledger_entries.c.leaf_index)
                .limit(batch)
            ).all()
            for index, entry, stored in rows:
                walk.add(int(index), bytes(entry), bytes(stored))
            if progress:
                progress(walk.size, total)
            if len(rows) < batch:
                break
            start = int(rows[-1][0]) + 1
        _finish(walk, every_size_checkpointed)
    except _Problem as problem:
        return LedgerReport(False, walk.size, walk.checkpoints_checked, str(problem))
    return LedgerReport(True, walk.size, walk.checkpoints_checked, None)
