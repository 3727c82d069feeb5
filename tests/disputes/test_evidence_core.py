"""The core of evidence bundles: alignment, digests the verifier recomputes, the archive."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from registry.core import evidence
from registry.core.audio import AudioFingerprint
from registry.core.image import ImageHashes, WindowHash
from registry.core.ledger import load_or_create_keyring
from registry.core.tamga_verify import (
    audio_bit_errors,
    audio_fingerprint_digest,
    canonical_zip,
    image_distances,
    image_hashes_digest,
    verify_evidence_bundle,
)


def _song(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)


def _noisy(items: np.ndarray, flips: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = items.copy()
    for i in range(out.size):
        for bit in rng.choice(32, flips, replace=False):
            out[i] ^= np.uint32(1 << int(bit))
    return out


def test_alignment_finds_the_offset_and_its_bit_error_rate():
    work = _song(1, 800)
    clip = _noisy(work[300:420], 3, seed=2)  # 120 items from item 300, 3 bits of 32 changed
    pairing = evidence.align_audio([AudioFingerprint(clip, 15.0)], AudioFingerprint(work, 99.0))
    assert pairing is not None and len(pairing.segments) == 1
    seg = pairing.segments[0]
    assert seg.offset == 300 and seg.start == 0 and seg.end == 120
    assert pairing.bit_error_rate == round(3 / 32, 4)
    assert pairing.similarity == round(1 - 2 * 3 / 32, 4)
    # The standalone verifier's pure-Python recomputation agrees bit for bit.
    errors, bits = audio_bit_errors([int(v) for v in clip], [int(v) for v in work],
                                    [{"query_start_item": 0, "query_end_item": 120,
                                      "offset_items": 300}])
    assert (errors, bits) == (pairing.bit_errors, pairing.bits)


def test_unrelated_recordings_do_not_align():
    assert evidence.align_audio([AudioFingerprint(_song(3, 200), 25.0)],
                                AudioFingerprint(_song(4, 800), 99.0)) is None


def test_two_reused_passages_give_two_segments():
    work = _song(5, 1000)
    clip = np.concatenate([work[100:200], _song(6, 40), work[600:700]])
    pairing = evidence.align_audio([AudioFingerprint(clip, 30.0)], AudioFingerprint(work, 120.0))
    assert pairing is not None
    assert [(s.start, s.offset) for s in pairing.segments] == [(0, 100), (140, 460)]
    q0, q1, w0, w1 = evidence.segment_seconds(pairing.segments[1], AudioFingerprint(clip, 30.0),
                                              AudioFingerprint(work, 120.0))
    assert 0 <= q0 < q1 <= 30 and 0 <= w0 < w1 <= 120


def test_verifier_digests_equal_the_registry_digests():
    fp = AudioFingerprint(_song(7, 50), 12.345678)
    assert audio_fingerprint_digest([int(v) for v in fp.items], float(
        AudioFingerprint.from_bytes(fp.to_bytes()).duration_s)) == fp.digest()
    hashes = ImageHashes({"full": WindowHash(1, 2**63, 0xFFFF), "mirror": WindowHash(5, 6, 7)},
                         "colour")
    assert image_hashes_digest(hashes.to_dict()) == hashes.digest()
    assert image_distances(hashes.windows["full"].to_dict(),
                           WindowHash(0, 2**63, 0xFF).to_dict()) == {
        "phash": 1, "dhash": 0, "whash": 8}


def test_canonical_zip_is_deterministic_and_sorted():
    a = canonical_zip({"b.txt": b"2", "a.txt": b"1"})
    assert a == canonical_zip({"a.txt": b"1", "b.txt": b"2"})
    assert zipfile.ZipFile(io.BytesIO(a)).namelist() == ["a.txt", "b.txt"]


def test_a_bundle_signed_by_an_unknown_key_or_without_ledger_fails(tmp_path):
    ring = load_or_create_keyring(tmp_path / "keys")
    other = load_or_create_keyring(tmp_path / "other")
    data = evidence.build_bundle({"README.txt": b"x"}, subject={"work": "KZ"}, ledger={},
                                 public_keys=ring.public_info(), keyring=ring,
                                 generated_at="2026-11-21T00:00:00Z")
    checks = {c.name: c for c in verify_evidence_bundle(data, ring.vkeys())}
    assert checks["manifest signature"].ok and checks["file README.txt"].ok
    assert not checks["ledger"].ok
    assert not {c.name: c for c in verify_evidence_bundle(data, other.vkeys())}[
        "manifest signature"].ok
    untrusted = {c.name: c for c in verify_evidence_bundle(data, None)}["manifest signature"]
    assert untrusted.ok and untrusted.warning
    assert not verify_evidence_bundle(b"not a zip", None)[0].ok
