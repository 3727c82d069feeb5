"""Comparisons computed on the spot, and evidence bundles for a dispute or a work.

A comparison is stored on the dispute as plain JSON, fingerprints included: a
disputed file is deleted after fingerprinting (unless the claimant keeps it as
evidence), so its fingerprint is the only trace the bundle can carry.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from PIL import Image

from registry.core import evidence as core
from registry.core import tamga_verify
from registry.core.audio import AudioFingerprint, fingerprint_query
from registry.core.certificates import report as rep
from registry.core.certificates.facts import Author
from registry.core.errors import ValidationFailed
from registry.core.image import ImageHashes, QueryHashes, load_image, query_variants, thumbnail
from registry.core.ledger import store
from registry.core.matching import audio_index, image_index
from registry.core.media import receive_upload, sniff
from registry.extensions import db
from registry.models.dispute import Dispute, DisputeKind
from registry.models.user import User
from registry.models.work import Work
from registry.services import certificates
from registry.services.ledger import rfc3339
from registry.services.lookup import query_limits
from registry.services.settings import RegistrySettings


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str
    storage_key: str


@dataclass(frozen=True)
class UploadComparison:
    comparison: dict[str, Any]
    stored: StoredFile | None


# --------------------------------------------------------------------------- comparison


def _side(work: Work) -> dict[str, Any]:
    return {"registration_number": work.registration_number, "sha256": work.main_file.sha256,
            "registered_at": rfc3339(work.registered_at), "ledger_index": work.ledger_index,
            "work_id": work.id}


def compare_registrations(earlier: Work, questioned: Work) -> dict[str, Any]:
    """The questioned registration (query) against the claimant's registration."""
    conn = db.session.connection()
    out: dict[str, Any] = {"media": questioned.media_kind, "query": _side(questioned),
                           "work": _side(earlier), "similarity": 0.0}
    out["earlier"] = ("work" if (earlier.registered_at, earlier.ledger_index or 0)
                      <= (questioned.registered_at, questioned.ledger_index or 0) else "query")
    if questioned.media_kind != earlier.media_kind:
        return out
    if questioned.media_kind == "audio":
        q = audio_index.load_fingerprint(conn, questioned.id)
        w = audio_index.load_fingerprint(conn, earlier.id)
        if q is not None and w is not None:
            _add_audio(out, [q], w, questioned.registration_number, earlier)
        return out
    qh = image_index.registered_hashes(conn, questioned.id)
    wh = image_index.registered_hashes(conn, earlier.id)
    if qh is not None and wh is not None:
        _add_image(out, qh, core.image_side(qh, questioned.registration_number, "query"), wh,
                   earlier)
    return out


def _add_audio(out: dict[str, Any], queries: list[AudioFingerprint],
               work_fp: AudioFingerprint, query_number: str | None, work: Work) -> None:
    pairing = core.align_audio(queries, work_fp)
    if pairing is None:
        return
    q = queries[pairing.variant]
    out["similarity"] = pairing.similarity
    out["audio"] = {
        "query_duration": round(float(q.duration_s), 2),
        "work_duration": round(float(work_fp.duration_s), 2), "speed": float(q.speed),
        "segments": [list(core.segment_seconds(s, q, work_fp)) for s in pairing.segments],
    }
    out["fingerprints"] = {"audio": core.audio_fingerprints(
        core.audio_side(q, query_number, "query"),
        core.audio_side(work_fp, work.registration_number, "work"), pairing)}


def _add_image(out: dict[str, Any], query: ImageHashes | QueryHashes,
               query_side: dict[str, Any], work_hashes: ImageHashes, work: Work) -> None:
    work_side = core.image_side(work_hashes, work.registration_number, "work")
    result, section = core.compare_images(query, work_hashes, query_side, work_side)
    out["similarity"] = result.score
    out["image"] = {"distances": section["pair"]["distances"],
                    "transformation": result.transformation}
    out["fingerprints"] = {"image": section}


def compare_upload(stream: BinaryIO, work: Work, settings: RegistrySettings, *,
                   keep: bool) -> UploadComparison:
    """Fingerprint an uploaded file like the lookup does and compare it with ``work``.

    The temporary file is deleted unless ``keep`` (then it moves into the store).
    """
    received = receive_upload(stream, settings.upload_dir, settings.limits)
    try:
        kind = sniff(received.path)
        if kind.kind != work.media_kind:
            raise ValidationFailed(_l("The disputed file is not the same kind of media as the "
                                      "registered work."), field="disputed_file")
        out: dict[str, Any] = {"media": kind.kind, "work": _side(work), "similarity": 0.0,
                               "query": {"registration_number": None, "sha256": received.sha256}}
        _compare_file(out, received.path, kind.kind, work, settings)
        stored = None
        if keep:
            key = settings.store.put(received.path, received.sha256, kind.format)
            stored = StoredFile(received.sha256, received.size, kind.mime, key)
    finally:
        received.path.unlink(missing_ok=True)
    return UploadComparison(out, stored)


