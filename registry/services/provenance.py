"""Provenance use cases: read what a file declares, compare it with the creator's
declaration, hand out credentialed copies, and keep AI-training reservations.

Kind-neutral: nothing here asks which media kind a work is; the C2PA library
and the XMP/tag readers decide from the bytes what they can read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, BinaryIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.core import c2pa_signing, embedded_write
from registry.core.errors import Conflict, UnsupportedMediaType, ValidationFailed
from registry.core.media import DetectedType, receive_upload, sniff
from registry.core.provenance import ProvenanceReport, declaration_mismatch, inspect_file
from registry.extensions import db
from registry.models.provenance import TrainingReservation, WorkProvenance
from registry.models.user import User
from registry.models.work import AIUse, Work, WorkStatus
from registry.services import audit, ledger
from registry.services.settings import RegistrySettings

SHIPPED_TRUST_LIST = Path(__file__).resolve().parent.parent / "data" / "c2pa-trust-list.pem"


class AIDeclarationMismatch(ValidationFailed):
    """The file says one thing about AI and the creator another; they must confirm."""

    code = "ai_declaration_mismatch"


# Trust -------------------------------------------------------------------------------

def trust_list_path(settings: RegistrySettings) -> Path:
    return settings.instance_dir / "c2pa" / "trust-list.pem"


def trust_list_source(settings: RegistrySettings) -> Path:
    """The list in force: the one installed by ``trust-list update``, else the shipped one."""
    installed = trust_list_path(settings)
    return installed if installed.exists() else SHIPPED_TRUST_LIST


def trust_anchors(settings: RegistrySettings) -> list[x509.Certificate]:
    """The third-party anchors in force (Tamga's own CA not included)."""
    source = trust_list_source(settings)
    text = source.read_text("utf-8") if source.exists() else ""
    if "BEGIN CERTIFICATE" not in text:
        return []
    return x509.load_pem_x509_certificates(text.encode())


def trust_anchors_pem(settings: RegistrySettings) -> str:
    """The trust list in force plus Tamga's own CA, as the C2PA reader takes it."""
    own = c2pa_signing.ensure_identity(settings.keys_dir).ca_pem.decode("ascii")
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii")
                   for c in trust_anchors(settings)) + own


def update_trust_list(settings: RegistrySettings, data: bytes) -> int:
    """Install a new trust list (PEM certificates); returns how many it holds."""
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise ValidationFailed(_l("The file holds no PEM certificate."), field="file")
    path = trust_list_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# C2PA trust list installed {datetime.now(UTC).isoformat(timespec='seconds')}\n"
    path.write_text(header + "".join(
        c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs), "utf-8")
    return len(certs)


def certificate_summary(cert: x509.Certificate) -> dict[str, str]:
    """A certificate's subject, SHA-256 fingerprint and end of validity."""
    return {"subject": cert.subject.rfc4514_string(),
            "fingerprint": cert.fingerprint(hashes.SHA256()).hex(":").upper(),
            "not_after": cert.not_valid_after_utc.date().isoformat()}


def ca_summary(settings: RegistrySettings) -> dict[str, str]:
    """The CA's subject and SHA-256 fingerprint, for /verify."""
    pem = c2pa_signing.ensure_identity(settings.keys_dir).ca_pem
    return certificate_summary(x509.load_pem_x509_certificate(pem))


# Reading at registration --------------------------------------------------------------

def inspect(path: Path, mime: str, settings: RegistrySettings) -> ProvenanceReport:
    return inspect_file(path, mime, trust_anchors_pem(settings))


def reader(settings: RegistrySettings
           ) -> Callable[[Path, DetectedType | None], ProvenanceReport]:
    """Reads a received file's provenance (a lookup's query file), sniffing its type
    unless the caller already did."""
    def read(path: Path, detected: DetectedType | None = None) -> ProvenanceReport:
        return inspect(path, (detected or sniff(path)).mime, settings)

    return read


