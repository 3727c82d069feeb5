"""Outgoing mail: SMTP when configured, otherwise ``.eml`` files in an outbox folder.

Nothing is sent during a request: services get an :class:`OutboxMailer`, which
queues a ``mail.send`` job in the caller's transaction; the job runner delivers it
after the commit through the real :class:`Mailer`, retrying while the SMTP server is
down. A rolled-back request sends nothing, and a slow mail server delays no page.

The ``.eml`` folder lets a local user (and the tests) confirm an account with no mail
server at all: the page that queued the message says where the files go.
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class MailSettings:
    sender: str
    outbox_dir: Path
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: bool = True
    smtp_timeout: float = 30.0


@dataclass(frozen=True)
class Delivery:
    """Where a message goes: ``outbox_path`` is the folder (or file) when it is written
    to disk instead of sent."""

    recipient: str
    outbox_path: Path | None


class MailSender(Protocol):
    def send(self, to: str, subject: str, body: str) -> Delivery: ...


class Mailer:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    @property
    def uses_outbox(self) -> bool:
        return not self.settings.smtp_host

    def send(self, to: str, subject: str, body: str) -> Delivery:
        """A UTF-8 text message. The subject is encoded whole as RFC 2047 words, so
        folding a long Kazakh or Russian subject never drops the spaces between words
        (``email.policy.default`` moves them between encoded words, where readers drop them)."""
        message = MIMEText(body, "plain", "utf-8")
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = Header(subject, "utf-8", header_name="Subject")  # type: ignore[assignment]
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain="tamga.local")
        if self.uses_outbox:
            return Delivery(to, self._write_outbox(message, to))
        self._send_smtp(message)
        return Delivery(to, None)

    def _write_outbox(self, message: MIMEText, to: str) -> Path:
        outbox = self.settings.outbox_dir
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        safe_to = re.sub(r"[^A-Za-z0-9@._-]", "_", to)
        path = outbox / f"{stamp}-{safe_to}.eml"
        path.write_bytes(message.as_bytes())
        return path

    def _send_smtp(self, message: MIMEText) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=s.smtp_timeout) as smtp:
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
            smtp_timeout=float(config.get("TAMGA_SMTP_TIMEOUT", 30)),
        )
    )


#: The job kind that delivers one queued message.
MAIL_JOB = "mail.send"


class OutboxMailer:
    """What services send mail through: a ``mail.send`` job in the same transaction."""

    def __init__(self, delivery: Mailer) -> None:
        self.delivery = delivery

    @property
    def uses_outbox(self) -> bool:
        return self.delivery.uses_outbox

    def send(self, to: str, subject: str, body: str) -> Delivery:
        from registry.services import jobs

        jobs.create_job(MAIL_JOB, payload={"to": to, "subject": subject, "body": body})
        return Delivery(to, self.delivery.settings.outbox_dir if self.uses_outbox else None)


def deliver(mailer: Mailer, payload: dict) -> Delivery:
    """Send a queued message (the ``mail.send`` job)."""
    return mailer.send(payload["to"], payload["subject"], payload["body"])
