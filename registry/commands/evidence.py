"""``flask evidence export`` and ``flask disputes tick``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.services import disputes, evidence, works

evidence_cli = AppGroup("evidence", help="Evidence bundles of disputes and works.")
disputes_cli = AppGroup("disputes", help="Dispute deadlines and reminders.")


@evidence_cli.command("export")
@click.option("--dispute", "dispute_id", type=int, help="The dispute's id.")
@click.option("--work", "number", help="A work's registration number.")
@click.option("--lang", default="kk+ru", show_default=True, help="Report and certificate language.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export(dispute_id: int | None, number: str | None, lang: str, output: Path) -> None:
    """Write the evidence bundle (ZIP) of a dispute or of a work, as a moderator would get it."""
    if (dispute_id is None) == (number is None):
        raise click.UsageError("Give exactly one of --dispute and --work.")
    settings = current_app.extensions["tamga.settings"]
    try:
        if dispute_id is not None:
            dispute = disputes.get_dispute(dispute_id)
            data = evidence.dispute_bundle(dispute, evidence.OPERATOR, lang, settings)
        else:
            data = evidence.work_bundle(works.find_work(number), evidence.OPERATOR, lang,
                                        settings)
    except TamgaError as exc:
        raise click.ClickException(str(exc.message)) from None
    output.write_bytes(data)
    click.echo(f"{output}: {len(data)} bytes")


@disputes_cli.command("tick")
@click.option("--reminder-days", default=disputes.REMINDER_DAYS, show_default=True, type=int)
def tick(reminder_days: int) -> None:
    """Send due reminders and move disputes whose deadline passed to the moderators.

    The job runner does this by itself every hour (``disputes.tick``); this command
    is for running it at once."""
    from registry.tasks.kinds import dispute_context

    reminded, passed = disputes.tick(dispute_context(current_app), reminder_days)
    db.session.commit()
    click.echo(f"reminders sent: {reminded}; deadlines applied: {passed}")
