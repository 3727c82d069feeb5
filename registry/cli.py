"""`flask` commands: users (and, as the registry grows, index, ledger, keys ...)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.kinds import all_kinds, index_names
from registry.models.user import Role, User
from registry.services import accounts

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--password", help="Password (asked for when omitted).")
@click.option("--name", "display_name", help="Display name (defaults to the e-mail's name).")
@click.option("--admin", "role", flag_value=Role.ADMIN.value, help="Make an administrator.")
@click.option("--moderator", "role", flag_value=Role.MODERATOR.value, help="Make a moderator.")
def create_user(email: str, password: str | None, display_name: str | None, role: str | None):
    """Create a confirmed account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.register_account(
            email, password, display_name or email.split("@")[0], role=Role(role or "creator")
        )
        accounts.confirm_email_now(user)
    except TamgaError as exc:
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@users_cli.command("list")
def list_users():
    """List every account."""
    for user in db.session.scalars(select(User).order_by(User.id)):
        confirmed = "confirmed" if user.is_confirmed else "unconfirmed"
        click.echo(f"{user.id}\t{user.email}\t{user.role.value}\t{confirmed}\t{user.display_name}")


def _user_or_fail(email: str) -> User:
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account with the e-mail {email}.")
    return user


@users_cli.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def set_role(email: str, role: str):
    """Make an account a creator, moderator or admin (recorded in the audit trail).
    A new moderator or admin must set up two-factor sign-in at the next page they open."""
    user = _user_or_fail(email)
    accounts.change_role(user, Role(role))
    db.session.commit()
    click.echo(f"{user.email} is now {user.role.value}.")


@users_cli.command("reset-2fa")
@click.argument("email")
def reset_two_factor(email: str):
    """Turn off two-factor sign-in of an account that lost its phone and recovery codes
    (after checking who asks); its sessions end, and staff must enrol again."""
    from registry.services import two_factor

    user = _user_or_fail(email)
    two_factor.reset_by_operator(user)
    db.session.commit()
    click.echo(f"Two-factor sign-in of {user.email} is reset.")


# Background worker ------------------------------------------------------------------

@click.command("worker")
@click.option("--burst", is_flag=True, help="Run what is due, then stop.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 32),
              help="Jobs run at the same time.")
@with_appcontext
def worker_command(burst: bool, threads: int) -> None:
    """Run background jobs and periodic tasks (woken through Redis when configured).

    Survives restarts of the database and of Redis; a job held by a worker that was
    killed is taken over once its lease lapses."""
    import signal
    import threading

    from flask import current_app

    from registry.tasks import runner_of

    runner = runner_of(current_app)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    wake = "Redis" if runner.waker.redis_url else f"polling every {runner.poll_seconds:g} s"
    click.echo(f"Job runner {runner.name}: {threads} thread(s), woken by {wake}")
    loops = [threading.Thread(target=runner.work, args=(stop,), kwargs={"burst": burst},
                              daemon=True) for _ in range(threads)]
    for loop in loops:
        loop.start()
    try:
        while any(loop.is_alive() for loop in loops):
            for loop in loops:
                loop.join(timeout=0.5)
    except KeyboardInterrupt:
        stop.set()


# Matching indexes -------------------------------------------------------------------

index_cli = AppGroup("index", help="The matching indexes of every media kind, and text search.")


@index_cli.command("rebuild")
@click.option("--only", type=click.Choice([*index_names(), "search"]),
              help="Rebuild just one index.")
def rebuild_index(only: str | None) -> None:
    """Recreate the index rows from the stored fingerprints, hashes and metadata."""
    for name, rebuild in ((spec.name, spec.rebuild) for kind in all_kinds()
                          for spec in kind.indexes):
        if only and only != name:
            continue
        conn = db.session.connection()
        with click.progressbar(length=1, label=f"Rebuilding the {name} index") as bar:
            def progress(done: int, total: int, bar=bar) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            count = rebuild(conn, progress)
        db.session.commit()
        click.echo(f"{name}: {count} indexed")
    if only in (None, "search"):
        _rebuild_search()


def _rebuild_search() -> None:
    """The folded text documents (after a change of the folding rules, e.g. new scripts)."""
    from registry.services import search

    count = search.rebuild_index(db.session.connection())
    db.session.commit()
    click.echo(f"search: {count} works read")


# Ledger and keys ---------------------------------------------------------------------

ledger_cli = AppGroup("ledger", help="The tamper-evident ledger.")
keys_cli = AppGroup("keys", help="The registry's signing keys.")


def _settings():
    from flask import current_app

    return current_app.extensions["tamga.settings"]


