"""Backups that restore: the database, the stored files and the
signing keys, consistent with each other, in one folder with a checksummed manifest.

``create`` dumps the database first (SQLite: the online backup API; PostgreSQL:
``pg_dump`` in a snapshot exported by a transaction that also lists the storage keys
the rows refer to), then copies the stored files and the keys. A file or key written
after the dump is harmless (an orphan, which ``flask storage check --repair``
removes); everything the dumped rows refer to is checked to be in the backup.

``restore`` checks every checksum before it writes anything, refuses a database that
already holds tables or a store that already holds files, stages the files and keys
beside their targets, restores the database in one transaction, and only then moves
the staged folders into place. No Flask here: the command passes URLs and paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, make_url

from registry.core.errors import BackupError
from registry.core.storage import keys_in

FORMAT = "tamga-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
STORAGE = "storage"
KEYS = "keys"


@dataclass
class BackupReport:
    folder: Path
    dialect: str
    revision: str | None
    files: int = 0
    bytes: int = 0
    ledger_size: int = 0
    works: int = 0
    missing: list[str] = field(default_factory=list)  # referenced but not in the store


@dataclass
class RestoreReport:
    dialect: str
    revision: str | None
    files: int
    keys: int
    moved_aside: Path | None  # the target's own (unused) keys, kept, not deleted


# --------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(root: Path) -> Iterable[Path]:
    if root.exists():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                yield path


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the PostgreSQL tools, the password in the env."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt install postgresql-client); "
                          "it must match the server's major version or be newer")
    return found


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


def referenced_keys(conn: Connection) -> set[str]:
    """Storage keys the rows refer to (as ``flask storage check`` counts them)."""
    keys: set[str] = set()
    keys.update(conn.execute(text("SELECT storage_key FROM work_files")).scalars())
    keys.update(conn.execute(text(
        "SELECT thumbnail_key FROM works WHERE thumbnail_key IS NOT NULL")).scalars())
    for column, table in (("key_frames", "works"), ("comparison", "disputes")):
        for value in conn.execute(text(
                f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")).scalars():
            keys.update(keys_in(json.loads(value) if isinstance(value, str) else value))
    keys.update(conn.execute(text(
        "SELECT storage_key FROM dispute_evidence WHERE storage_key IS NOT NULL")).scalars())
    return {k for k in keys if k}


def _facts(conn: Connection) -> dict[str, Any]:
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    size = conn.execute(text("SELECT COUNT(*) FROM ledger_entries")).scalar() or 0
    works = conn.execute(text("SELECT COUNT(*) FROM works")).scalar() or 0
    return {"alembic_revision": revision, "ledger_size": int(size), "works": int(works)}


# --------------------------------------------------------------------------- create


def create(database_url: str, storage_root: Path, keys_dir: Path, folder: Path,
           *, now: datetime | None = None) -> BackupReport:
    """Write a backup into ``folder`` (which must be empty or absent)."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: give a new folder for each backup")
    folder.mkdir(parents=True, exist_ok=True)
    url = make_url(database_url)
    try:
        if url.get_backend_name() == "sqlite":
            facts, refs = _dump_sqlite(url, folder / SQLITE_FILE)
            dump = SQLITE_FILE
        elif url.get_backend_name() == "postgresql":
            facts, refs = _dump_postgres(url, folder / PG_FILE)
            dump = PG_FILE
        else:
            raise BackupError(f"cannot back up a {url.get_backend_name()} database")
        # After the dump: everything the dumped rows refer to is already stored.
        _copy_tree(Path(storage_root), folder / STORAGE)
        _copy_tree(Path(keys_dir), folder / KEYS)
        if not any(_files_under(folder / KEYS)):
            raise BackupError(f"no signing keys in {keys_dir}")
        stored = {p.relative_to(folder / STORAGE).as_posix()
                  for p in _files_under(folder / STORAGE)}
        missing = sorted(refs - stored)
        files: dict[str, dict[str, object]] = {}
        manifest = {
            "format": FORMAT,
            "created_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "database": {"dialect": url.get_backend_name(), "file": dump, **facts},
            "missing_from_store": missing,
            "files": files,
        }
        total = 0
        for path in _files_under(folder):
            rel = path.relative_to(folder).as_posix()
            size = path.stat().st_size
            files[rel] = {"sha256": _sha256(path), "size": size}
            total += size
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no half-made backup that looks whole
        raise
    return BackupReport(folder, url.get_backend_name(), facts["alembic_revision"],
                        len(manifest["files"]), total, facts["ledger_size"], facts["works"],
                        missing)


