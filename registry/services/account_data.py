"""Your data: export everything about an account, and delete the account.

The export is a ZIP: the account's profile and settings, every work it owns with its
metadata versions, files (the bytes, and their SHA-256), certificates, matches and
ledger positions, its disputes and its notifications.

Deleting an account cannot erase the ledger: it is append-only and public mirrors
hold copies. What deletion does instead:

- every work the account owns is withdrawn (a ``work.withdrawn`` ledger entry, like
  any withdrawal) and made private, without preview or downloadable original;
- the names of authors in those works (and in their stored metadata versions) are
  removed; the versions keep their digests, which are what the ledger entries hold;
- the ledger secret is erased, so nobody, the registry included, can link the ledger
  entries' account commitments to a person any more; they stay as digests;
- profile data (e-mail, names, IIN, phone, city, country, time zone), login sessions,
  two-factor secrets, API tokens and notifications are deleted; the account row stays,
  anonymous, because registrations and disputes refer to it.

An account in an open dispute cannot be deleted (the other party and the moderators
still need it); the files of the withdrawn works stay with the registry as evidence,
visible to moderators only.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select
from werkzeug.security import check_password_hash

from registry.core.errors import Conflict
from registry.extensions import db
from registry.models.dispute import Dispute, DisputeStatus
from registry.models.notification import Notification
from registry.models.token import ApiToken
from registry.models.user import User, UserSession
from registry.models.work import Transfer, TransferStatus, Visibility, Work, WorkStatus
from registry.services import notifications
from registry.services.accounts import AuthenticationFailed, hash_password
from registry.services.settings import RegistrySettings
from registry.services.works import withdraw_work

DELETED_NAME = "—"
PROFILE_EXPORT = ("email", "display_name", "legal_name_cyrillic", "legal_name_latin", "country",
                  "city", "phone", "iin", "locale", "timezone", "role", "created_at",
                  "email_confirmed_at", "ai_training_opt_out_default", "match_emails",
                  "public_profile")
WORK_FIELDS = ("registration_number", "status", "title", "original_title", "work_type",
               "description", "language", "country", "registrant_capacity", "rights_basis",
               "creation_date", "creation_year", "published", "published_on",
               "publication_place", "publication_url", "ai_use", "ai_tools", "ai_parts",
               "human_contribution", "licence", "ai_training_opt_out", "visibility",
               "media_kind", "media_format", "duration_s", "width", "height",
               "fingerprint_digest", "iscc", "registered_at", "updated_at", "version",
               "ledger_index", "withdrawn_at", "withdrawal_reason")

#: ``certificate(work) -> PDF bytes``, given by the caller (it knows the site's address).
CertificateMaker = Callable[[Work], bytes]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def owned_works(user: User) -> list[Work]:
    return list(db.session.scalars(select(Work).where(Work.owner_id == user.id)
                                   .order_by(Work.registered_at, Work.id)))


def disputes_of(user: User) -> list[Dispute]:
    return list(db.session.scalars(select(Dispute).where(or_(
        Dispute.claimant_id == user.id, Dispute.respondent_id == user.id)).order_by(Dispute.id)))


def work_record(work: Work) -> dict[str, Any]:
    record = {name: _plain(getattr(work, name)) for name in WORK_FIELDS}
    record["authors"] = [{"full_name": a.full_name, "role": a.role, "share": str(a.share)}
                         for a in work.authors]
    record["files"] = [{"role": f.role, "original_name": f.original_name, "sha256": f.sha256,
                        "size": f.size, "media_type": f.media_type} for f in work.files]
    record["versions"] = [{"version": v.version, "digest": v.digest, "note": v.note,
                           "created_at": _plain(v.created_at), "metadata": v.metadata_json}
                          for v in work.versions]
    record["matches"] = [{"earlier_work": m.other_work.registration_number, "kind": m.kind,
                          "score": m.score, "is_conflict": m.is_conflict,
                          "created_at": _plain(m.created_at)} for m in work.matches]
    return record


def dispute_record(dispute: Dispute, user: User) -> dict[str, Any]:
    return {
        "number": dispute.number, "kind": _plain(dispute.kind), "status": _plain(dispute.status),
        "your_side": "claimant" if dispute.claimant_id == user.id else "respondent",
        "work": dispute.work.registration_number,
        "your_earlier_work": (dispute.claimant_work.registration_number
                              if dispute.claimant_work else None),
        "found_url": dispute.found_url, "opened_at": _plain(dispute.opened_at),
        "response_due_at": _plain(dispute.response_due_at),
        "decided_at": _plain(dispute.decided_at), "outcome": _plain(dispute.outcome),
        "decision_reason": dispute.decision_reason,
        "events": [{"kind": e.kind, "at": _plain(e.at), "ledger_index": e.ledger_index}
                   for e in dispute.events],
    }


def notification_record(note: Notification) -> dict[str, Any]:
    return {"kind": note.kind, "text": notifications.message(note), "link": note.link,
            "params": note.params, "created_at": _plain(note.created_at),
            "read_at": _plain(note.read_at)}


def export_zip(user: User, settings: RegistrySettings, certificate: CertificateMaker,
               now: datetime) -> bytes:
    """Everything about ``user`` as a ZIP (see the module's docstring)."""
    works = owned_works(user)
    profile = {name: _plain(getattr(user, name)) for name in PROFILE_EXPORT}
    profile["ledger_secret"] = (f"{user.id}:{user.ledger_secret}" if user.ledger_secret
                                else None)
    manifest: dict[str, Any] = {"exported_at": _plain(now), "account_id": user.id,
                                "works": len(works), "missing_files": []}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", _dump(profile))
        archive.writestr("works.json", _dump([work_record(w) for w in works]))
        archive.writestr("disputes.json", _dump([dispute_record(d, user)
                                                 for d in disputes_of(user)]))
        archive.writestr("notifications.json", _dump([notification_record(n) for n in
                                                      notifications.for_user(user, 10_000)]))
        for work in works:
            _add_work_files(archive, work, settings, manifest)
            if work.ledger_index is not None:
                archive.writestr(f"certificates/{work.registration_number}.pdf",
                                 certificate(work))
        archive.writestr("manifest.json", _dump(manifest))
        archive.writestr("README.txt", README)
    return buffer.getvalue()


def _add_work_files(archive: zipfile.ZipFile, work: Work, settings: RegistrySettings,
                    manifest: dict[str, Any]) -> None:
    for i, item in enumerate(work.files):
        name = f"files/{work.registration_number}/{i + 1:02d}-{_safe(item.original_name)}"
        path = settings.store.path(item.storage_key)
        if path.is_file():
            archive.write(path, name)
        else:
            manifest["missing_files"].append({"work": work.registration_number,
                                              "sha256": item.sha256})


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._- " else "_" for c in name)[:120] or "file"


README = """Tamga: everything about your account

account.json        your profile and settings (and your ledger secret, which opens the
                    account commitments in the public ledger's entries: keep it private)
works.json          every work you own: metadata, its versions and digests, files and
                    their SHA-256, matches with earlier works, ledger positions
files/NUMBER/...    the files you registered, as stored
certificates/       a certificate (PDF, signed) for each work written to the ledger
disputes.json       the disputes you are a party of, with their timelines
notifications.json  your notifications
manifest.json       when this was exported; files that could not be read, if any

Check a file against its registration: compare its SHA-256 with works.json, or run
tamga-verify on a certificate.
"""


# Deleting ------------------------------------------------------------------------

def check_can_delete(user: User) -> None:
    open_disputes = [d for d in disputes_of(user) if d.status != DisputeStatus.DECIDED]
    if open_disputes:
        raise Conflict(_l("You are a party of an open dispute (%(numbers)s). The account can be "
                          "deleted once it is decided.",
                          numbers=", ".join(d.number or "—" for d in open_disputes)))


def delete_account(user: User, password: str, *, settings: RegistrySettings,
                   now: datetime) -> int:
    """Withdraw the works, remove the personal data, keep the ledger; returns how many
    works were withdrawn. The caller commits (and logs the person out)."""
    if not check_password_hash(user.password_hash, password):
        raise AuthenticationFailed(_l("The password is wrong."), field="password")
    check_can_delete(user)
    withdrawn = 0
    for work in owned_works(user):
        if work.status != WorkStatus.WITHDRAWN:
            withdraw_work(user, work, "account deleted", settings=settings)
            withdrawn += 1
        _anonymise_work(work)
    for transfer in db.session.scalars(select(Transfer).where(
            Transfer.status == TransferStatus.PENDING,
            or_(Transfer.from_user_id == user.id, Transfer.to_user_id == user.id))):
        transfer.status, transfer.decided_at = TransferStatus.CANCELLED, now
    for model in (Notification, ApiToken, UserSession):
        db.session.execute(delete(model).where(model.user_id == user.id)
                           .execution_options(synchronize_session=False))
    _anonymise_user(user, now)
    db.session.flush()
    db.session.expire(user, ["sessions"])
    return withdrawn


def _anonymise_work(work: Work) -> None:
    work.visibility = Visibility.PRIVATE
    work.allow_thumbnail = work.publish_original = False
    work.thumbnail_key = None  # the preview becomes an orphan the storage sweep deletes
    for author in work.authors:
        author.full_name = DELETED_NAME
    for version in work.versions:
        record = dict(version.metadata_json)
        record["authors"] = [{**a, "full_name": DELETED_NAME} for a in record.get("authors", [])]
        version.metadata_json = record


def _anonymise_user(user: User, now: datetime) -> None:
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name = DELETED_NAME
    for name in ("legal_name_cyrillic", "legal_name_latin", "country", "city", "phone", "iin",
                 "timezone", "ledger_secret", "totp_secret", "totp_enabled_at",
                 "totp_last_step", "recovery_codes"):
        setattr(user, name, None)
    user.password_hash = hash_password(secrets.token_urlsafe(32))  # nobody knows it
    user.public_profile = False
    user.deleted_at = now