def report_record(report: ProvenanceReport | None) -> dict[str, Any] | None:
    """A query file's provenance in the API's words (no declaration to compare it with)."""
    if report is None:
        return None
    c, i = report.c2pa, report.iptc
    return {"c2pa": {"state": c.state, "claim_generator": c.claim_generator,
                     "signer": c.signer, "digital_source_type": c.digital_source_type},
            "iptc": {"digital_source_type": i.digital_source_type, "ai_system": i.ai_system,
                     "data_mining": i.data_mining},
            "file_declares": report.file_ai_claim}


def check_declaration(report: ProvenanceReport, declared: AIUse, *, confirmed: bool) -> bool:
    """Whether the declaration contradicts the file; unconfirmed, that stops the upload."""
    mismatch = declaration_mismatch(declared.value, report.file_ai_claim)
    if mismatch and not confirmed:
        raise AIDeclarationMismatch(mismatch_message(report.file_ai_claim, declared),
                                    field="ai_use", file_declares=report.file_ai_claim)
    return mismatch


def mismatch_message(file_claim: str | None, declared: AIUse):
    return _l("Your file says it is %(file)s, but you declared: %(declared)s. Check the AI "
              "declaration, or confirm it: the registration then goes to a moderator with "
              "both statements.",
              file=file_claim_label(file_claim), declared=ai_use_label(declared))


#: Larger files are not pre-checked (they would be sent twice); the check at submit runs.
PRECHECK_MAX_BYTES = 200 * 1024 * 1024


def precheck_limit(settings: RegistrySettings) -> int:
    return min(settings.limits.max_bytes, PRECHECK_MAX_BYTES)


def precheck_upload(stream: BinaryIO, settings: RegistrySettings) -> ProvenanceReport:
    """What a chosen file declares, read before the registration form is sent.

    The registration form's pre-check: the file is received with the usual limits
    (at most :data:`PRECHECK_MAX_BYTES`), read like at registration, and deleted;
    nothing is stored or recorded. The check at registration stays the one that counts.
    """
    limits = dataclasses.replace(settings.limits, max_bytes=precheck_limit(settings))
    received = receive_upload(stream, settings.upload_dir, limits)
    try:
        return inspect(received.path, sniff(received.path).mime, settings)
    finally:
        received.path.unlink(missing_ok=True)


def precheck_answer(report: ProvenanceReport) -> dict[str, Any]:
    """For each possible declaration, whether it contradicts the file and what to say."""
    claim = report.file_ai_claim
    return {
        "file_declares": claim,
        "provenance": report.as_dict(),
        "mismatch": {use.value: (str(mismatch_message(claim, use))
                                 if declaration_mismatch(use.value, claim) else None)
                     for use in AIUse},
    }


def file_claim_label(claim: str | None) -> str:
    return str({"ai_generated": _l("AI-generated"), "ai_assisted": _l("made with AI assistance"),
                "none": _l("made without AI")}.get(claim or "", _l("silent about AI")))


def ai_use_label(declared: AIUse) -> str:
    return str({AIUse.NONE: _l("no AI used"), AIUse.AI_ASSISTED: _l("created with AI assistance"),
                AIUse.AI_GENERATED: _l("generated by AI")}[declared])


def attach(work: Work, report: ProvenanceReport) -> WorkProvenance:
    """Keep what the file declared beside the work."""
    c, i = report.c2pa, report.iptc
    row = WorkProvenance(
        c2pa_state=c.state, c2pa_claim_generator=c.claim_generator, c2pa_signer=c.signer,
        c2pa_digital_source_type=c.digital_source_type,
        iptc_digital_source_type=i.digital_source_type, ai_system=i.ai_system,
        ai_system_version=i.ai_system_version, ai_prompt=i.ai_prompt, data_mining=i.data_mining,
        file_ai_claim=report.file_ai_claim, declared_ai_use=work.ai_use.value,
        ai_declaration_mismatch=declaration_mismatch(work.ai_use.value, report.file_ai_claim),
        read_at=datetime.now(UTC),
    )
    work.provenance = row
    return row


