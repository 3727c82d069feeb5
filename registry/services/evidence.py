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

from registry import kinds
from registry.core import evidence as core
from registry.core import tamga_verify
from registry.core.certificates import report as rep
from registry.core.certificates.facts import Author
from registry.core.errors import ValidationFailed
from registry.core.ledger import store
from registry.core.media import receive_upload, sniff
from registry.extensions import db
from registry.models.dispute import Dispute, DisputeKind
from registry.models.user import User
from registry.models.work import Work
from registry.services import attestations, certificates, privacy
from registry.services.ledger import rfc3339
from registry.services.privacy import Viewer
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


def compare_registrations(earlier: Work, questioned: Work,
                          settings: RegistrySettings | None = None) -> dict[str, Any]:
    """The questioned registration (query) against the claimant's registration."""
    conn = db.session.connection()
    out: dict[str, Any] = {"media": questioned.media_kind, "query": _side(questioned),
                           "work": _side(earlier), "similarity": 0.0}
    out["earlier"] = ("work" if (earlier.registered_at, earlier.ledger_index or 0)
                      <= (questioned.registered_at, questioned.ledger_index or 0) else "query")
    kind = kinds.get(questioned.media_kind)
    if questioned.media_kind != earlier.media_kind or kind is None:
        return out
    out |= kind.compare(conn, questioned.id, earlier.id,
                        (questioned.registration_number, earlier.registration_number))
    if settings is not None:
        store = settings.store
        kind.illustrate(out, store.path(questioned.main_file.storage_key),
                        store.path(earlier.main_file.storage_key), _putter(store))
    return out


def _putter(store):
    def put(jpeg: bytes) -> str:
        return store.put_bytes(jpeg, hashlib.sha256(jpeg).hexdigest(), "jpg")
    return put


def compare_upload(stream: BinaryIO, work: Work, settings: RegistrySettings, *,
                   keep: bool) -> UploadComparison:
    """Fingerprint an uploaded file like the lookup does and compare it with ``work``.

    The temporary file is deleted unless ``keep`` (then it moves into the store).
    """
    received = receive_upload(stream, settings.upload_dir, settings.limits)
    try:
        detected = sniff(received.path)
        kind = kinds.for_detected(detected)
        if kind is None or kind.name != work.media_kind:
            raise ValidationFailed(_l("The disputed file is not the same kind of media as the "
                                      "registered work."), field="disputed_file")
        out: dict[str, Any] = {"media": kind.name, "work": _side(work), "similarity": 0.0,
                               "query": {"registration_number": None, "sha256": received.sha256}}
        query = kind.query(received.path, settings.limits, want_thumbnail=True)
        if query.thumbnail:
            out["query"]["thumbnail_key"] = settings.store.put_bytes(
                query.thumbnail, hashlib.sha256(query.thumbnail).hexdigest(), "jpg")
        out |= kind.compare(db.session.connection(), query, work.id,
                            (None, work.registration_number))
        kind.illustrate(out, received.path, settings.store.path(work.main_file.storage_key),
                        _putter(settings.store))
        stored = None
        if keep:
            key = settings.store.put(received.path, received.sha256, detected.format)
            stored = StoredFile(received.sha256, received.size, detected.mime, key)
    finally:
        received.path.unlink(missing_ok=True)
    return UploadComparison(out, stored)


# --------------------------------------------------------------------------- bundles


#: Who exports a bundle decides what goes in; the rule lives in :mod:`privacy`.
Reader = Viewer
OPERATOR = privacy.OPERATOR


def _certificates(works: list[Work], reader: Reader, lang: str,
                  settings: RegistrySettings) -> dict[str, bytes]:
    out = {}
    for work in works:
        if work.ledger_index is not None and reader.sees_record(work):
            verify_url = f"{settings.base_url}/verify?number={work.registration_number}"
            out[f"certificates/{work.registration_number}.pdf"] = certificates.render(
                work, lang, verify_url, settings)
    return out


