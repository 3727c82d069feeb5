"""Preparing a work's application for Kazakhstan's state copyright register.

The owner adds what Tamga does not know yet (addresses, citizenship, the
co-authors' IINs, whether the work derives from another); the package is then
built from the registration and these particulars. Building it is a ledger
entry ("state filing prepared") carrying only the digest of the application,
never the personal data in it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from babel.support import Translations
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.config import PROJECT_ROOT
from registry.core import state_filing as form
from registry.core.errors import Conflict, PermissionDenied, ValidationFailed
from registry.core.iin import InvalidIIN, parse_iin
from registry.extensions import db
from registry.models.state_filing import StateFiling
from registry.models.user import User
from registry.models.work import Work, WorkStatus
from registry.services import ledger
from registry.services.settings import RegistrySettings

TRANSLATIONS_DIR = PROJECT_ROOT / "registry" / "translations"
FILEABLE_STATUSES = (WorkStatus.REGISTERED, WorkStatus.CONFLICT)


@functools.cache
def catalogue(lang: str) -> form.Translate:
    """The gettext of one language's compiled catalogue (no Flask needed)."""
    return Translations.load(str(TRANSLATIONS_DIR), [lang]).gettext


def translators() -> dict[str, form.Translate]:
    return {lang: catalogue(lang) for lang in form.FILING_LANGUAGES}


@dataclass
class AuthorParticulars:
    iin: str = ""
    citizenship: str = ""
    address: str = ""
    pseudonym: str = ""


@dataclass
class FilingParticulars:
    """What the owner types in on the filing page (or sends to the API)."""

    applicant_iin: str = ""
    applicant_citizenship: str = ""
    applicant_address: str = ""
    applicant_phone: str = ""
    derivative: bool = False
    original_work: str = ""
    original_author: str = ""
    authors: list[AuthorParticulars] = field(default_factory=list)


class MissingParticulars(ValidationFailed):
    """The form needs fields the registration does not have yet."""

    code = "state_filing_incomplete"


def _require_owner(actor: User, work: Work) -> None:
    if work.owner_id != actor.id:
        raise PermissionDenied(_l("Only the owner can prepare the state register application."))
    if work.status not in FILEABLE_STATUSES:
        raise Conflict(_l("Only a registered work can be filed with the state register."))


def filing_of(work: Work) -> StateFiling:
    """The work's particulars, or an empty (unsaved) set."""
    found = db.session.scalar(select(StateFiling).where(StateFiling.work_id == work.id))
    return found or StateFiling(work_id=work.id, applicant={}, authors=[], derivative={})


def particulars_of(actor: User, work: Work) -> FilingParticulars:
    """Saved particulars, with the applicant's IIN from the profile when none is saved."""
    saved = filing_of(work)
    a, d = saved.applicant or {}, saved.derivative or {}
    stored = list(saved.authors or [])
    authors = [AuthorParticulars(**(stored[i] if i < len(stored) else {}))
               for i in range(len(work.authors))]
    return FilingParticulars(
        applicant_iin=a.get("iin") or actor.iin or "",
        applicant_citizenship=a.get("citizenship", ""), applicant_address=a.get("address", ""),
        applicant_phone=a.get("phone") or actor.phone or "",
        derivative=bool(d.get("derivative")), original_work=d.get("original_work", ""),
        original_author=d.get("original_author", ""), authors=authors)


def save_particulars(actor: User, work: Work, data: FilingParticulars) -> StateFiling:
    _require_owner(actor, work)
    _check_iin(data.applicant_iin, "applicant_iin")
    for i, author in enumerate(data.authors):
        _check_iin(author.iin, f"authors-{i}-iin")
    filing = filing_of(work)
    filing.applicant = {"iin": data.applicant_iin.strip(),
                        "citizenship": data.applicant_citizenship.strip(),
                        "address": data.applicant_address.strip(),
                        "phone": data.applicant_phone.strip()}
    filing.authors = [{k: v.strip() for k, v in vars(a).items()} for a in data.authors]
    filing.derivative = {"derivative": data.derivative,
                         "original_work": data.original_work.strip(),
                         "original_author": data.original_author.strip()}
    filing.updated_at = datetime.now(UTC)
    db.session.add(filing)
    db.session.flush()
    return filing


