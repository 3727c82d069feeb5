"""Certificates of registration: the facts of a work plus its ledger proof, signed."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from registry.core import c2pa_signing
from registry.core import certificates as cert
from registry.core.errors import Conflict
from registry.core.ledger import attestations as att
from registry.core.ledger import store
from registry.extensions import db
from registry.models.work import Work, WorkStatus
from registry.services import attestations
from registry.services.provenance import ai_label_kind
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


def proof_bundle(work: Work, settings: RegistrySettings) -> dict[str, Any]:
    """The machine-readable proof of a work's registration entry, against the
    checkpoint with the most outside attestations (RFC 3161 time-stamps, witness
    cosignatures) that holds it, with those attestations."""
    if work.ledger_index is None:
        raise Conflict(_l("This work is still being processed; its certificate is not ready."))
    conn = db.session.connection()
    cp = attestations.proof_checkpoint(work.ledger_index + 1)
    if cp is None:
        raise Conflict(_l("This work is still being processed; its certificate is not ready."))
    bundle = store.proof_bundle(conn, work.ledger_index, store.published_keys(conn),
                                size=cp.tree_size)
    bundle["checkpoint"] = att.cosigned_note(conn, cp)
    return bundle | attestations.bundle_fields(cp.tree_size, settings)


def certificate_authors(work: Work) -> list[cert.Author]:
    """The authors with each co-author's answer (confirmed and when, pending, declined)."""
    from registry.services.coauthors import author_states

    states = author_states(work)
    authors = []
    for a in work.authors:
        state = states.get(a.id)
        answered = state.responded_at if state is not None else None
        authors.append(cert.Author(
            a.full_name, ROLE_CODES.get(a.role, a.role), a.share,
            confirmation=state.status.value if state is not None else None,
            confirmed_on=answered.date() if answered is not None else None))
    return authors


def certificate_key_frames(work: Work, settings: RegistrySettings
                           ) -> tuple[tuple[float, bytes], ...]:
    """A video's key frames for its certificate, only where the owner allows thumbnails
    (the certificate is shown to anyone with its link)."""
    if not work.allow_thumbnail or not work.key_frames:
        return ()
    frames = []
    for k in work.key_frames:
        path = settings.store.path(k["key"])
        if path.is_file():
            frames.append((float(k["t"]), path.read_bytes()))
    return tuple(frames)


def certificate_facts(work: Work, bundle: dict[str, Any], verify_url: str,
                      status: str | None = None,
                      key_frames: tuple[tuple[float, bytes], ...] = ()) -> cert.CertificateFacts:
    created = work.creation_date or (str(work.creation_year) if work.creation_year else None)
    return cert.CertificateFacts(
        registration_number=work.registration_number, registered_at=work.registered_at,
        registrant=work.registrant.legal_name_cyrillic or work.registrant.display_name,
        title=work.title, original_title=work.original_title, work_type=work.work_type.value,
        authors=certificate_authors(work),
        files=[cert.WorkFile(f.role, f.original_name, f.sha256) for f in work.files],
        ledger=cert.ledger_facts_from_bundle(bundle), verify_url=verify_url,
        created_on=created, published=work.published, published_on=work.published_on,
        publication_place=work.publication_place, publication_url=work.publication_url,
        ai_use=work.ai_use.value, ai_tools=tuple(filter(None, [work.ai_tools])),
        human_contribution=work.human_contribution,
        licence=LICENCE_CODES.get(work.licence, "all_rights_reserved"),
        fingerprint_digest=work.fingerprint_digest, fingerprint_kind=work.media_kind,
        iscc=work.iscc, status=status or CERTIFIED_STATUSES.get(work.status, "registered"),
        ai_label=ai_label_kind(work),
        credentialed_url=(f"{verify_url.rsplit('/verify', 1)[0]}/api/v1/works/"
                          f"{work.registration_number}/credentialed"
                          if c2pa_signing.can_sign(work.main_file.media_type) else None),
        key_frames=key_frames,
    )


def render(work: Work, lang: str, verify_url: str, settings: RegistrySettings,
           status: str | None = None) -> bytes:
    """A signed PDF certificate; the same facts and checkpoint give the same bytes."""
    bundle = proof_bundle(work, settings)
    facts = certificate_facts(work, bundle, verify_url, status,
                              certificate_key_frames(work, settings))
    return cert.render_certificate(facts, bundle, lang=lang or cert.DEFAULT_LANG,
                                   sign=settings.keyring.sign_pdf)
