"""`flask` commands: users (and, as the registry grows, index, ledger, keys ...)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from registry.core.errors import TamgaError
from registry.extensions import db
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


# Background worker ------------------------------------------------------------------

@click.command("worker")
@click.option("--burst", is_flag=True, help="Run what is queued, then stop.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run background jobs: an RQ worker with Redis, else a polling worker."""
    from flask import current_app

    from registry import tasks
    from registry.services import jobs

    app = current_app._get_current_object()
    pending = jobs.pending_job_ids(limit=10_000)
    db.session.rollback()  # end the read: SQLite transactions hold the write lock
    if app.config["TAMGA_WORKER"] == "rq":
        from redis import Redis
        from rq import Worker

        from registry.tasks import rq_entry

        rq_entry.bind(app)
        queue = tasks.rq_queue(app.config["TAMGA_REDIS_URL"])
        for job_id in pending:  # jobs queued while no worker ran, or lost with Redis
            queue.enqueue("registry.tasks.rq_entry.run", job_id, job_timeout=3600)
        click.echo(f"RQ worker on queue '{tasks.QUEUE_NAME}' ({len(pending)} pending re-queued)")
        Worker([queue], connection=Redis.from_url(app.config["TAMGA_REDIS_URL"])).work(
            burst=burst)
        return
    worker = tasks.ThreadWorker(app)
    click.echo(f"Polling worker ({len(pending)} pending)")
    if burst:
        while worker.run_pending():
            pass
        return
    worker.start()
    worker.thread.join()


# Matching indexes -------------------------------------------------------------------

index_cli = AppGroup("index", help="The audio and image matching indexes.")


@index_cli.command("rebuild")
@click.option("--only", type=click.Choice(["audio", "image"]), help="Rebuild just one index.")
def rebuild_index(only: str | None) -> None:
    """Recreate the index rows from the stored fingerprints and hashes."""
    from registry.core.matching import audio_index, image_index

    for name, module in (("audio", audio_index), ("image", image_index)):
        if only and only != name:
            continue
        conn = db.session.connection()
        with click.progressbar(length=1, label=f"Rebuilding the {name} index") as bar:
            def progress(done: int, total: int, bar=bar) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            count = module.rebuild(conn, progress)
        db.session.commit()
        click.echo(f"{name}: {count} indexed")


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

        report = store.verify_ledger(conn, vkeys, progress, origin=_settings().ledger_origin)
    seconds = time.monotonic() - started
    click.echo(f"{report.entries_checked} entries and {report.checkpoints_checked} checkpoints "
               f"checked in {seconds:.1f} s")
    if not report.ok:
        raise click.ClickException(f"ledger inconsistent: {report.first_problem}")
    click.echo("The ledger is consistent.")


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


def init_cli(app: Flask) -> None:
    for command in (users_cli, worker_command, index_cli, ledger_cli, keys_cli):
        app.cli.add_command(command)
    from registry.commands import init_commands

    init_commands(app)
