"""``flask works import``: register a folder of files for one account."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from registry.commands.common import transaction, user_by_email
from registry.core.errors import TamgaError
from registry.extensions import db
from registry.services import bulk_import

works_cli = AppGroup("works", help="Register and manage works.")
IMPORT_OUTCOME_LABELS = {
    bulk_import.REGISTERED: "registered",
    bulk_import.CONFLICT: "conflicts (matched an earlier work of another account)",
    bulk_import.SKIPPED: "skipped (already registered by this account)",
    bulk_import.REJECTED: "rejected",
    bulk_import.FAILED: "failed while processing",
}


@works_cli.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--owner", "email", required=True, help="E-mail of the account that registers.")
@click.option("--metadata", "csv_path", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path),
              help="CSV: filename,title,work_type,created_on,authors,ai_use,description,"
                   "visibility (authors as Name:role:share;Name2:role:share).")
@click.option("--workers", type=click.IntRange(1, 16),
              help="Threads of the job runner running the registration jobs. Default: 2 "
                   "on PostgreSQL, 1 on SQLite, which lets one writer in at a time.")
def import_works(folder: Path, email: str, csv_path: Path | None, workers: int | None) -> None:
    """Register every audio, image and video file in FOLDER for the account --owner."""
    owner = user_by_email(email)
    workers = workers or (1 if db.engine.dialect.name == "sqlite" else 2)
    from registry.tasks import runner_of

    runner = runner_of(current_app)
    try:
        rows = bulk_import.read_metadata_csv(csv_path) if csv_path else {}
    except (TamgaError, UnicodeDecodeError) as exc:
        raise click.ClickException(
            f"Cannot read {csv_path}: {getattr(exc, 'message', exc)}") from None
    settings = current_app.extensions["tamga.settings"]
    total = len(bulk_import.list_files(folder, [csv_path] if csv_path else []))
    with click.progressbar(length=total, label="Registering", show_pos=True,
                           item_show_func=lambda o: o.filename if o else "") as bar:
        summary = bulk_import.import_folder(
            owner, folder, settings=settings, metadata=rows,
            exclude=[csv_path] if csv_path else [], on_file=lambda o: bar.update(1, o),
            transaction=transaction, run_jobs=runner.run_many, workers=workers)
    # The last entries may wait for the next checkpoint interval: sign it now, so that
    # their certificates are ready without a worker running.
    from registry.services import attestations

    attestations.sign_pending_checkpoint(settings)
    print_summary(summary)


def print_summary(summary: bulk_import.ImportSummary) -> None:
    counts = summary.counts
    click.echo(f"\n{len(summary.outcomes)} files in {summary.seconds:.1f} s:")
    for status, label in IMPORT_OUTCOME_LABELS.items():
        click.echo(f"  {counts.get(status, 0):5d} {label}")
    for outcome in summary.with_status(bulk_import.CONFLICT):
        click.echo(f"  conflict  {outcome.filename}: {outcome.registration_number} "
                   f"{outcome.reason}")
    for status in (bulk_import.SKIPPED, bulk_import.REJECTED, bulk_import.FAILED):
        for outcome in summary.with_status(status):
            click.echo(f"  {status:9s} {outcome.filename}: {outcome.reason}")
    for name in summary.missing:
        click.echo(f"  not found {name} (named in the CSV, not in the folder)")