def refresh_mismatch(work: Work) -> None:
    """After the owner amends the declaration, compare it again with the file."""
    row = work.provenance
    if row is None:
        return
    mismatch = declaration_mismatch(work.ai_use.value, row.file_ai_claim)
    if mismatch != row.ai_declaration_mismatch or row.declared_ai_use != work.ai_use.value:
        row.ai_declaration_mismatch = mismatch
        row.declared_ai_use = work.ai_use.value
        row.mismatch_reviewed_at = None
        row.mismatch_reviewed_by = None


def ledger_facts(work: Work) -> dict[str, Any]:
    """What the file declared, for the registration's ledger entry."""
    row = work.provenance
    if row is None:
        return {"c2pa": "none", "file_digital_source_type": None, "file_declares": None,
                "ai_declaration_mismatch": False}
    return {
        "c2pa": row.c2pa_state,
        "file_digital_source_type": row.c2pa_digital_source_type or row.iptc_digital_source_type,
        "file_declares": row.file_ai_claim,
        "ai_declaration_mismatch": row.ai_declaration_mismatch,
    }


def provenance_record(row: WorkProvenance | None) -> dict[str, Any]:
    """The ``provenance`` object of the API, exactly as the issue spells it."""
    if row is None:
        return {"c2pa": {"state": "none", "claim_generator": None, "signer": None,
                         "digital_source_type": None},
                "iptc": {"digital_source_type": None, "ai_system": None, "data_mining": None},
                "ai_declaration_mismatch": False}
    return {
        "c2pa": {"state": row.c2pa_state, "claim_generator": row.c2pa_claim_generator,
                 "signer": row.c2pa_signer, "digital_source_type": row.c2pa_digital_source_type},
        "iptc": {"digital_source_type": row.iptc_digital_source_type,
                 "ai_system": row.ai_system, "data_mining": row.data_mining},
        "ai_declaration_mismatch": row.ai_declaration_mismatch,
    }


def ai_label_kind(work: Work) -> str | None:
    """The visible AI label a work carries ("ai_generated", "ai_assisted" or None),
    by the creator's word or by its file's."""
    row = getattr(work, "provenance", None)
    return label_kind(work.ai_use.value, row.file_ai_claim if row is not None else None)


def label_kind(declared: str | None, file_claim: str | None) -> str | None:
    """The label from the declaration and what the file says (a valid manifest or IPTC)."""
    if AIUse.AI_GENERATED.value in (declared, file_claim):
        return "ai_generated"
    if AIUse.AI_ASSISTED.value in (declared, file_claim):
        return "ai_assisted"
    return None


# Moderation ---------------------------------------------------------------------------

def mismatch_queue() -> list[WorkProvenance]:
    return list(db.session.scalars(
        select(WorkProvenance).join(Work).where(
            WorkProvenance.ai_declaration_mismatch.is_(True),
            WorkProvenance.mismatch_reviewed_at.is_(None),
            Work.status != WorkStatus.WITHDRAWN,
        ).order_by(WorkProvenance.read_at)))


def mark_reviewed(actor: User, work: Work, where: audit.Where | None = None) -> None:
    if not actor.is_moderator:
        raise Conflict(_l("Only moderators review AI declarations."))
    if work.provenance is None or not work.provenance.ai_declaration_mismatch:
        raise Conflict(_l("This work has no AI declaration to review."))
    work.provenance.mismatch_reviewed_at = datetime.now(UTC)
    work.provenance.mismatch_reviewed_by = actor.id
    audit.record("ai_declaration_reviewed", actor=actor, target=work.registration_number,
                 where=where)


# Training reservations ---------------------------------------------------------------

def record_registration_reservation(work: Work, ledger_index: int) -> TrainingReservation:
    """The registration entry itself states the reservation: it dates it."""
    row = TrainingReservation(work_id=work.id, reserved=work.ai_training_opt_out,
                              at=work.registered_at, ledger_index=ledger_index)
    db.session.add(row)
    return row