@ledger_cli.command("verify")
def verify_ledger_command() -> None:
    """Recompute the whole tree and check every stored checkpoint."""
    import time

    from registry.core.ledger import store

    conn = db.session.connection()
    vkeys = [key["vkey"] for key in store.published_keys(conn)] or _settings().keyring.vkeys()
    started = time.monotonic()
    with click.progressbar(length=1, label="Verifying the ledger") as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        # With one checkpoint per interval, not every size has one.
        report = store.verify_ledger(conn, vkeys, progress, origin=_settings().ledger_origin,
                                     every_size_checkpointed=_settings().checkpoint_interval == 0)
    seconds = time.monotonic() - started
    click.echo(f"{report.entries_checked} entries and {report.checkpoints_checked} checkpoints "
               f"checked in {seconds:.1f} s")
    if not report.ok:
        raise click.ClickException(f"ledger inconsistent: {report.first_problem}")
    click.echo("The ledger is consistent.")


@ledger_cli.command("monitor")
def monitor_command() -> None:
    """Check that every receipt issued at submission was honoured: its work is in the
    ledger, as promised, no later than the receipt's deadline. Exits 1 on any breach."""
    from datetime import UTC, datetime

    from registry.services import receipts

    report = receipts.monitor(_settings(), datetime.now(UTC))
    db.session.rollback()
    for breach in report.breaches:
        merged = breach.merged_at.isoformat() if breach.merged_at else "-"
        click.echo(f"{breach.problem:<13} {breach.registration_number}  deadline "
                   f"{breach.deadline.isoformat()}  merged {merged}  {breach.detail}")
    click.echo(f"{report.checked} receipts checked: {report.honoured} honoured, "
               f"{report.pending} pending (deadline not reached), "
               f"{len(report.breaches)} not honoured")
    if report.breaches:
        raise click.ClickException(f"{len(report.breaches)} receipts not honoured in time")


@ledger_cli.command("mirror", with_appcontext=False)
@click.argument("url")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--key", "keys", multiple=True, help="the log's public key (else fetched once)")
def mirror_command(url: str, folder: Path, keys: tuple[str, ...]) -> None:
    """Copy another Tamga's tiled ledger (URL like https://host/ledger) into FOLDER and
    verify it: entries against tiles, tiles against the signed checkpoint, and the new
    checkpoint against the copy made before."""
    from registry.core.errors import LedgerError
    from registry.core.ledger.mirror import mirror

    try:
        report = mirror(url, folder, list(keys) or None)
    except (LedgerError, OSError) as exc:
        raise click.ClickException(f"the mirror was not updated: {exc}") from exc
    click.echo(f"Keys: {report.keys_source}")
    click.echo(f"{report.origin}: {report.size} entries verified (previous copy "
               f"{report.previous_size}); {report.fetched} files fetched, {report.kept} kept.")


@keys_cli.command("rotate")
def rotate_keys() -> None:
    """Add a new signing key; the old public key stays published."""
    import time
    from datetime import UTC, datetime

    from registry.core.ledger import keys, store

    current = keys.load_keyring(_settings().keys_dir).current
    if datetime.now(UTC).replace(microsecond=0) <= current.valid_from:
        time.sleep(1.1)  # key validity is counted in whole seconds: start in the next one
    ring = keys.rotate(_settings().keys_dir)
    store.publish_keys(db.session.connection(), ring)
    db.session.commit()
    click.echo(f"New signing key: {ring.current.name}")
    from registry.core import c2pa_signing

    signer = c2pa_signing.rotate_identity(_settings().keys_dir).certificate
    click.echo(f"New Content Credentials signing certificate: serial {signer.serial_number:x}")
    click.echo("Restart the web and worker processes so that they sign with it.")


@keys_cli.command("list")
def list_keys() -> None:
    """The published public keys with their validity periods."""
    from registry.core.ledger import store

    store.publish_keys(db.session.connection(), _settings().keyring)
    db.session.commit()
    for key in store.published_keys(db.session.connection()):
        until = key["valid_until"] or "now"
        click.echo(f"{key['name']}\t{key['valid_from']} → {until}\t{key['vkey']}")


# Storage ------------------------------------------------------------------------------

storage_cli = AppGroup("storage", help="The stored files.")


@storage_cli.command("check")
@click.option("--repair", is_flag=True,
              help="Delete orphaned files and leftovers of interrupted uploads.")
@click.option("--grace", default=3600, show_default=True, type=click.IntRange(0),
              help="Leave files younger than this many seconds alone (uploads in progress).")
def storage_check_command(repair: bool, grace: int) -> None:
    """List stored files no row refers to, rows whose file is missing, and leftovers."""
    from registry.services import storage_check

    report = storage_check.check(_settings(), repair=repair, grace_seconds=grace)
    db.session.rollback()
    for key in report.orphans:
        click.echo(f"orphan    {key}")
    for key, what in report.missing:
        click.echo(f"missing   {key} ({what})")
    for path in report.leftovers:
        click.echo(f"leftover  {path}")
    click.echo(f"{len(report.orphans)} orphans, {len(report.missing)} missing, "
               f"{len(report.leftovers)} leftovers" + (f"; {report.removed} removed"
                                                      if repair else ""))
    if report.missing:
        raise click.ClickException("stored files are missing: restore them from a backup")


def init_cli(app: Flask) -> None:
    for command in (users_cli, worker_command, index_cli, ledger_cli, keys_cli, storage_cli):
        app.cli.add_command(command)
    from registry.commands import init_commands

    init_commands(app)
