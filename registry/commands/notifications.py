"""``flask notifications digest``: the daily e-mail of later matches."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from registry.extensions import db
from registry.models.user import utcnow
from registry.services import match_alerts

notifications_cli = AppGroup("notifications", help="E-mails held back for digests.")


@notifications_cli.command("digest")
def digest() -> None:
    """Send every owner who chose a daily digest one e-mail with their new later matches
    (run once a day, e.g. from cron)."""
    sent = match_alerts.send_digests(mailer=current_app.extensions["tamga.mailer"],
                                     base_url=current_app.extensions["tamga.settings"].base_url,
                                     now=utcnow())
    db.session.commit()
    click.echo(f"digests sent: {sent}")
