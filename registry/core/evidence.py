"""Evidence bundles: the comparison of two works and a signed, self-checking ZIP.

Plain Python: it takes a SQLAlchemy ``Connection`` for the ledger and the key
ring as arguments. What it writes is checked by ``tamga_verify.verify_evidence_bundle``,
which holds the one definition of the archive layout (:func:`canonical_zip`) and
of the recomputation, so a third party can check a bundle without Tamga.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection

from registry.core.audio import EDGE_ITEMS, ITEM_SECONDS, AudioFingerprint
from registry.core.certificates.i18n import LANGUAGES, NP_, label, translate
from registry.core.errors import NotFound
from registry.core.image import ImageComparison, ImageHashes, QueryHashes, compare
from registry.core.ledger import attestations, store
from registry.core.ledger.keys import KeyRing
from registry.core.matching.audio_index import bit_errors, item_keys, longest_stretch
from registry.core.tamga_verify import (
    EVIDENCE_FORMAT,
    FINGERPRINTS_FORMAT,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    canonical_zip,
    manifest_signature_line,
)

# Alignment thresholds (same spirit as the audio index's verification).
WINDOW = 16  # items averaged when delimiting a matching stretch
WINDOW_BER = 0.40
MAX_BER = 0.35
MIN_ITEMS = 16
EDGE_ERRORS = 10  # stretch ends are trimmed while an item differs in more bits
MAX_OFFSETS = 6  # candidate offsets verified per query variant
MAX_KEY_REPEATS = 40  # keys repeated more often than this (silence, drones) cast no votes

# image.compare's transformation names -> the report's vocabulary
REPORT_TRANSFORMATIONS = {
    "mirrored": "mirror", "rotated": "rotate", "cropped": "crop", "bordered": "crop",
    "identical": "none",
}


# --------------------------------------------------------------------------- audio


@dataclass(frozen=True)
class AudioSegment:
    """Items ``[start, end)`` of the query match items ``[start + offset, end + offset)``."""

    start: int
    end: int
    offset: int


@dataclass(frozen=True)
class AudioPairing:
    """How a query recording (one of its speed variants) lines up with a registered one."""

    variant: int  # index of the query fingerprint used
    segments: tuple[AudioSegment, ...]
    bit_errors: int
    bits: int

    @property
    def bit_error_rate(self) -> float:
        return round(self.bit_errors / self.bits, 4) if self.bits else 1.0

    @property
    def similarity(self) -> float:
        return round(max(0.0, 1.0 - 2.0 * (self.bit_errors / self.bits)), 4) if self.bits else 0.0


def _candidate_offsets(q: np.ndarray, w: np.ndarray) -> list[int]:
    """Offsets (work index - query index) voted for by items with equal index keys."""
    qk, wk = item_keys(q), item_keys(w)
    order = np.argsort(wk, kind="stable")
    sorted_w = wk[order]
    left, right = np.searchsorted(sorted_w, qk, "left"), np.searchsorted(sorted_w, qk, "right")
    votes: dict[int, int] = {}
    for i in np.nonzero((right > left) & (right - left <= MAX_KEY_REPEATS))[0]:
        for j in order[left[i]:right[i]]:
            votes[int(j) - int(i)] = votes.get(int(j) - int(i), 0) + 1
    ranked = sorted(votes, key=lambda o: (-votes[o], o))
    return ranked[:MAX_OFFSETS] or [0]


def _segment(q: np.ndarray, w: np.ndarray, offset: int) -> tuple[AudioSegment, int] | None:
    base, errors = bit_errors(q, w, offset)
    found = longest_stretch(errors, WINDOW, WINDOW_BER, EDGE_ERRORS)
    if found is None or found[1] - found[0] < MIN_ITEMS:
        return None
    a, b = found
    bad = int(errors[a:b].sum())
    if bad > MAX_BER * 32 * (b - a):
        return None
    return AudioSegment(base + a, base + b, offset), bad


def align_audio(queries: Sequence[AudioFingerprint], work: AudioFingerprint) -> AudioPairing | None:
    """The best-matching stretches of any query variant against ``work``.

    Several offsets may each explain a different, non-overlapping part of the
    query (a clip that reuses two passages); all are kept.
    """
    best: AudioPairing | None = None
    w = work.items
    for variant, fp in enumerate(queries):
        segments: list[tuple[AudioSegment, int]] = []
        for offset in _candidate_offsets(fp.items, w):
            for near in range(offset - 1, offset + 2):
                found = _segment(fp.items, w, near)
                if found and not any(_overlaps(found[0], s) for s, _ in segments):
                    segments.append(found)
        if not segments:
            continue
        segments.sort(key=lambda s: s[0].start)
        bits = sum(32 * (s.end - s.start) for s, _ in segments)
        pairing = AudioPairing(variant, tuple(s for s, _ in segments),
                               sum(e for _, e in segments), bits)
        if best is None or _rank(pairing) > _rank(best):
            best = pairing
    return best


def _overlaps(a: AudioSegment, b: AudioSegment) -> bool:
    return a.start < b.end and b.start < a.end


def _rank(p: AudioPairing) -> float:
    return p.similarity * min(1.0, p.bits / 32 / 100) ** 0.5


def segment_seconds(
    seg: AudioSegment, query: AudioFingerprint, work: AudioFingerprint
) -> tuple[float, float, float, float]:
    """(query start, query end, work start, work end) in seconds, inside both recordings."""
    span = EDGE_ITEMS * ITEM_SECONDS
    q0 = min(query.duration_s, seg.start * ITEM_SECONDS / query.speed)
    q1 = min(query.duration_s, ((seg.end - 1) * ITEM_SECONDS + span) / query.speed)
    w0 = min(work.duration_s, (seg.start + seg.offset) * ITEM_SECONDS)
    w1 = min(work.duration_s, (seg.end - 1 + seg.offset) * ITEM_SECONDS + span)
    return round(q0, 2), round(max(q1, q0 + 0.01), 2), round(w0, 2), round(max(w1, w0 + 0.01), 2)


def audio_side(fp: AudioFingerprint, number: str | None, label: str) -> dict[str, Any]:
    return {"registration_number": number, "label": label, "duration_s": float(fp.duration_s),
            "speed": float(fp.speed), "items": [int(v) for v in fp.items]}


def audio_fingerprints(query: dict[str, Any], work: dict[str, Any],
                       pairing: AudioPairing) -> dict[str, Any]:
    """The ``audio`` section of ``fingerprints.json``: enough to recompute the similarity."""
    return {
        "algorithm": "chromaprint (fpcalc -raw -length 0), 32-bit items, "
                     f"{ITEM_SECONDS:.6f} s apart",
        "query": query, "work": work,
        "segments": [{"query_start_item": s.start, "query_end_item": s.end,
                      "offset_items": s.offset} for s in pairing.segments],
        "bit_error_rate": pairing.bit_error_rate, "similarity": pairing.similarity,
    }


# --------------------------------------------------------------------------- images


def image_side(hashes: ImageHashes | QueryHashes, number: str | None,
               label: str) -> dict[str, Any]:
    side: dict[str, Any] = {"registration_number": number, "label": label}
    if isinstance(hashes, ImageHashes):
        side["hashes"] = hashes.to_dict()
    else:
        side["variants"] = [{"name": v.name, "transformation": v.transformation,
                             "hashes": v.hashes.to_dict()} for v in hashes.variants]
    return side


_QUERY_WINDOWS = {"base": "full", "mirror": "mirror", "trim": "trim"}


def compare_images(query: ImageHashes | QueryHashes, work: ImageHashes,
                   query_side: dict[str, Any], work_side: dict[str, Any]
                   ) -> tuple[ImageComparison, dict[str, Any]]:
    """``image.compare`` plus the ``image`` section of ``fingerprints.json``."""
    result = compare(query, work)
    window = result.query_variant
    if isinstance(query, ImageHashes):
        window = _QUERY_WINDOWS.get(window, window)
    quarter = work.search_windows.get(result.reference_window)
    if quarter is not None:
        # a corner quarter: index data hashed from the registered file, not part of
        # the fingerprint the ledger quotes, so it travels beside it
        work_side = {**work_side, "search_windows": {result.reference_window: quarter.to_dict()}}
    section = {
        "algorithm": "imagehash pHash, dHash, wHash (64 bits, hex); Hamming distances",
        "query": query_side, "work": work_side,
        "pair": {"query_window": window, "work_window": result.reference_window,
                 "distances": dict(sorted(result.distances.items()))},
        "similarity": result.score, "transformation": result.transformation,
    }
    return result, section


def fingerprints_json(section: Mapping[str, Any]) -> bytes:
    """``fingerprints.json``: sorted keys and one fixed layout, so bundles are reproducible."""
    body = {"format": FINGERPRINTS_FORMAT, **section}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")


# --------------------------------------------------------------------------- ledger


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def ledger_section(conn: Connection, leaf_indexes: Iterable[int], *,
                   witnesses: Sequence[Mapping[str, str]] = (),
                   tsa_roots: Sequence[str] = ()) -> dict[str, Any]:
    """Entries with inclusion proofs against the checkpoint holding them all that has
    the most outside attestations (with its time-stamps and cosignatures), and a
    consistency proof from it to the latest checkpoint."""
    indexes = sorted(set(leaf_indexes))
    latest = store.latest_checkpoint(conn)
    if not indexes or latest is None or indexes[-1] >= latest.tree_size:
        raise NotFound.because("ledger_entries_not_checkpointed")
    cp = attestations.attested_checkpoint(conn, indexes[-1] + 1) or latest
    entries = store.get_entries(conn, indexes[0], indexes[-1] + 1)
    by_index = {e.leaf_index: e for e in entries}
    return {
        **attestations.attestation_fields(conn, cp.tree_size, [dict(w) for w in witnesses],
                                          list(tsa_roots)),
        "checkpoint": attestations.cosigned_note(conn, cp),
        "entries": [
            {"leaf_index": i, "entry": _b64(by_index[i].entry),
             "inclusion_proof": [_b64(h) for h in store.inclusion_proof(conn, i, cp.tree_size)]}
            for i in indexes
        ],
        "latest_checkpoint": attestations.cosigned_note(conn, latest),
        "consistency_proof": [_b64(h) for h in
                              store.consistency_proof(conn, cp.tree_size, latest.tree_size)],
    }


# --------------------------------------------------------------------------- the bundle


def build_bundle(members: Mapping[str, bytes], *, subject: Mapping[str, Any],
                 ledger: Mapping[str, Any], public_keys: Sequence[Mapping[str, Any]],
                 keyring: KeyRing, generated_at: str,
                 summary: Mapping[str, Any] | None = None) -> bytes:
    """The ZIP: ``members`` plus ``manifest.json`` (signed) and ``manifest.json.sig``.

    The same members, ledger state and keys give the same bytes.
    """
    key = keyring.current
    files = [{"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
             for name, data in sorted(members.items())]
    manifest = {
        "format": EVIDENCE_FORMAT, "subject": dict(subject), "generated_at": generated_at,
        "files": files, "ledger": dict(ledger), "summary": dict(summary or {}),
        "public_keys": [dict(k) for k in public_keys],
        "signature": {"algorithm": "Ed25519", "key": key.name, "vkey": key.vkey,
                      "file": SIGNATURE_NAME, "signed": MANIFEST_NAME},
    }
    raw = json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")
    sig = manifest_signature_line(key.name, key.key_id, key.private_key.sign(raw))
    return canonical_zip({**members, MANIFEST_NAME: raw, SIGNATURE_NAME: sig})


#: The evidence bundle's README.txt, the same text in each language (gettext context
#: ``evidence``, one of the catalogues' entries like every PDF label).
README_TEXT = NP_(
    "evidence",
    "TAMGA — EVIDENCE BUNDLE (%(subject)s)\n"
    "\n"
    "Inside:\n"
    "- manifest.json — every file's SHA-256 and size, the ledger entries involved with their\n"
    "  inclusion proofs, the checkpoint they verify against, a consistency proof to the latest\n"
    "  checkpoint, and the registry's public keys;\n"
    "- manifest.json.sig — an Ed25519 signature over the exact bytes of manifest.json;\n"
    "- certificates/*.pdf — the signed certificate of every registered work involved;\n"
    "- report.pdf — the comparison report (when there is a comparison);\n"
    "- fingerprints.json — the fingerprints (Chromaprint item sequences, image hashes);\n"
    "- originals/ — original files, only where the owner allowed it.\n"
    "\n"
    "How to verify, step by step:\n"
    "1. pip install cryptography pypdf\n"
    "2. python tamga_verify.py BUNDLE.zip --recompute --key <the registry's published key>\n"
    "3. \"RESULT: all checks passed\" means everything holds; one changed byte makes it fail.\n"
    "4. If you like, recompute the fingerprints yourself: fpcalc -raw -length 0 FILE, or "
    "imagehash.\n"
)


def readme(subject: str) -> bytes:
    """README.txt in Kazakh, Russian, English, Kyrgyz and Uzbek."""
    parts = [translate(README_TEXT, lang, context="evidence") % {"subject": subject}
             for lang in LANGUAGES]
    return ("\n" + "=" * 72 + "\n\n").join(parts).encode("utf-8")


ATTESTATION_README = NP_(
    "evidence",
    "Outside attestations of the checkpoint: %(text)s.\n"
    "To check them: --witness-key <witness key> --tsa-cert <authority certificate> "
    "--min-witnesses N --min-timestamps N\n",
)


def attestation_counts(ledger: Mapping[str, Any]) -> tuple[int, int]:
    """(authorities, witnesses) whose time-stamps and cosignatures the section carries."""
    from registry.core.certificates.facts import Checkpoint
    from registry.core.certificates.facts import attestation_counts as counts

    return counts(ledger, Checkpoint.parse(str(ledger["checkpoint"])))


def attestation_readme(ledger: Mapping[str, Any]) -> bytes:
    """README lines saying "Timestamped by N authorities, cosigned by M witnesses"."""
    n, m = attestation_counts(ledger)
    parts = [translate(ATTESTATION_README, lang, context="evidence")
             % {"text": label("attested_by", lang) % {"n": n, "m": m}} for lang in LANGUAGES]
    return ("\n" + "\n".join(parts)).encode("utf-8")
