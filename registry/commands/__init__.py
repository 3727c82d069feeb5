"""``flask tokens …``, ``flask works …``, ``flask backup …`` and other command groups."""

from __future__ import annotations

from flask import Flask


def init_commands(app: Flask) -> None:
    from registry.commands.tokens import tokens_cli
    from registry.commands.works import works_cli

    app.cli.add_command(tokens_cli)
    app.cli.add_command(works_cli)
    from registry.commands.evidence import disputes_cli, evidence_cli

    app.cli.add_command(evidence_cli)
    app.cli.add_command(disputes_cli)
    from registry.commands.provenance import provenance_cli, reservations_cli

    app.cli.add_command(provenance_cli)
    app.cli.add_command(reservations_cli)
    from registry.commands.notifications import notifications_cli

    app.cli.add_command(notifications_cli)
    from registry.commands.backup import backup_cli

    app.cli.add_command(backup_cli)
