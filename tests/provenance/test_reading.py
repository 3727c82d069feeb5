"""Reading provenance from real files: C2PA manifests signed in the test, IPTC/XMP, tags."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from registry.core import c2pa_signing
from registry.core.provenance import declaration_mismatch, inspect_file, read_embedded
from tests.provenance.c2pa_files import (
    DST,
    exiftool,
    make_test_ca,
    media_file,
    picture,
    pillow_xmp,
    sign_file,
    tamper,
)


@pytest.fixture(scope="module")
def ca():
    return make_test_ca()


@pytest.fixture(scope="module")
def signed_ai(tmp_path_factory, ca) -> Path:
    folder = tmp_path_factory.mktemp("c2pa")
    return sign_file(picture(folder, "plain.jpg", 7), folder / "ai.jpg", "image/jpeg", ca,
                     source_type="trainedAlgorithmicMedia", generator="Midjourney",
                     version="7")


def test_signed_manifest_is_trusted_when_its_ca_is_on_the_trust_list(signed_ai, ca):
    report = inspect_file(signed_ai, "image/jpeg", ca.ca_pem)
    assert report.c2pa.state == "trusted"
    assert report.c2pa.claim_generator == "Midjourney 7"
    assert report.c2pa.signer == "Tamga"  # the organisation in the test CA's names
    assert report.c2pa.digital_source_type == "trainedAlgorithmicMedia"
    assert report.file_ai_claim == "ai_generated"


def test_signed_manifest_of_an_unknown_signer_is_valid_but_untrusted(signed_ai):
    other = make_test_ca("Some Other CA")
    assert inspect_file(signed_ai, "image/jpeg", other.ca_pem).c2pa.state == "valid_untrusted"
    assert inspect_file(signed_ai, "image/jpeg", "").c2pa.state == "valid_untrusted"


def test_tampered_file_is_invalid_and_its_claim_is_not_believed(signed_ai, ca, tmp_path):
    report = inspect_file(tamper(signed_ai, tmp_path / "t.jpg"), "image/jpeg", ca.ca_pem)
    assert report.c2pa.state == "invalid"
    assert report.c2pa.problems  # e.g. assertion.dataHash.mismatch
    assert report.file_ai_claim is None


def test_file_without_manifest_is_none(tmp_path, ca):
    report = inspect_file(picture(tmp_path, "p.jpg", 3), "image/jpeg", ca.ca_pem)
    assert report.c2pa.state == "none" and report.file_ai_claim is None


@pytest.mark.parametrize("fmt,mime", [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_other_picture_formats_carry_manifests(tmp_path, ca, fmt, mime):
    from PIL import Image

    source = tmp_path / f"p.{fmt.lower()}"
    Image.open(picture(tmp_path, "p.jpg", 4)).save(source, fmt)
    signed = sign_file(source, tmp_path / f"s.{fmt.lower()}", mime, ca,
                       source_type="digitalCapture")
    report = inspect_file(signed, mime, ca.ca_pem)
    assert (report.c2pa.state, report.c2pa.digital_source_type) == ("trusted", "digitalCapture")


@pytest.mark.parametrize("name,mime", [
    ("p.tif", "image/tiff"), ("p.heic", "image/heic"), ("p.avif", "image/avif"),
    ("s.mp3", "audio/mpeg"), ("s.flac", "audio/flac"), ("s.m4a", "audio/mp4"),
    ("v.mp4", "video/mp4"), ("v.mov", "video/quicktime"),
])
def test_every_format_the_issue_names_is_read(tmp_path, ca, name, mime):
    from registry.core.media import sniff

    source = media_file(tmp_path, name)
    assert sniff(source).mime == mime  # the type registration would read it as
    signed = sign_file(source, tmp_path / f"signed-{name}", mime, ca,
                       source_type="trainedAlgorithmicMedia", generator="Steppe Studio")
    report = inspect_file(signed, mime, ca.ca_pem)
    assert (report.c2pa.state, report.c2pa.claim_generator,
            report.c2pa.digital_source_type) == ("trusted", "Steppe Studio 3.1",
                                                 "trainedAlgorithmicMedia")
    data = bytearray(signed.read_bytes())
    middle = len(data) // 2  # the picture or sound data, away from the manifest
    data[middle:middle + 64] = bytes(b ^ 0x5A for b in data[middle:middle + 64])
    tampered = tmp_path / f"t-{name}"
    tampered.write_bytes(bytes(data))
    assert inspect_file(tampered, mime, ca.ca_pem).c2pa.state == "invalid"
    assert inspect_file(source, mime, ca.ca_pem).c2pa.state == "none"


def test_audio_carries_manifests(tmp_path, ca):
    wav = tmp_path / "tone.wav"
    subprocess.run(["sox", "-n", "-r", "22050", str(wav), "synth", "3", "sine", "440"],
                   check=True)
    signed = sign_file(wav, tmp_path / "signed.wav", "audio/wav", ca,
                       source_type="trainedAlgorithmicMedia", generator="Suno")
    report = inspect_file(signed, "audio/wav", ca.ca_pem)
    assert (report.c2pa.state, report.c2pa.claim_generator) == ("trusted", "Suno 3.1")


def test_iptc_digital_source_type_written_by_exiftool(tmp_path):
    path = exiftool(picture(tmp_path, "e.jpg", 5),
                    "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/"
                    "digitalsourcetype/compositeWithTrainedAlgorithmicMedia")
    found = read_embedded(path, "image/jpeg")
    assert found.digital_source_type == "compositeWithTrainedAlgorithmicMedia"


def test_iptc_2025_ai_fields_and_data_mining_written_by_pillow(tmp_path):
    path = pillow_xmp(picture(tmp_path, "a.jpg", 6), tmp_path / "b.jpg",
                      "<Iptc4xmpExt:AISystemUsed>Kandinsky</Iptc4xmpExt:AISystemUsed>"
                      "<Iptc4xmpExt:AISystemVersionUsed>3.1</Iptc4xmpExt:AISystemVersionUsed>"
                      "<Iptc4xmpExt:AIPromptInformation>a yurt at dusk"
                      "</Iptc4xmpExt:AIPromptInformation>"
                      "<plus:DataMining>http://ns.useplus.org/ldf/vocab/"
                      "DMI-PROHIBITED-AIMLTRAINING</plus:DataMining>")
    found = read_embedded(path, "image/jpeg")
    assert (found.ai_system, found.ai_system_version, found.ai_prompt) == (
        "Kandinsky", "3.1", "a yurt at dusk")
    assert found.data_mining == "DMI-PROHIBITED-AIMLTRAINING"


@pytest.mark.parametrize("ext", ["flac", "mp3"])
def test_vorbis_comments_and_id3_frames_carry_the_same_fields(tmp_path, ext):
    out = tmp_path / f"song.{ext}"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=330:duration=3", "-metadata",
                    f"DigitalSourceType={DST}trainedAlgorithmicMedia",
                    "-metadata", "AISystemUsed=Suno", "-metadata",
                    "DataMining=DMI-PROHIBITED", str(out)], check=True)
    found = read_embedded(out, f"audio/{'mpeg' if ext == 'mp3' else ext}")
    assert (found.digital_source_type, found.ai_system, found.data_mining) == (
        "trainedAlgorithmicMedia", "Suno", "DMI-PROHIBITED")


@pytest.mark.parametrize("declared,claim,expected", [
    ("none", "ai_generated", True), ("none", "ai_assisted", True), ("none", "none", False),
    ("ai_generated", "none", True), ("ai_generated", "ai_generated", False),
    ("ai_assisted", "ai_generated", False), ("none", None, False),
])
def test_declaration_mismatch(declared, claim, expected):
    assert declaration_mismatch(declared, claim) is expected


def test_signing_identity_is_made_once_private_and_rotates_under_the_same_ca(tmp_path):
    first = c2pa_signing.ensure_identity(tmp_path)
    folder = tmp_path / "c2pa"
    for name in ("ca.key", "ca.pem", "signer.key", "signer.pem"):
        assert os.stat(folder / name).st_mode & 0o777 == 0o600
    assert c2pa_signing.ensure_identity(tmp_path) == first
    eku = first.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert c2pa_signing.DOCUMENT_SIGNING in list(eku)
    rotated = c2pa_signing.rotate_identity(tmp_path)
    assert rotated.ca_pem == first.ca_pem
    assert rotated.certificate.serial_number != first.certificate.serial_number
    assert rotated.key_pem != first.key_pem
    assert list((folder / "retired").iterdir())