def current_reservation(work: Work) -> TrainingReservation | None:
    return db.session.scalar(select(TrainingReservation).where(
        TrainingReservation.work_id == work.id).order_by(TrainingReservation.id.desc()).limit(1))


def reserved_since(work: Work) -> TrainingReservation | None:
    """The entry since which the reservation has held without a break, or None."""
    rows = list(db.session.scalars(select(TrainingReservation).where(
        TrainingReservation.work_id == work.id).order_by(TrainingReservation.id.desc())))
    since = None
    for row in rows:
        if not row.reserved:
            break
        since = row
    return since


def change_reservation(actor: User, work: Work, reserved: bool, *,
                       settings: RegistrySettings) -> TrainingReservation | None:
    """Record a changed reservation in the ledger (called when metadata is amended)."""
    current = current_reservation(work)
    if current is not None and current.reserved == reserved:
        return None
    if current is None and work.ledger_index is None:
        return None  # still processing: the registration entry will state it
    now = datetime.now(UTC)
    appended = ledger.record("work.reservation_changed", now, {
        "registration_number": work.registration_number, "ai_training_reserved": reserved,
        "account_commitment": ledger.account_commitment(actor, work.registration_number)},
        settings)
    row = TrainingReservation(work_id=work.id, reserved=reserved, at=now,
                              ledger_index=appended.leaf_index)
    db.session.add(row)
    db.session.flush()
    return row


# Credentialed copies -------------------------------------------------------------------

def generator_version() -> str:
    try:
        return version("tamga")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def credentialed_copy(work: Work, settings: RegistrySettings, work_url: str) -> bytes:
    """The registered file with IPTC/XMP written, then a Tamga-signed C2PA manifest."""
    if work.ledger_index is None or work.status not in (WorkStatus.REGISTERED,
                                                        WorkStatus.CONFLICT):
        raise Conflict(_l("This work is still being processed; its certificate is not ready."))
    main = work.main_file
    if not c2pa_signing.can_sign(main.media_type):
        raise UnsupportedMediaType(
            _l("Content Credentials cannot be written into this file's format."),
            reason=main.media_type)
    data = settings.store.path(main.storage_key).read_bytes()
    dst = work.ai_use.iptc_source_type
    if work.ai_use == AIUse.NONE and work.provenance is not None and work.provenance.says_ai:
        dst = work.provenance.c2pa_digital_source_type or work.provenance.iptc_digital_source_type
    mining = "DMI-PROHIBITED-AIMLTRAINING" if work.ai_training_opt_out else "DMI-ALLOWED"
    data = embedded_write.embed(data, main.media_type, {
        "digital_source_type": dst, "data_mining": mining, "ai_system": work.ai_tools,
        "web_statement": work_url})
    registration = {
        "registration_number": work.registration_number,
        "registered_at": ledger.rfc3339(work.registered_at),
        "ledger_index": work.ledger_index,
        "sha256": main.sha256,
        "url": work_url,
        "ai_training_reserved": work.ai_training_opt_out,
    }
    has_manifest = work.provenance is not None and work.provenance.c2pa_state != "none"
    import c2pa

    try:
        return _sign(work, data, dst, registration, has_manifest, settings)
    except c2pa.C2paError as exc:
        raise UnsupportedMediaType(
            _l("Content Credentials cannot be written into this file's format."),
            c2pa_error=type(exc).__name__) from exc


def _sign(work: Work, data: bytes, dst: str | None, registration: dict[str, Any],
          has_manifest: bool, settings: RegistrySettings) -> bytes:
    main = work.main_file
    return c2pa_signing.sign_copy(
        data, main.media_type, c2pa_signing.ensure_identity(settings.keys_dir),
        title=main.original_name, digital_source_type=dst or "digitalCapture",
        software_agent=work.ai_tools, registration=registration,
        training_allowed=not work.ai_training_opt_out,
        parent=has_manifest and work.provenance is not None
        and work.provenance.c2pa_state != "invalid",
        generator_version=generator_version())
