"""Getting checkpoints attested outside the registry, off the registration path.

Periodic-task bodies (each commits its own short transactions, and holds none
while it waits on the network):

- ``sign_pending_checkpoint``: one checkpoint per interval under load;
- ``timestamp_once(authority)``: at most one RFC 3161 request per authority per
  second, always for the latest checkpoint (so one token covers a whole batch);
- ``cosign_once(witness)``: C2SP ``add-checkpoint`` with a consistency proof from
  the witness's last size.

A failure is recorded with a back-off (2 s, 4 s, … up to 10 minutes) and retried;
since each attempt covers the latest checkpoint, nothing missed is lost.
Registration never waits for any of this.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from registry.core.ledger import attest, store
from registry.core.ledger import attestations as att
from registry.extensions import db
from registry.services.settings import RegistrySettings

log = logging.getLogger(__name__)
TSA, WITNESS = "tsa", "witness"


def _now() -> datetime:
    return datetime.now(UTC)


def sign_pending_checkpoint(settings: RegistrySettings) -> int | None:
    """Sign a checkpoint of the whole tree if entries were appended since the last one."""
    conn = db.session.connection()
    size = store.sign_checkpoint_if_behind(conn, settings.keyring, settings.ledger_origin)
    db.session.commit()
    return size


def _begin(kind: str, target: str) -> tuple[att.Attester, store.StoredCheckpoint] | None:
    """Claim an attempt when one is due; commits, so no transaction stays open."""
    conn = db.session.connection()
    attester = att.ensure_attesters(conn, kind, [target])[0]
    cp = store.latest_checkpoint(conn)
    now = _now()
    if cp is None or not attester.due(now, cp.tree_size) or not att.claim_attempt(
            conn, attester, now):
        db.session.commit()
        return None
    db.session.commit()
    return attester, cp


def _fail(attester: att.Attester, exc: Exception) -> None:
    db.session.rollback()
    log.warning("attestation by %s failed: %s", attester.target, exc)
    att.record_failure(db.session.connection(), attester, str(exc), _now())
    db.session.commit()


def timestamp_once(authority: attest.Authority, *, timeout: float = 10.0) -> bool:
    """Ask one authority to time-stamp the latest checkpoint, if due. True on a new token."""
    started = _begin(TSA, authority.url)
    if started is None:
        return False
    attester, cp = started
    try:
        der = attest.request_timestamp(authority, cp.note, timeout=timeout)
        import rfc3161_client

        gen_time = rfc3161_client.decode_timestamp_response(der).tst_info.gen_time
    except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
        _fail(attester, exc)
        return False
    conn = db.session.connection()
    att.add_timestamp(conn, cp.tree_size, authority.url, der,
                      gen_time.replace(tzinfo=gen_time.tzinfo or UTC), _now())
    att.record_success(conn, attester, cp.tree_size, _now())
    db.session.commit()
    return True


def cosign_once(witness: attest.WitnessTarget, *, timeout: float = 10.0) -> bool:
    """Submit the latest checkpoint to one witness, if due. True on a new cosignature."""
    started = _begin(WITNESS, witness.vkey)
    if started is None:
        return False
    attester, cp = started
    old = attester.known_size
    try:
        for _ in range(2):  # a 409 tells the witness's size: one more try from there
            if old > cp.tree_size:
                raise attest.AttestError(
                    f"{witness.url} has cosigned size {old}, beyond this log's {cp.tree_size}")
            proof = (store.consistency_proof(db.session.connection(), old, cp.tree_size)
                     if 0 < old < cp.tree_size else [])
            db.session.commit()
            reply = attest.add_checkpoint(witness, old, proof, cp.note, timeout=timeout)
            if reply.cosignature is not None:
                break
            old = int(reply.witness_size or 0)
            att.record_known_size(db.session.connection(), attester, old)
            db.session.commit()
        else:
            raise attest.AttestError(f"{witness.url}: its size keeps changing")
    except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
        _fail(attester, exc)
        return False
    conn = db.session.connection()
    att.add_cosignature(conn, cp.tree_size, witness.name, witness.vkey, reply.cosignature,
                        datetime.fromtimestamp(reply.timestamp, UTC), _now())
    att.record_success(conn, attester, cp.tree_size, _now(), known_size=cp.tree_size)
    db.session.commit()
    return True


def attest_all(settings: RegistrySettings) -> dict[str, bool]:
    """One round over every configured attester (a periodic task calls this)."""
    sign_pending_checkpoint(settings)
    done = {a.url: timestamp_once(a, timeout=settings.attest_timeout)
            for a in settings.authorities}
    done |= {w.url: cosign_once(w, timeout=settings.attest_timeout) for w in settings.witnesses}
    return done


# --------------------------------------------------------------------------- reads


def witness_list(settings: RegistrySettings) -> list[dict[str, str]]:
    return [{"name": w.name, "vkey": w.vkey, "url": w.url} for w in settings.witnesses]


def tsa_roots(settings: RegistrySettings) -> list[str]:
    return [a.ca_pem for a in settings.authorities if a.ca_pem]


def proof_checkpoint(min_size: int) -> store.StoredCheckpoint | None:
    return att.attested_checkpoint(db.session.connection(), min_size)


def bundle_fields(size: int, settings: RegistrySettings) -> dict[str, Any]:
    return att.attestation_fields(db.session.connection(), size, witness_list(settings),
                                  tsa_roots(settings))


@dataclass(frozen=True)
class AttesterStatus:
    kind: str
    name: str
    url: str
    attester: att.Attester | None


def status(settings: RegistrySettings) -> tuple[list[AttesterStatus], int]:
    """Every configured attester with its progress, and the latest checkpoint's size."""
    conn = db.session.connection()
    rows = {(a.kind, a.target): a for a in att.all_attesters(conn)}
    found = [AttesterStatus(TSA, a.url, a.url, rows.get((TSA, a.url)))
             for a in settings.authorities]
    found += [AttesterStatus(WITNESS, w.name, w.url, rows.get((WITNESS, w.vkey)))
              for w in settings.witnesses]
    latest = store.latest_checkpoint(conn)
    return found, latest.tree_size if latest else 0
