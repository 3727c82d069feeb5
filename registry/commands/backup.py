"""``flask backup create DIR`` and ``flask backup restore DIR``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from registry.core import backup
from registry.core.errors import BackupError
from registry.extensions import db

backup_cli = AppGroup("backup", help="Back up the registry and restore a backup.")
FOLDER = click.Path(file_okay=False, path_type=Path)


def _database_url() -> str:
    return db.engine.url.render_as_string(hide_password=False)


@backup_cli.command("create")
@click.argument("folder", type=FOLDER)
def create_command(folder: Path) -> None:
    """Write the database, the stored files and the signing keys into FOLDER (new or
    empty), consistent with each other, with a checksummed manifest. The registry
    may keep running meanwhile."""
    settings = current_app.extensions["tamga.settings"]
    db.session.remove()
    try:
        report = backup.create(_database_url(), settings.store.root, settings.keys_dir, folder)
    except BackupError as exc:
        raise click.ClickException(exc.message) from None
    for key in report.missing:
        click.echo(f"warning: {key} is referred to but was not in the store "
                   "(see `flask storage check`)", err=True)
    click.echo(f"Backup of a {report.dialect} database (revision {report.revision}): "
               f"{report.works} works, {report.ledger_size} ledger entries, {report.files} "
               f"files, {report.bytes / 1e6:.1f} MB in {report.folder}")


@backup_cli.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Restore the backup in FOLDER into this instance, whose database and store must
    be empty; then verify the ledger with the restored keys."""
    settings = current_app.extensions["tamga.settings"]
    url = _database_url()

    def close_connections() -> None:
        db.session.remove()
        db.engine.dispose()

    try:
        report = backup.restore(folder, url, settings.store.root, settings.keys_dir,
                                before_database=close_connections)
    except BackupError as exc:
        raise click.ClickException(exc.message) from None
    db.engine.dispose()
    click.echo(f"Restored a {report.dialect} database (revision {report.revision}), "
               f"{report.files} stored files and {report.keys} key files.")
    if report.moved_aside:
        click.echo(f"This instance's own unused keys were moved to {report.moved_aside}.")
    _verify_restored(settings)
    click.echo("Run `flask db upgrade` if this code is newer than the backup, then restart "
               "the web and worker processes.")


def _verify_restored(settings) -> None:
    from registry.core.ledger import keys, store

    ring = keys.load_keyring(settings.keys_dir)
    conn = db.session.connection()
    published = {k["vkey"] for k in store.published_keys(conn)}
    if published and not set(ring.vkeys()) & published:
        raise click.ClickException("the restored keys are not the ones the ledger publishes")
    report = store.verify_ledger(conn, sorted(published) or ring.vkeys(),
                                 origin=settings.ledger_origin, every_size_checkpointed=False)
    db.session.rollback()
    if not report.ok:
        raise click.ClickException(f"the restored ledger does not verify: "
                                   f"{report.first_problem}")
    click.echo(f"The restored ledger verifies: {report.entries_checked} entries, "
               f"{report.checkpoints_checked} checkpoints.")
