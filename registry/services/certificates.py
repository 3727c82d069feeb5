"""Certificates of registration: the facts of a work plus its ledger proof, signed."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from registry.core import certificates as cert
from registry.core.errors import Conflict
from registry.core.ledger import store
from registry.extensions import db
from registry.models.work import Work, WorkStatus
from registry.services.settings import RegistrySettings

LICENCE_CODES = {
    "all-rights-reserved": "all_rights_reserved", "CC-BY-4.0": "cc_by",
    "CC-BY-SA-4.0": "cc_by_sa", "CC-BY-ND-4.0": "cc_by_nd", "CC-BY-NC-4.0": "cc_by_nc",
    "CC-BY-NC-SA-4.0": "cc_by_nc_sa", "CC-BY-NC-ND-4.0": "cc_by_nc_nd", "CC0-1.0": "cc0",
}
ROLE_CODES = {"camera": "cinematographer", "editor": "other"}
CERTIFIED_STATUSES = {
    WorkStatus.REGISTERED: "registered", WorkStatus.CONFLICT: "conflict",
    WorkStatus.WITHDRAWN: "withdrawn",
}


def proof_bundle(work: Work) -> dict[str, Any]:
    """The machine-readable proof of a work's registration entry (latest checkpoint)."""
    if work.ledger_index is None:
        raise Conflict(_l("This work is still being processed; its certificate is not ready."))
    conn = db.session.connection()
    return store.proof_bundle(conn, work.ledger_index, store.published_keys(conn))


def certificate_facts(work: Work, bundle: dict[str, Any], verify_url: str,
                      status: str | None = None) -> cert.CertificateFacts:
    created = work.creation_date or (str(work.creation_year) if work.creation_year else None)
    return cert.CertificateFacts(
        registration_number=work.registration_number, registered_at=work.registered_at,
        registrant=work.registrant.legal_name_cyrillic or work.registrant.display_name,
        title=work.title, original_title=work.original_title, work_type=work.work_type.value,
        authors=[cert.Author(a.full_name, ROLE_CODES.get(a.role, a.role), a.share)
                 for a in work.authors],
        files=[cert.WorkFile(f.role, f.original_name, f.sha256) for f in work.files],
        ledger=cert.ledger_facts_from_bundle(bundle), verify_url=verify_url,
        created_on=created, published=work.published, published_on=work.published_on,
        publication_place=work.publication_place, publication_url=work.publication_url,
        ai_use=work.ai_use.value, ai_tools=tuple(filter(None, [work.ai_tools])),
        human_contribution=work.human_contribution,
        licence=LICENCE_CODES.get(work.licence, "all_rights_reserved"),
        fingerprint_digest=work.fingerprint_digest, fingerprint_kind=work.media_kind,
        iscc=work.iscc, status=status or CERTIFIED_STATUSES.get(work.status, "registered"),
    )


def render(work: Work, lang: str, verify_url: str, settings: RegistrySettings,
           status: str | None = None) -> bytes:
    """A signed PDF certificate; the same facts and checkpoint give the same bytes."""
    bundle = proof_bundle(work)
    facts = certificate_facts(work, bundle, verify_url, status)
    return cert.render_certificate(facts, bundle, lang=lang or cert.DEFAULT_LANG,
                                   sign=settings.keyring.sign_pdf)
