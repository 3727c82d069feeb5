"""Outgoing mail: SMTP when configured, otherwise ``.eml`` files in an outbox folder.

The outbox lets a local user (and the tests) confirm an account with no mail
server at all: the page that sent the message says where the file is.
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path


@dataclass(frozen=True)
class MailSettings:
    sender: str
    outbox_dir: Path
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: bool = True


@dataclass(frozen=True)
class Delivery:
    """Where a message went: ``outbox_path`` is set when it was written to disk."""

    recipient: str
    outbox_path: Path | None


class Mailer:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    @property
    def uses_outbox(self) -> bool:
        return not self.settings.smtp_host

    def send(self, to: str, subject: str, body: str) -> Delivery:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain="tamga.local")
        message.set_content(body)
        if self.uses_outbox:
            return Delivery(to, self._write_outbox(message, to))
        self._send_smtp(message)
        return Delivery(to, None)

    def _write_outbox(self, message: EmailMessage, to: str) -> Path:
        outbox = self.settings.outbox_dir
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        safe_to = re.sub(r"[^A-Za-z0-9@._-]", "_", to)
        path = outbox / f"{stamp}-{safe_to}.eml"
        path.write_bytes(bytes(message))
        return path

    def _send_smtp(self, message: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=30) as smtp:
            if s.smtp_tls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            smtp.send_message(message)


def mailer_from_config(config: dict) -> Mailer:
    return Mailer(
        MailSettings(
            sender=config["MAIL_DEFAULT_SENDER"],
            outbox_dir=Path(config["TAMGA_OUTBOX_DIR"]),
            smtp_host=config.get("MAIL_SERVER"),
            smtp_port=config.get("MAIL_PORT", 587),
            smtp_user=config.get("MAIL_USERNAME"),
            smtp_password=config.get("MAIL_PASSWORD"),
            smtp_tls=config.get("MAIL_USE_TLS", True),
        )
    )
