"""The public verification page's checks: the same code as the offline verifier,
plus what only the registry can add (consistency with today's log)."""

from __future__ import annotations

import hashlib
from typing import BinaryIO

from registry.core import tamga_verify as tv
from registry.core.ledger import store
from registry.extensions import db
from registry.models.work import Work
from registry.services import attestations, certificates
from registry.services.settings import RegistrySettings


def sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _trusted_keys() -> list[str]:
    return [key["vkey"] for key in store.published_keys(db.session.connection())]


def _policy(settings: RegistrySettings) -> tv.AttestationPolicy:
    """The registry's own witnesses and authorities, trusted as configured."""
    return tv.AttestationPolicy(
        witness_keys=tuple(w.vkey for w in settings.witnesses),
        tsa_roots=tuple(attestations.tsa_roots(settings)),
    )


def verify_registration(work: Work, file_sha256: str | None,
                        settings: RegistrySettings) -> list[tv.Check]:
    """Check a work's entry as the registry serves it today."""
    bundle = certificates.proof_bundle(work, settings)
    checks = tv.verify_proof_bundle(bundle, _trusted_keys(), file_sha256=file_sha256,
                                    policy=_policy(settings))
    return [*checks, store.log_consistency_check(db.session.connection(), bundle)]


def verify_certificate_pdf(pdf: bytes, file_sha256: str | None,
                           settings: RegistrySettings) -> list[tv.Check]:
    """Check an uploaded certificate: its signature, its embedded proof, today's log."""
    checks = tv.verify_certificate(pdf, _trusted_keys(), file_sha256=file_sha256,
                                   policy=_policy(settings))
    try:
        bundle = tv.extract_proof(pdf)
    except ValueError:
        return checks
    return [*checks, store.log_consistency_check(db.session.connection(), bundle)]