def _compare_file(out: dict[str, Any], path: Path, kind: str, work: Work,
                  settings: RegistrySettings) -> None:
    conn = db.session.connection()
    if kind == "audio":
        fps = fingerprint_query(path, query_limits(settings.limits))
        wfp = audio_index.load_fingerprint(conn, work.id)
        if wfp is not None:
            _add_audio(out, fps, wfp, None, work)
        return
    loaded = load_image(path, max_pixels=settings.limits.max_pixels)
    query = query_variants(loaded)
    jpeg = thumbnail(loaded, 320)
    key = settings.store.put_bytes(jpeg, hashlib.sha256(jpeg).hexdigest(), "jpg")
    out["query"]["thumbnail_key"] = key
    wh = image_index.registered_hashes(conn, work.id)
    if wh is not None:
        _add_image(out, query, core.image_side(query, None, "query"), wh, work)


# --------------------------------------------------------------------------- bundles


@dataclass(frozen=True)
class Reader:
    """Who exports a bundle: what they own decides which originals and evidence go in."""

    user_id: int | None = None
    moderator: bool = False

    @classmethod
    def of(cls, user: User | Reader | None) -> Reader:
        if isinstance(user, Reader):
            return user
        return cls(user.id, user.is_moderator) if user is not None else cls()

    def owns(self, work: Work) -> bool:
        return self.user_id is not None and self.user_id == work.owner_id

    def sees_all(self, work: Work) -> bool:
        return self.moderator or self.owns(work)


#: The registry's operator (``flask evidence export``): a moderator's view.
OPERATOR = Reader(None, moderator=True)


def _certificates(works: list[Work], reader: Reader, lang: str,
                  settings: RegistrySettings) -> dict[str, bytes]:
    out = {}
    for work in works:
        if work.ledger_index is not None and (work.is_public or reader.sees_all(work)):
            verify_url = f"{settings.base_url}/verify?number={work.registration_number}"
            out[f"certificates/{work.registration_number}.pdf"] = certificates.render(
                work, lang, verify_url, settings)
    return out


def _originals(works: list[Work], reader: Reader, settings: RegistrySettings
               ) -> dict[str, bytes]:
    out = {}
    for work in works:
        if (work.publish_original and work.is_public) or reader.owns(work):
            main = work.main_file
            name = f"originals/{work.registration_number}-{Path(main.original_name).name}"
            out[name] = settings.store.path(main.storage_key).read_bytes()
    return out


def _bundle(members: dict[str, bytes], subject: dict[str, Any], leaves: list[int],
            settings: RegistrySettings, summary: dict[str, Any]) -> bytes:
    conn = db.session.connection()
    latest = store.latest_checkpoint(conn)
    members["tamga_verify.py"] = Path(tamga_verify.__file__).read_bytes()
    return core.build_bundle(
        members, subject=subject, ledger=core.ledger_section(conn, leaves),
        public_keys=store.published_keys(conn), keyring=settings.keyring,
        generated_at=rfc3339(latest.created_at) if latest else "", summary=summary)


def work_bundle(work: Work, user: User | Reader | None, lang: str,
                settings: RegistrySettings) -> bytes:
    """The evidence bundle of one registration: certificate, fingerprint, proofs."""
    conn, reader = db.session.connection(), Reader.of(user)
    members = {"README.txt": core.readme(work.registration_number)}
    members |= _certificates([work], reader, lang, settings)
    members |= _originals([work], reader, settings)
    side: dict[str, Any] = {"registration_number": work.registration_number}
    if work.media_kind == "audio":
        fp = audio_index.load_fingerprint(conn, work.id)
        if fp is not None:
            side |= {"duration_s": float(fp.duration_s), "items": [int(v) for v in fp.items]}
    else:
        hashes = image_index.registered_hashes(conn, work.id)
        if hashes is not None:
            side["hashes"] = hashes.to_dict()
    if len(side) > 1:
        members[tamga_verify.FINGERPRINTS_NAME] = core.fingerprints_json({"works": [side]})
    return _bundle(members, {"work": work.registration_number}, [work.ledger_index], settings,
                   {"status": work.status.value})


def dispute_bundle(dispute: Dispute, user: User | Reader | None, lang: str,
                   settings: RegistrySettings) -> bytes:
    """Everything about a dispute a party or a moderator may take to a court."""
    reader = Reader.of(user)
    works = [w for w in (dispute.claimant_work, dispute.work) if w is not None]
    members = {"README.txt": core.readme(dispute.number or "")}
    members |= _certificates(works, reader, lang, settings)
    members |= _originals(works, reader, settings)
    members |= _evidence_files(dispute, reader, settings)
    cmp = dispute.comparison or {}
    if cmp.get("fingerprints"):
        members[tamga_verify.FINGERPRINTS_NAME] = core.fingerprints_json(cmp["fingerprints"])
    members["report.pdf"] = render_report(dispute, lang, settings)
    leaves = [w.ledger_index for w in works if w.ledger_index is not None]
    leaves += [e.ledger_index for e in dispute.events if e.ledger_index is not None]
    summary = {"status": dispute.status.value, "similarity": cmp.get("similarity"),
               "outcome": dispute.outcome.value if dispute.outcome else None}
    return _bundle(members, {"dispute": dispute.number}, leaves, settings, summary)