def _dump_sqlite(url: URL, target: Path) -> tuple[dict[str, Any], set[str]]:
    source = url.database
    if not source or source == ":memory:" or not Path(source).exists():
        raise BackupError(f"no SQLite database file at {source!r}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # online: a consistent copy while the registry keeps running
    finally:
        dst.close()
        src.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return _facts(conn), referenced_keys(conn)
    finally:
        engine.dispose()


def _dump_postgres(url: URL, target: Path) -> tuple[dict[str, Any], set[str]]:
    pg_dump = _tool("pg_dump")
    dsn, env = _libpq(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            facts, refs = _facts(conn), referenced_keys(conn)
            # The dump sees exactly what this transaction saw.
            _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                  f"--snapshot={snapshot}", f"--file={target}", f"--dbname={dsn}"], env)
            conn.execute(text("COMMIT"))
    finally:
        engine.dispose()
    return facts, refs


def _copy_tree(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in _files_under(source):
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)


# --------------------------------------------------------------------------- restore


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, after checking every file against its checksum."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} holds no {MANIFEST}: not a Tamga backup") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{MANIFEST} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{folder} is not a {FORMAT} backup")
    for rel, meta in manifest.get("files", {}).items():
        path = folder / rel
        if not path.is_file():
            raise BackupError(f"the backup lacks {rel}")
        if path.stat().st_size != meta["size"] or _sha256(path) != meta["sha256"]:
            raise BackupError(f"{rel} differs from its checksum: the backup is damaged")
    return manifest


def _database_is_empty(url: URL) -> bool:
    if url.get_backend_name() == "sqlite":
        path = url.database
        if not path or not Path(path).exists() or Path(path).stat().st_size == 0:
            return True
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def restore(folder: Path, database_url: str, storage_root: Path, keys_dir: Path,
            *, before_database: Callable[[], None] | None = None) -> RestoreReport:
    """Restore ``folder`` into an empty database and an empty store.

    The target's keys folder may hold keys a fresh instance made for itself (nothing
    was signed with them while its database is empty): they are moved aside to
    ``<keys>.replaced-<time>``, never deleted. ``before_database`` lets the caller
    close its own connections first.
    """
    folder, storage_root, keys_dir = Path(folder), Path(storage_root), Path(keys_dir)
    manifest = read_manifest(folder)
    url = make_url(database_url)
    dialect = manifest["database"]["dialect"]
    if url.get_backend_name() != dialect:
        raise BackupError(f"the backup holds a {dialect} database; this instance uses "
                          f"{url.get_backend_name()}")
    if not _database_is_empty(url):
        raise BackupError("the database already holds tables: restore into a new, empty "
                          "database (do not run `flask db upgrade` before restoring)")
    if any(_files_under(storage_root)):
        raise BackupError(f"the store {storage_root} already holds files: restore into "
                          "an empty instance")
    storage_root.parent.mkdir(parents=True, exist_ok=True)
    keys_dir.parent.mkdir(parents=True, exist_ok=True)
    staged_files = Path(tempfile.mkdtemp(prefix=".restore-", dir=storage_root.parent))
    staged_keys = Path(tempfile.mkdtemp(prefix=".restore-keys-", dir=keys_dir.parent))
    try:
        _copy_tree(folder / STORAGE, staged_files)
        _copy_tree(folder / KEYS, staged_keys)
        if before_database:
            before_database()
        if dialect == "sqlite":
            _restore_sqlite(folder / SQLITE_FILE, url)
        else:
            _restore_postgres(folder / PG_FILE, url)
    except BaseException:
        shutil.rmtree(staged_files, ignore_errors=True)
        shutil.rmtree(staged_keys, ignore_errors=True)
        raise
    if storage_root.exists():
        shutil.rmtree(storage_root)  # empty (checked above): only folders
    os.replace(staged_files, storage_root)
    aside = None
    if keys_dir.exists():
        aside = keys_dir.with_name(
            f"{keys_dir.name}.replaced-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}")
        os.replace(keys_dir, aside)
    os.replace(staged_keys, keys_dir)
    os.chmod(keys_dir, 0o700)
    return RestoreReport(dialect, manifest["database"].get("alembic_revision"),
                         sum(1 for _ in _files_under(storage_root)),
                         sum(1 for _ in _files_under(keys_dir)), aside)


def _restore_sqlite(dump: Path, url: URL) -> None:
    target = Path(str(url.database))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.restore.part")
    try:
        src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _restore_postgres(dump: Path, url: URL) -> None:
    pg_restore = _tool("pg_restore")
    dsn, env = _libpq(url)
    _run([pg_restore, "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", f"--dbname={dsn}", str(dump)], env)
