"""``flask tokens …`` and ``flask works …`` command groups."""

from __future__ import annotations

from flask import Flask


def init_commands(app: Flask) -> None:
    from registry.commands.tokens import tokens_cli
    from registry.commands.works import works_cli

    app.cli.add_command(tokens_cli)
    app.cli.add_command(works_cli)
    from registry.commands.evidence import disputes_cli, evidence_cli  # issue 8

    app.cli.add_command(evidence_cli)
    app.cli.add_command(disputes_cli)
