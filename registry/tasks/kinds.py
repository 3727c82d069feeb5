"""The job kinds and periodic tasks of the registry, bound to one runner's app.

Adding a periodic task is one line in :func:`register`, e.g.
``runner.every("ledger.checkpoint", 600, checkpoint)`` with ``checkpoint(ctx)``.
"""

from __future__ import annotations

import logging

from flask import Flask

from registry.extensions import db
from registry.models.user import utcnow
from registry.models.work import Work, WorkStatus
from registry.services import disputes, match_alerts, processing
from registry.services.mail import MAIL_JOB, deliver
from registry.services.works import PROCESS_REGISTRATION
from registry.tasks.runner import JobContext, Runner

log = logging.getLogger(__name__)
DISPUTES_TICK = "disputes.tick"
MATCH_DIGEST = "notifications.digest"
STORAGE_SWEEP = "storage.sweep"
LEDGER_ATTEST = "ledger.attest"


def register(runner: Runner) -> None:
    runner.handler(PROCESS_REGISTRATION, run_registration, on_failed=registration_failed)
    runner.handler(MAIL_JOB, send_mail, max_attempts=8)
    runner.every(DISPUTES_TICK, 3600, disputes_tick)
    runner.every(MATCH_DIGEST, 86400, match_digest)
    runner.every(STORAGE_SWEEP, 3600, sweep_storage)
    runner.every(LEDGER_ATTEST, 1, attest_ledger)  # checkpoint per interval, TSAs, witnesses


def attest_ledger(ctx: JobContext) -> None:
    """Sign the pending checkpoint; time-stamps and cosignatures of the latest one."""
    from registry.services import attestations

    attestations.attest_all(ctx.settings)


def run_registration(ctx: JobContext) -> None:
    processing.process_registration(ctx.job, ctx.settings, end_transaction=ctx.commit,
                                    mailer=ctx.app.extensions["tamga.outbox"])


def registration_failed(ctx: JobContext) -> None:
    """The owner sees a failed registration (with the job's reason) and may retry it."""
    work = db.session.get(Work, ctx.job.work_id) if ctx.job.work_id else None
    if work is not None and work.status == WorkStatus.PROCESSING:
        work.status = WorkStatus.FAILED


def send_mail(ctx: JobContext) -> None:
    deliver(ctx.app.extensions["tamga.mailer"], ctx.payload)


def dispute_context(app: Flask) -> disputes.Context:
    days = int(app.config.get("TAMGA_DISPUTE_RESPONSE_DAYS", disputes.DEFAULT_RESPONSE_DAYS))
    return disputes.Context(app.extensions["tamga.settings"], app.extensions["tamga.outbox"],
                            disputes.utc(), days)


def disputes_tick(ctx: JobContext) -> None:
    """Reminders before a response deadline, and moving passed deadlines to moderators."""
    disputes.tick(dispute_context(ctx.app))


def match_digest(ctx: JobContext) -> None:
    """Once a day: one e-mail per owner with the later matches held for the digest."""
    match_alerts.send_digests(mailer=ctx.app.extensions["tamga.outbox"],
                              base_url=ctx.settings.base_url, now=utcnow())


def sweep_storage(ctx: JobContext) -> None:
    """Delete orphaned stored files and leftovers of interrupted uploads (older than an hour)."""
    from registry.services import storage_check

    report = storage_check.check(ctx.settings, repair=True)
    if report.missing:
        log.warning("storage: %d stored files are missing (run flask storage check)",
                    len(report.missing))
