"""``flask provenance trust-list update FILE`` and ``flask reservations export``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from registry.core.errors import TamgaError
from registry.services import provenance, reservations

provenance_cli = AppGroup("provenance", help="Content Credentials (C2PA).")
trust_list_cli = AppGroup("trust-list", help="The C2PA trust list signatures are checked against.")
reservations_cli = AppGroup("reservations", help="Published AI-training reservations.")
provenance_cli.add_command(trust_list_cli)


def _settings():
    return current_app.extensions["tamga.settings"]


@trust_list_cli.command("update")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def update_trust_list(file: Path) -> None:
    """Install FILE (PEM certificates) as the trust list; Tamga's own CA is always added."""
    try:
        count = provenance.update_trust_list(_settings(), file.read_bytes())
    except TamgaError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"Installed {count} trust anchors into {provenance.trust_list_path(_settings())}")


@trust_list_cli.command("show")
def show_trust_list() -> None:
    """Where the trust list in force comes from, and each anchor in it."""
    settings = _settings()
    source = provenance.trust_list_source(settings)
    shipped = source == provenance.SHIPPED_TRUST_LIST
    anchors = provenance.trust_anchors(settings)
    click.echo(f"Trust list: {source}" + (" (shipped)" if shipped else " (installed)"))
    click.echo(f"{len(anchors)} third-party trust anchors")
    for cert in anchors:
        summary = provenance.certificate_summary(cert)
        click.echo(f"  {summary['subject']}  SHA-256 {summary['fingerprint']}  "
                   f"until {summary['not_after']}")
    own = provenance.ca_summary(settings)
    click.echo(f"Always trusted, Tamga's own CA: {own['subject']}  SHA-256 {own['fingerprint']}")


@reservations_cli.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here (default: reservations-<date>.json).")
def export_reservations(output: Path | None) -> None:
    """Write every public reservation as a signed, dated JSON file."""
    document = reservations.export(_settings())
    target = output or Path(f"reservations-{document['generated_at'][:10]}.json")
    target.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    click.echo(f"{document['count']} reservations written to {target}")
