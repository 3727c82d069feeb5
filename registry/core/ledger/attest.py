"""Talking to the outside attesters of checkpoints: RFC 3161 time-stamping
authorities and C2SP tlog-witnesses. Plain HTTP with the standard library.

Nothing here touches the database: the caller (``registry.services.attestations``)
decides what to submit, calls these with no transaction open, and stores what
comes back.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from registry.core.errors import ValidationFailed
from registry.core.tamga_verify import (
    VerifierKey,
    check_cosignatures,
    check_timestamp,
    note_body,
    parse_witness_key,
)

USER_AGENT = "tamga-attest/1"


class AttestError(Exception):
    """An attester did not give a usable answer (down, refused, or a bad reply)."""


@dataclass(frozen=True)
class Authority:
    """One time-stamping authority: its URL and, optionally, CA certificates (PEM)."""

    url: str
    ca_pem: str | None = None


@dataclass(frozen=True)
class WitnessTarget:
    """One witness: its cosignature verifier key and base URL."""

    vkey: str
    url: str

    @property
    def key(self) -> VerifierKey:
        return parse_witness_key(self.vkey)

    @property
    def name(self) -> str:
        return self.key.name


def parse_tsa_urls(text: str | None) -> list[Authority]:
    """``TAMGA_TSA_URLS``: ``URL[|CA-FILE][,URL[|CA-FILE]...]``."""
    found = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        url, _, ca_file = item.partition("|")
        if not url.startswith(("http://", "https://")):
            raise ValidationFailed(f"TAMGA_TSA_URLS: {url!r} is not an http(s) URL")
        ca = Path(ca_file.strip()).read_text("ascii") if ca_file.strip() else None
        found.append(Authority(url.strip(), ca))
    return found


def parse_witnesses(text: str | None) -> list[WitnessTarget]:
    """``TAMGA_WITNESSES``: ``VKEY=URL[,VKEY=URL...]`` (a vkey's base64 has no '=')."""
    found = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        vkey, sep, url = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise ValidationFailed(f"TAMGA_WITNESSES: {item!r} is not VKEY=URL")
        target = WitnessTarget(vkey.strip(), url.strip().rstrip("/"))
        target.key  # noqa: B018 - refuses a malformed key at start-up
        found.append(target)
    return found


def _post(url: str, body: bytes, media: str, timeout: float) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": media, "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise AttestError(f"{url}: {getattr(exc, 'reason', exc)}") from exc


# --------------------------------------------------------------------------- RFC 3161


def request_timestamp(authority: Authority, checkpoint_note: str, *,
                      timeout: float = 10.0) -> bytes:
    """A DER TimeStampResp over SHA-256 of the checkpoint body, checked before it is kept."""
    import rfc3161_client as tsp
    from cryptography import x509

    body = note_body(checkpoint_note).encode("utf-8")
    req = (tsp.TimestampRequestBuilder().data(body).hash_algorithm(tsp.HashAlgorithm.SHA256)
           .cert_request(cert_request=True).nonce(nonce=True).build())
    status, _, reply = _post(authority.url, req.as_bytes(), "application/timestamp-query",
                             timeout)
    if status != 200:
        raise AttestError(f"{authority.url}: HTTP {status}")
    try:
        response = tsp.decode_timestamp_response(reply)
    except Exception as exc:  # the Rust decoder raises several types
        raise AttestError(f"{authority.url}: not a time-stamp response ({exc})") from exc
    if response.status not in (0, 1):
        raise AttestError(f"{authority.url}: the request was refused ({response.status})")
    if response.tst_info.nonce != req.nonce:
        raise AttestError(f"{authority.url}: the reply's nonce is not the request's")
    digest = req.message_imprint.message
    if authority.ca_pem:
        roots = x509.load_pem_x509_certificates(authority.ca_pem.encode("ascii"))
        ok, detail = check_timestamp(reply, digest, roots)
        if not ok:
            raise AttestError(f"{authority.url}: {detail}")
    elif response.tst_info.message_imprint.message != digest:
        raise AttestError(f"{authority.url}: the reply stamps another message")
    return reply


# --------------------------------------------------------------------------- tlog-witness


@dataclass(frozen=True)
class WitnessReply:
    """What ``add-checkpoint`` answered: a cosignature line, or the witness's size."""

    cosignature: str | None = None
    timestamp: int = 0
    witness_size: int | None = None


def add_checkpoint(target: WitnessTarget, old_size: int, proof: Sequence[bytes],
                   checkpoint_note: str, *, timeout: float = 10.0) -> WitnessReply:
    """POST ``URL/add-checkpoint``; a verified cosignature line, or 409's latest size."""
    head = f"old {old_size}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    body = (head + "\n" + checkpoint_note).encode("utf-8")
    status, media, reply = _post(f"{target.url}/add-checkpoint", body, "text/plain", timeout)
    text = reply.decode("utf-8", "replace")
    if status == 409 and media.startswith("text/x.tlog.size"):
        size = text.strip()
        if not size.isdigit():
            raise AttestError(f"{target.url}: 409 without a size")
        return WitnessReply(witness_size=int(size))
    if status != 200:
        raise AttestError(f"{target.url}: HTTP {status}: {text.strip()[:300]}")
    key = target.key
    for line in text.splitlines():
        cosigs = check_cosignatures(checkpoint_note + line + "\n", [key])
        if cosigs and cosigs[-1].ok:
            return WitnessReply(cosignature=line, timestamp=cosigs[-1].timestamp)
    raise AttestError(f"{target.url}: no valid cosignature by {key.name} in the reply")
