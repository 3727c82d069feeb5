"""Signed receipts at submission and the monitor that checks they were honoured."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.core.errors import NotFound
from registry.core.ledger import receipt as core_receipt
from registry.core.ledger import store
from registry.core.tamga_verify import verify_receipt
from registry.extensions import db
from registry.models.job import Job
from registry.models.receipt import Receipt
from registry.models.user import User
from registry.models.work import Work
from registry.services import ledger
from registry.services.settings import RegistrySettings


def issue(work: Work, actor: User, settings: RegistrySettings) -> Receipt:
    """Sign the receipt for a registration just accepted (flushed with it)."""
    signed = core_receipt.issue(
        settings.keyring,
        origin=settings.ledger_origin,
        registration_number=work.registration_number,
        submitted_at=work.registered_at,
        main_file_sha256=work.main_file.sha256,
        account_commitment=ledger.account_commitment(actor, work.registration_number),
        max_merge_seconds=settings.max_merge_seconds,
    )
    row = Receipt(work=work, issued_at=work.registered_at,
                  deadline=datetime.fromisoformat(signed["merge_deadline"][:-1] + "+00:00"),
                  document=json.dumps(signed, ensure_ascii=False, indent=2) + "\n")
    db.session.add(row)
    db.session.flush()
    return row


def receipt_of(work: Work) -> Receipt:
    if work.receipt is None:
        raise NotFound(_l("This registration has no receipt."))
    return work.receipt


@dataclass
class Breach:
    registration_number: str
    deadline: datetime
    merged_at: datetime | None
    problem: str  # "late", "not merged", "mismatch", "bad signature"
    detail: str = ""


@dataclass
class MonitorReport:
    checked: int = 0
    honoured: int = 0
    pending: int = 0  # not merged yet, deadline not passed
    breaches: list[Breach] = field(default_factory=list)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def monitor(settings: RegistrySettings, now: datetime) -> MonitorReport:
    """Check every receipt issued: its signature holds, and the ledger has the promised
    entry, written no later than the receipt's deadline. Reads only."""
    conn = db.session.connection()
    vkeys = [k["vkey"] for k in store.published_keys(conn)] or settings.keyring.vkeys()
    report = MonitorReport()
    rows = db.session.execute(
        select(Receipt, Work.registration_number, Work.ledger_index, Work.status)
        .join(Work, Work.id == Receipt.work_id).order_by(Receipt.deadline)
    ).all()
    for receipt, number, index, status in rows:
        report.checked += 1
        document = receipt.data
        deadline = _utc(receipt.deadline)
        signature = verify_receipt(document, vkeys)
        if not all(c.ok for c in signature):
            bad = next(c for c in signature if not c.ok)
            report.breaches.append(Breach(number, deadline, None, "bad signature", bad.detail))
            continue
        entry = store.get_entries(conn, index, index + 1) if index is not None else []
        if not entry:
            if now <= deadline:
                report.pending += 1
                continue
            report.breaches.append(Breach(number, deadline, None, "not merged",
                                          _why_not_merged(receipt.work_id, status.value)))
            continue
        merged_at = _utc(entry[0].created_at)
        problems = core_receipt.receipt_entry_mismatches(
            document, json.loads(entry[0].entry.decode("utf-8")))
        if problems:
            report.breaches.append(Breach(number, deadline, merged_at, "mismatch",
                                          "; ".join(problems)))
        elif merged_at > deadline:
            late = (merged_at - deadline).total_seconds()
            report.breaches.append(Breach(number, deadline, merged_at, "late",
                                          f"{late:.0f} s after the deadline"))
        else:
            report.honoured += 1
    return report


def _why_not_merged(work_id: int, status: str) -> str:
    job = db.session.scalar(select(Job).where(Job.work_id == work_id)
                            .order_by(Job.id.desc()).limit(1))
    reason = f"; job {job.status.value}" + (f": {job.error}" if job.error else "") if job else ""
    return f"work {status}{reason}"
