"""AI-training reservations, published: the check API, TDMRep, robots.txt, the export.

A reservation dates from the ledger entry that stated it (the registration entry,
or a later ``work.reservation_changed``); its inclusion proof makes the date
provable without trusting Tamga.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.core.ledger import store
from registry.core.ledger.canonical import canonical_json
from registry.extensions import db
from registry.models.provenance import TrainingReservation
from registry.models.work import Visibility, Work, WorkFile, WorkStatus
from registry.services.ledger import rfc3339
from registry.services.metadata_input import MalformedRequest
from registry.services.settings import RegistrySettings

MAX_KEYS = 1000
LIVE = (WorkStatus.REGISTERED, WorkStatus.CONFLICT)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
ISCC = re.compile(r"^ISCC:[A-Z2-7]{10,73}$")
#: Crawlers that gather training data and read robots.txt groups by name.
AI_CRAWLERS = ("GPTBot", "ClaudeBot", "CCBot", "Google-Extended", "Applebot-Extended",
               "Bytespider", "meta-externalagent", "PerplexityBot", "cohere-training-data-crawler")


@dataclass
class Reserved:
    work: Work
    since: TrainingReservation | None


def parse_keys(body: Any) -> tuple[list[str], list[str]]:
    """``{"sha256": [...], "iscc": [...]}``, at most 1,000 keys in all."""
    if not isinstance(body, dict):
        raise MalformedRequest(_l("Send a JSON object with “sha256” and/or “iscc” lists."))
    lists = []
    for name in ("sha256", "iscc"):
        value = body.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise MalformedRequest(_l("“%(field)s” must be a list of strings.", field=name),
                                   field=name)
        lists.append([v.strip() for v in value])
    sha, iscc = lists
    if not sha and not iscc:
        raise MalformedRequest(_l("Send at least one SHA-256 or ISCC code."), field="sha256")
    if len(sha) + len(iscc) > MAX_KEYS:
        raise MalformedRequest(_l("At most %(max)d codes per call.", max=MAX_KEYS),
                               field="sha256")
    sha = [v.lower() for v in sha]
    bad = next((v for v in sha if not SHA256.match(v)), None)
    if bad is not None:
        raise MalformedRequest(_l("“%(value)s” is not a SHA-256 in hex.", value=bad[:80]),
                               field="sha256")
    bad = next((v for v in iscc if not ISCC.match(v)), None)
    if bad is not None:
        raise MalformedRequest(_l("“%(value)s” is not an ISCC code.", value=bad[:80]),
                               field="iscc")
    return sha, iscc


def _earliest(works: list[Work]) -> Work | None:
    live = [w for w in works if w.status in LIVE]
    return min(live, key=lambda w: (w.registered_at, w.id)) if live else None


def works_by_sha256(values: list[str]) -> dict[str, Work]:
    found: dict[str, list[Work]] = {}
    if values:
        for sha, work in db.session.execute(
            select(WorkFile.sha256, Work).join(Work, Work.id == WorkFile.work_id)
            .where(WorkFile.sha256.in_(set(values)), WorkFile.role == "main")
        ):
            found.setdefault(sha, []).append(work)
    return {k: w for k, v in found.items() if (w := _earliest(v)) is not None}


def works_by_iscc(values: list[str]) -> dict[str, Work]:
    found: dict[str, list[Work]] = {}
    if values:
        for work in db.session.scalars(select(Work).where(Work.iscc.in_(set(values)))):
            found.setdefault(work.iscc or "", []).append(work)
    return {k: w for k, v in found.items() if (w := _earliest(v)) is not None}


def since_of(work: Work) -> TrainingReservation | None:
    from registry.services.provenance import reserved_since

    return reserved_since(work)


def result(key: str, work: Work | None, proofs: dict[int, dict]) -> dict[str, Any]:
    """One answer of the check API."""
    if work is None:
        return {"key": key, "registration_number": None, "reserved": False,
                "reserved_since": None, "inclusion_proof": None}
    since = since_of(work)
    proof = None
    if since is not None and since.ledger_index is not None:
        if since.ledger_index not in proofs:
            conn = db.session.connection()
            proofs[since.ledger_index] = store.proof_bundle(conn, since.ledger_index,
                                                            store.published_keys(conn))
        proof = proofs[since.ledger_index]
    return {"key": key, "registration_number": work.registration_number,
            "reserved": since is not None,
            "reserved_since": rfc3339(since.at) if since is not None else None,
            "inclusion_proof": proof}


def check(sha: list[str], iscc: list[str]) -> list[dict[str, Any]]:
    by_sha, by_iscc = works_by_sha256(sha), works_by_iscc(iscc)
    proofs: dict[int, dict] = {}
    return ([result(k, by_sha.get(k), proofs) for k in sha]
            + [result(k, by_iscc.get(k), proofs) for k in iscc])


def check_upload(stream: BinaryIO, settings: RegistrySettings) -> list[dict[str, Any]]:
    """A file: matched by content like ``/lookup`` (never stored); one result per work
    it is, keyed by the file's SHA-256, or one empty result."""
    from registry.services.lookup import (
        IDENTICAL_FILE,
        LIKELY_SAME_IMAGE,
        SAME_RECORDING,
        lookup_upload,
        reading,
    )

    found = lookup_upload(reading, stream, upload_dir=settings.upload_dir,
                          limits=settings.limits)
    key = found.checked.sha256
    proofs: dict[int, dict[Any, Any]] = {}
    same = (IDENTICAL_FILE, SAME_RECORDING, LIKELY_SAME_IMAGE)
    results = [result(key, db.session.get(Work, m.work.work_id), proofs)
               for m in found.matches if m.meaning in same]
    return results or [result(key, None, proofs)]