def _evidence_files(dispute: Dispute, reader: Reader, settings: RegistrySettings
                    ) -> dict[str, bytes]:
    """The exporter's own evidence files (a moderator's bundle holds every party's)."""
    out = {}
    for item in dispute.evidence:
        mine = reader.moderator or item.submitted_by_id == reader.user_id
        if item.kind == "file" and item.storage_key and mine:
            name = f"evidence/{item.id}-{Path(item.original_name or 'file').name}"
            out[name] = settings.store.path(item.storage_key).read_bytes()
    return out


# --------------------------------------------------------------------------- report


def _report_work(work: Work | None, side: dict[str, Any], label: str) -> rep.ReportWork:
    if work is None:
        return rep.ReportWork(title=label, registrant="—", work_type="other",
                              sha256=side.get("sha256"))
    return rep.ReportWork(
        title=work.title if work.is_public else work.registration_number,
        registrant=work.registrant.legal_name_cyrillic or work.registrant.display_name,
        work_type=work.work_type.value, registration_number=work.registration_number,
        registered_at=work.registered_at,
        authors=[Author(a.full_name, certificates.ROLE_CODES.get(a.role, a.role), a.share)
                 for a in work.authors] if work.is_public else (),
        sha256=work.main_file.sha256)


def _placeholder_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (225, 225, 225)).save(out, "JPEG", quality=80)
    return out.getvalue()


def _jpeg(key: str | None, settings: RegistrySettings) -> bytes:
    if key and settings.store.exists(key):
        return settings.store.path(key).read_bytes()
    return _placeholder_jpeg()


def _query_work(dispute: Dispute) -> Work | None:
    cmp = dispute.comparison or {}
    return dispute.work if cmp.get("query", {}).get("registration_number") else None


def _reference_work(dispute: Dispute) -> Work:
    if dispute.kind == DisputeKind.EXTERNAL_COPY or dispute.claimant_work is None:
        return dispute.work
    return dispute.claimant_work


def render_report(dispute: Dispute, lang: str, settings: RegistrySettings) -> bytes:
    """``report.pdf``: parties, works, similarity, alignment or pictures, timeline, decision."""
    from registry.services.disputes import EVENT_LABELS, OUTCOME_LABELS

    cmp = dispute.comparison or {}
    qwork, wwork = _query_work(dispute), _reference_work(dispute)
    with force_locale(lang.split("+")[0]):
        label = str(_l("Disputed file"))
        timeline = [rep.TimelineEvent(e.at, str(EVENT_LABELS.get(e.kind, e.kind)))
                    for e in dispute.events]
        decision = None
        if dispute.outcome is not None and rep.is_known("outcome", dispute.outcome.value):
            decision = rep.Decision(dispute.outcome.value, dispute.decision_reason or "",
                                    dispute.decided_at)
        elif dispute.outcome is not None:
            outcome = OUTCOME_LABELS[dispute.outcome.value]
            timeline.append(rep.TimelineEvent(dispute.decided_at,
                                              f"{outcome}: {dispute.decision_reason}"))
    parties = [rep.Party(dispute.claimant.display_name, "claimant")]
    if dispute.respondent is not None:
        parties.append(rep.Party(dispute.respondent.display_name, "respondent"))
    report = rep.ComparisonReport(
        case_number=dispute.number or "", generated_at=_report_time(dispute), parties=parties,
        query=_report_work(qwork, cmp.get("query", {}), label),
        work=_report_work(wwork, cmp.get("work", {}), label),
        similarity=min(1.0, max(0.0, float(cmp.get("similarity") or 0.0))),
        audio=_report_audio(cmp), image=_report_image(cmp, qwork, wwork, settings),
        timeline=timeline, decision=decision)
    return rep.render_comparison_report(report, lang=lang, sign=settings.keyring.sign_pdf)


def _report_time(dispute: Dispute) -> datetime:
    moments = [e.at for e in dispute.events] or [dispute.opened_at]
    return max(moments)


def _report_audio(cmp: dict[str, Any]) -> rep.AudioAlignment | None:
    audio = cmp.get("audio")
    if not audio:
        return None
    return rep.AudioAlignment(audio["query_duration"], audio["work_duration"],
                              [tuple(s) for s in audio["segments"]])


def _report_image(cmp: dict[str, Any], qwork: Work | None, wwork: Work,
                  settings: RegistrySettings) -> rep.ImageComparison | None:
    image = cmp.get("image")
    if not image:
        return None
    qkey = qwork.thumbnail_key if qwork else cmp.get("query", {}).get("thumbnail_key")
    transformation = core.REPORT_TRANSFORMATIONS.get(image.get("transformation") or "")
    return rep.ImageComparison(
        _jpeg(qkey, settings), _jpeg(wwork.thumbnail_key, settings),
        [(k, float(v)) for k, v in sorted(image["distances"].items())], transformation)