def _check_iin(value: str, field_name: str) -> None:
    if value.strip():
        try:
            parse_iin(value.strip())
        except InvalidIIN as exc:
            raise ValidationFailed(exc.message, reason=exc.reason, params=exc.params,
                                   field=field_name) from exc


def filing_facts(actor: User, work: Work, verify_url: str) -> form.FilingFacts:
    p = particulars_of(actor, work)
    applicant = form.Person(
        full_name=actor.legal_name_cyrillic or "", iin=p.applicant_iin,
        citizenship=p.applicant_citizenship, address=p.applicant_address,
        phone=p.applicant_phone, email=actor.email)
    authors = tuple(
        form.FilingAuthor(full_name=a.full_name, role=a.role, share=Decimal(a.share),
                          iin=extra.iin, citizenship=extra.citizenship, address=extra.address,
                          birth_date=_birth_date(extra.iin), pseudonym=extra.pseudonym)
        for a, extra in zip(work.authors, p.authors, strict=True))
    created = (work.creation_date.isoformat() if work.creation_date
               else str(work.creation_year or ""))
    main = work.main_file
    return form.FilingFacts(
        registration_number=work.registration_number, registered_at=work.registered_at,
        verify_url=verify_url, sha256=main.sha256, file_name=main.original_name,
        object_kind=work.work_type.value, title=work.title,
        original_title=work.original_title or "", description=work.description or "",
        applicant=applicant, capacity=work.registrant_capacity.value,
        rights_basis=work.rights_basis or "", authors=authors, creation_date=created,
        published=work.published,
        publication_date=work.published_on.isoformat() if work.published_on else "",
        publication_place=work.publication_place or work.publication_url or "",
        derivative=p.derivative, original_work=p.original_work,
        original_author=p.original_author)


def _birth_date(iin: str) -> str:
    try:
        return parse_iin(iin).birth_date.isoformat() if iin else ""
    except InvalidIIN:
        return ""


def missing(actor: User, work: Work, verify_url: str) -> list[form.Missing]:
    _require_owner(actor, work)
    return form.missing_fields(filing_facts(actor, work, verify_url))


def prepare_package(actor: User, work: Work, *, verify_url: str,
                    settings: RegistrySettings) -> bytes:
    """The ZIP to file; a missing field raises :class:`MissingParticulars` listing them all."""
    _require_owner(actor, work)
    facts = filing_facts(actor, work, verify_url)
    gaps = form.missing_fields(facts)
    if gaps:
        raise MissingParticulars(
            _l("The application still needs: %(fields)s.",
               fields=", ".join(_gap_label(m) for m in gaps)),
            missing=[m.key for m in gaps])
    with settings.store.path(work.main_file.storage_key).open("rb") as fh:
        copy = fh.read()
    package = form.build_package(facts, translators(), copy, settings.keyring.sign_pdf)
    _record(work, package.files["application.json"], settings)
    return package.zip_bytes()


def _gap_label(gap: form.Missing) -> str:
    """The missing field in the request's language, with the author's position."""
    label = gettext(gap.label)
    parts = gap.key.split(".")
    if parts[0] == "authors" and len(parts) == 3:
        return f"{label} ({gettext('author %(n)s', n=parts[1])})"
    return label


def _record(work: Work, application: bytes, settings: RegistrySettings) -> None:
    """A ledger entry when the application's content changed since it was last prepared."""
    digest = hashlib.sha256(application).hexdigest()
    filing = filing_of(work)
    if filing.prepared_digest == digest:
        return
    now = datetime.now(UTC)
    filing.prepared_at, filing.prepared_digest = now, digest
    db.session.add(filing)
    db.session.flush()
    ledger.record("state_filing.prepared", now, {
        "registration_number": work.registration_number,
        "application_sha256": digest}, settings)