# Published forms ------------------------------------------------------------------

def public_reserved_works(*, with_since: bool = True) -> list[Reserved]:
    """Public live works whose reservation holds now, oldest first.

    ``with_since=False`` skips the per-work query for the date (``tdmrep.json`` and
    ``robots.txt`` only need the numbers)."""
    works = db.session.scalars(select(Work).where(
        Work.visibility == Visibility.PUBLIC, Work.status.in_(LIVE),
        Work.ai_training_opt_out.is_(True)).order_by(Work.registered_at, Work.id))
    return [Reserved(w, since_of(w) if with_since else None) for w in works]


def is_published_reservation(work: Work) -> bool:
    return work.is_public and work.status in LIVE and work.ai_training_opt_out


def tdmrep(reserved: list[Reserved], policy_url: str) -> list[dict[str, Any]]:
    """W3C TDMRep ``/.well-known/tdmrep.json``: one rule per reserved work's URLs."""
    return [{"location": f"/w/{r.work.registration_number}*", "tdm-reservation": 1,
             "tdm-policy": policy_url} for r in reserved]


def robots_txt(reserved: list[Reserved]) -> str:
    """robots.txt with the IETF AI-preferences ``Content-Usage`` rules and a group that
    keeps training crawlers away from reserved works."""
    paths = [f"/w/{r.work.registration_number}" for r in reserved]
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Content-Usage: {p} train-ai=n" for p in paths]
    lines += ["", *[f"User-agent: {bot}" for bot in AI_CRAWLERS]]
    lines += [f"Disallow: {p}" for p in paths] or ["Allow: /"]
    return "\n".join(lines) + "\n"


def policy_document(base_url: str, policy_url: str) -> dict[str, Any]:
    """The TDMRep policy (ODRL) that ``tdm-policy`` points to: mining needs the author's consent."""
    return {
        "@context": ["http://www.w3.org/ns/odrl.jsonld",
                     {"tdm": "http://www.w3.org/ns/tdmrep#"}],
        "@type": "Offer",
        "profile": "http://www.w3.org/ns/tdmrep",
        "uid": policy_url,
        "assigner": {"uid": base_url, "name": "Tamga copyright registry, for the authors",
                     "@type": "Party"},
        "permission": [{
            "action": "tdm:mine",
            "duty": [{"action": "obtainConsent",
                      "consentingParty": {"uid": f"{base_url}/w/",
                                          "name": "The author named on each work's page"}}],
        }],
        "prohibition": [{"action": "tdm:mine",
                         "constraint": [{"leftOperand": "purpose", "operator": "eq",
                                         "rightOperand": "ai-training"}]}],
    }


def export(settings: RegistrySettings, now: datetime | None = None) -> dict[str, Any]:
    """Every public reservation, dated and signed with the registry's current ledger key."""
    now = now or datetime.now(UTC)
    rows = []
    for r in public_reserved_works():
        rows.append({
            "registration_number": r.work.registration_number,
            "sha256": [f.sha256 for f in r.work.files if f.role == "main"],
            "iscc": r.work.iscc,
            "url": f"{settings.base_url}/w/{r.work.registration_number}",
            "reserved_since": rfc3339(r.since.at) if r.since else None,
            "ledger_index": r.since.ledger_index if r.since else None,
        })
    body = {"format": "tamga-ai-training-reservations/1", "issuer": settings.base_url,
            "generated_at": rfc3339(now), "count": len(rows), "reservations": rows}
    key = settings.keyring.current
    signature = key.private_key.sign(canonical_json(body))
    return {**body, "signature": {
        "algorithm": "Ed25519", "key": key.name, "vkey": key.vkey,
        "signed": "canonical JSON of this object without the 'signature' member",
        "value": base64.b64encode(signature).decode("ascii")}}