def _originals(works: list[Work], reader: Reader, settings: RegistrySettings
               ) -> dict[str, bytes]:
    out = {}
    for work in works:
        if reader.bundles_original(work):
            main = work.main_file
            name = f"originals/{work.registration_number}-{Path(main.original_name).name}"
            out[name] = settings.store.path(main.storage_key).read_bytes()
    return out


def _bundle(members: dict[str, bytes], subject: dict[str, Any], leaves: list[int],
            settings: RegistrySettings, summary: dict[str, Any]) -> bytes:
    conn = db.session.connection()
    latest = store.latest_checkpoint(conn)
    members["tamga_verify.py"] = Path(tamga_verify.__file__).read_bytes()
    ledger = core.ledger_section(conn, leaves, witnesses=attestations.witness_list(settings),
                                 tsa_roots=attestations.tsa_roots(settings))
    if "README.txt" in members:
        members["README.txt"] += core.attestation_readme(ledger)
    n, m = core.attestation_counts(ledger)
    summary = summary | {"attestations": {"timestamps": n, "cosignatures": m}}
    return core.build_bundle(
        members, subject=subject, ledger=ledger,
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
    kind = kinds.get(work.media_kind)
    if kind is not None and reader.sees_record(work):  # a private work's: owner, moderators
        side |= kind.bundle_side(conn, work.id)
    if len(side) > 1:
        members[tamga_verify.FINGERPRINTS_NAME] = core.fingerprints_json({"works": [side]})
    leaves = [work.ledger_index] if work.ledger_index is not None else []
    return _bundle(members, {"work": work.registration_number}, leaves, settings,
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
    prints = _visible_fingerprints(dispute, reader)
    if prints:
        members[tamga_verify.FINGERPRINTS_NAME] = core.fingerprints_json(prints)
    members["report.pdf"] = render_report(dispute, lang, settings, reader)
    leaves = [w.ledger_index for w in works if w.ledger_index is not None]
    leaves += [e.ledger_index for e in dispute.events if e.ledger_index is not None]
    summary = {"status": dispute.status.value, "similarity": cmp.get("similarity"),
               "outcome": dispute.outcome.value if dispute.outcome else None}
    return _bundle(members, {"dispute": dispute.number}, leaves, settings, summary)


def _visible_fingerprints(dispute: Dispute, reader: Viewer) -> dict[str, Any]:
    """The comparison's fingerprints, without the side of a work the reader may not see:
    a claimant against a private work keeps their own side and the scores."""
    prints = dict((dispute.comparison or {}).get("fingerprints") or {})
    hidden = {w.registration_number for w in (dispute.claimant_work, dispute.work)
              if w is not None and not reader.sees_record(w)}
    for media, section in list(prints.items()):
        section = dict(section)
        for name in ("query", "work"):
            side = section.get(name) or {}
            if side.get("registration_number") in hidden:
                section[name] = {"registration_number": side["registration_number"],
                                 "label": side.get("label", name), "withheld": "private"}
        prints[media] = section
    return prints


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


def _report_work(work: Work | None, side: dict[str, Any], label: str,
                 reader: Viewer) -> rep.ReportWork:
    if work is None:
        return rep.ReportWork(title=label, registrant="—", work_type="other",
                              sha256=side.get("sha256"))
    if not reader.sees_record(work):  # a private work: number, time and hashes only
        return rep.ReportWork(title=work.registration_number, registrant="—",
                              work_type="other", registration_number=work.registration_number,
                              registered_at=work.registered_at, sha256=work.main_file.sha256)
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


def _boxed(jpeg: bytes, box: dict[str, float] | None) -> bytes:
    """The JPEG with ``box`` (fractions of its size) drawn as a red frame."""
    if not box or (box.get("w", 1) >= 0.98 and box.get("h", 1) >= 0.98):
        return jpeg
    from PIL import Image, ImageDraw

    picture = Image.open(io.BytesIO(jpeg)).convert("RGB")
    w, h = picture.size
    x0, y0 = box["x"] * w, box["y"] * h
    x1, y1 = x0 + box["w"] * w, y0 + box["h"] * h
    line = max(2, round(min(w, h) / 100))
    ImageDraw.Draw(picture).rectangle([x0, y0, x1 - 1, y1 - 1], outline=(224, 24, 45), width=line)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
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


def render_report(dispute: Dispute, lang: str, settings: RegistrySettings,
                  reader: Viewer = OPERATOR) -> bytes:
    """``report.pdf``: parties, works, similarity, alignment or pictures, timeline, decision.

    What ``reader`` may not see of a private work (its title, owner, picture) stays out.
    """
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
        elif dispute.outcome is not None and dispute.decided_at is not None:
            outcome = OUTCOME_LABELS[dispute.outcome.value]
            timeline.append(rep.TimelineEvent(dispute.decided_at,
                                              f"{outcome}: {dispute.decision_reason}"))
    parties = [rep.Party(dispute.claimant.display_name, "claimant")]
    if dispute.respondent is not None:
        shown = reader.sees_record(dispute.work) or reader.user_id == dispute.respondent_id
        parties.append(rep.Party(dispute.respondent.display_name if shown else "—",
                                 "respondent"))
    report = rep.ComparisonReport(
        case_number=dispute.number or "", generated_at=_report_time(dispute), parties=parties,
        query=_report_work(qwork, cmp.get("query", {}), label, reader),
        work=_report_work(wwork, cmp.get("work", {}), label, reader),
        similarity=min(1.0, max(0.0, float(cmp.get("similarity") or 0.0))),
        audio=_report_audio(cmp), image=_report_image(cmp, qwork, wwork, settings, reader),
        video=_report_video(cmp, settings),
        timeline=timeline, decision=decision)
    return rep.render_comparison_report(report, lang=lang, sign=settings.keyring.sign_pdf)


def _report_time(dispute: Dispute) -> datetime:
    moments = [e.at for e in dispute.events] or [dispute.opened_at]
    return max(moments)


def _report_audio(cmp: dict[str, Any]) -> rep.AudioAlignment | None:
    audio = cmp.get("audio")
    if not audio:
        return None
    transform = audio.get("transform")
    return rep.AudioAlignment(audio["query_duration"], audio["work_duration"],
                              [tuple(s) for s in audio["segments"]],
                              (float(transform["speed"]), float(transform["pitch_semitones"]))
                              if transform else None)


def _report_image(cmp: dict[str, Any], qwork: Work | None, wwork: Work,
                  settings: RegistrySettings, reader: Viewer) -> rep.ImageComparison | None:
    image = cmp.get("image")
    if not image:
        return None
    qkey = qwork.thumbnail_key if qwork else cmp.get("query", {}).get("thumbnail_key")
    if qwork is not None and not reader.sees_record(qwork):
        qkey = None
    wkey = wwork.thumbnail_key if reader.sees_record(wwork) else None
    transformation = core.REPORT_TRANSFORMATIONS.get(image.get("transformation") or "")
    query_jpeg, work_jpeg = _jpeg(qkey, settings), _jpeg(wkey, settings)
    if image.get("region"):  # drawn where local features placed the registered picture
        query_jpeg = _boxed(query_jpeg, image["region"])
        work_jpeg = _boxed(work_jpeg, (image.get("transform") or {}).get("crop"))
    return rep.ImageComparison(
        query_jpeg, work_jpeg,
        [(k, float(v)) for k, v in sorted(image["distances"].items())], transformation)


def _report_video(cmp: dict[str, Any], settings: RegistrySettings) -> rep.VideoFrames | None:
    video = cmp.get("video")
    if not video or not video.get("stills"):
        return None
    pairs = [(_jpeg(q, settings), float(f[0]), _jpeg(w, settings), float(f[1]), int(f[2]))
             for (q, w), f in zip(video["stills"], video["frames"], strict=False)]
    return rep.VideoFrames(pairs)
