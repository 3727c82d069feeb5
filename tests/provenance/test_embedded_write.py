"""IPTC/XMP fields (and their ID3 / Vorbis twins) written into every format the credentialed
copy supports, then signed: read back by our reader, by exiftool and ffprobe (independent
readers), with the picture or sound data unchanged."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from pathlib import Path

import c2pa
import pytest
from PIL import Image

from registry.core import c2pa_signing, embedded_write
from registry.core.provenance import read_embedded
from tests.provenance.c2pa_files import exiftool, media_file
from tests.registration import register_api

FIELDS = {"digital_source_type": "trainedAlgorithmicMedia", "ai_system": "Kandinsky 3.1",
          "data_mining": "DMI-PROHIBITED-AIMLTRAINING",
          "web_statement": "https://tamga.kz/w/KZ-2026-000001"}
DST_URI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
DMI_URI = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"


def content_digest(path: Path, mime: str) -> str:
    """The decoded pixels or samples: unchanged when only metadata was written."""
    if mime.startswith("image/"):
        with Image.open(path) as image:
            return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0",
                           "-f", "md5", "-"], capture_output=True, check=True,
                          timeout=60).stdout.decode().strip()


def exiftool_json(path: Path) -> dict:
    out = subprocess.run(["exiftool", "-j", "-G1", "-a", str(path)], capture_output=True,
                         check=True, timeout=60).stdout
    return json.loads(out)[0]


def ffprobe_tags(path: Path) -> dict[str, str]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of",
                          "json", str(path)], capture_output=True, check=True, timeout=60).stdout
    return {k.lower(): v for k, v in (json.loads(out)["format"].get("tags") or {}).items()}


FORMATS = [
    ("photo.jpg", "image/jpeg"), ("photo.png", "image/png"), ("photo.webp", "image/webp"),
    ("photo-lossless.webp", "image/webp"), ("photo.tif", "image/tiff"),
    ("song.wav", "audio/wav"), ("song.mp3", "audio/mpeg"), ("song.flac", "audio/flac"),
    ("song.m4a", "audio/mp4"), ("clip.mp4", "video/mp4"), ("clip.mov", "video/quicktime"),
]


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    return c2pa_signing.ensure_identity(tmp_path_factory.mktemp("keys"))


@pytest.mark.parametrize("name,mime", FORMATS)
def test_fields_are_written_read_back_and_signed(tmp_path, identity, name, mime):
    source = media_file(tmp_path, name)
    written = tmp_path / f"written-{name}"
    written.write_bytes(embedded_write.embed(source.read_bytes(), mime, FIELDS))
    assert written.read_bytes() != source.read_bytes()
    assert content_digest(written, mime) == content_digest(source, mime)

    found = read_embedded(written, mime)
    assert (found.digital_source_type, found.ai_system, found.data_mining) == (
        "trainedAlgorithmicMedia", "Kandinsky 3.1", "DMI-PROHIBITED-AIMLTRAINING")
    seen = exiftool_json(written)
    values = {k.split(":")[-1]: v for k, v in seen.items()}
    if mime == "audio/flac":  # Vorbis comments
        assert values["Digitalsourcetype"] == DST_URI and values["Datamining"] == DMI_URI
    else:  # XMP, where each format keeps it
        assert seen["XMP-iptcExt:DigitalSourceType"] == DST_URI
        assert seen["XMP-iptcExt:AISystemUsed"] == "Kandinsky 3.1"
        assert seen["XMP-plus:DataMining"] == DMI_URI
        assert seen["XMP-xmpRights:WebStatement"] == FIELDS["web_statement"]
    assert not any("Warning" in k for k in seen), seen

    signed = c2pa_signing.sign_copy(
        written.read_bytes(), mime, identity, title=name,
        digital_source_type="trainedAlgorithmicMedia", software_agent=None,
        registration={"registration_number": "KZ-2026-000001"}, training_allowed=False,
        parent=False, generator_version="test")
    context = c2pa.Context.from_dict({
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True},
        "trust": {"trust_anchors": identity.ca_pem.decode()}})
    with c2pa.Reader(mime, io.BytesIO(signed), None, context) as reader:
        assert reader.get_validation_state() == "Trusted"
    final = tmp_path / f"signed-{name}"
    final.write_bytes(signed)
    assert read_embedded(final, mime).digital_source_type == "trainedAlgorithmicMedia"
    assert content_digest(final, mime) == content_digest(source, mime)


@pytest.mark.parametrize("name,mime", [("song.mp3", "audio/mpeg"), ("song.flac", "audio/flac")])
def test_audio_tags_carry_the_fields_and_keep_the_others(tmp_path, name, mime):
    source = media_file(tmp_path, name)
    once = embedded_write.embed(source.read_bytes(), mime, FIELDS)
    twice = tmp_path / f"twice-{name}"
    twice.write_bytes(embedded_write.embed(once, mime, {**FIELDS, "ai_system": "Suno"}))
    tags = ffprobe_tags(twice)
    assert tags["title"] == "Dombra at dawn"
    assert tags["digitalsourcetype"] == DST_URI and tags["datamining"] == DMI_URI
    assert tags["aisystemused"] == "Suno"  # replaced, not repeated
    assert read_embedded(twice, mime).ai_system == "Suno"


def test_the_files_own_xmp_is_kept_and_ours_replaces_its_ai_fields(tmp_path):
    path = exiftool(media_file(tmp_path, "photo.jpg"), "-XMP-dc:Creator=Aigerim Sadykova",
                    "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/"
                    "digitalsourcetype/digitalCapture")
    out = tmp_path / "out.jpg"
    out.write_bytes(embedded_write.embed(path.read_bytes(), "image/jpeg", FIELDS))
    seen = exiftool_json(out)
    assert seen["XMP-dc:Creator"] == "Aigerim Sadykova"
    assert seen["XMP-iptcExt:DigitalSourceType"] == DST_URI
    assert out.read_bytes().count(b"<x:xmpmeta") == 1
    assert read_embedded(out, "image/jpeg").digital_source_type == "trainedAlgorithmicMedia"


@pytest.mark.parametrize("mime", ["audio/ogg", "image/heic", "image/bmp", "video/webm"])
def test_formats_without_a_writer_are_handed_out_unchanged(mime):
    assert embedded_write.embed(b"\x00" * 64, mime, FIELDS) == b"\x00" * 64


@pytest.mark.parametrize("mime", [m for m in embedded_write.WRITABLE])
def test_truncated_or_foreign_bytes_never_raise(mime):
    for data in (b"", b"RIFF\x10\x00\x00\x00WEBPVP8 ", b"\xff\xd8\xff\xe1\xff",
                 b"ID3\x04\x00\x00\x00\x00\x00\x7f", b"fLaC\x00\x00", b"II*\x00\xff\xff\xff\x00",
                 b"\x00\x00\x00\x10ftypisom"):
        assert isinstance(embedded_write.embed(data, mime, FIELDS), bytes)


def test_credentialed_webp_download_reads_back(client, app, owner, tmp_path):
    source = media_file(tmp_path, "photo.webp")
    number = register_api(client, app, owner, source, ai_use="ai_generated",
                          ai_tools="Kandinsky 3.1", human_contribution="Selection.")
    response = client.get(f"/api/v1/works/{number}/credentialed", headers=owner.headers)
    assert response.status_code == 200 and response.mimetype == "image/webp"
    ca_pem = client.get("/api/v1/provenance/ca.pem").get_data(as_text=True)
    context = c2pa.Context.from_dict({
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True},
        "trust": {"trust_anchors": ca_pem}})
    with c2pa.Reader("image/webp", io.BytesIO(response.data), None, context) as reader:
        assert reader.get_validation_state() == "Trusted"
    copy = tmp_path / "copy.webp"
    copy.write_bytes(response.data)
    found = read_embedded(copy, "image/webp")
    assert (found.digital_source_type, found.ai_system, found.data_mining) == (
        "trainedAlgorithmicMedia", "Kandinsky 3.1", "DMI-PROHIBITED-AIMLTRAINING")
    assert content_digest(copy, "image/webp") == content_digest(source, "image/webp")


@pytest.mark.parametrize("name,mime", [("photo.heic", "image/heic"), ("photo.avif", "image/avif")])
def test_heif_copies_are_signed_without_an_xmp_packet(tmp_path, identity, name, mime):
    """No XMP writer for HEIF items yet: the copy is handed out signed, its digital source
    type and reservation in the C2PA manifest only."""
    source = media_file(tmp_path, name)
    assert embedded_write.embed(source.read_bytes(), mime, FIELDS) == source.read_bytes()
    signed = c2pa_signing.sign_copy(
        source.read_bytes(), mime, identity, title=name,
        digital_source_type="trainedAlgorithmicMedia", software_agent=None,
        registration={"registration_number": "KZ-2026-000001"}, training_allowed=False,
        parent=False, generator_version="test")
    context = c2pa.Context.from_dict({
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True},
        "trust": {"trust_anchors": identity.ca_pem.decode()}})
    with c2pa.Reader(mime, io.BytesIO(signed), None, context) as reader:
        assert reader.get_validation_state() == "Trusted"
        labels = {a["label"] for a in reader.get_active_manifest()["assertions"]}
    assert {"kz.tamga.registration", "cawg.training-mining"} <= labels
