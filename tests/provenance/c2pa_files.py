"""Real Content Credentials for the tests: a test CA, files signed with c2pa-python,
IPTC fields written by exiftool and by Pillow, and a tampered copy."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import c2pa
from cryptography.hazmat.primitives import serialization

from registry.core import c2pa_signing
from tests.media import draw_photo

DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@dataclass(frozen=True)
class TestCA:
    ca_pem: str
    chain_pem: bytes
    key_pem: bytes


def make_test_ca(name: str = "Steppe Camera Test CA") -> TestCA:
    ca, ca_key = c2pa_signing.make_ca(name)
    cert, key = c2pa_signing.issue_signer(ca, ca_key, "Steppe Camera 3000")
    pem = serialization.Encoding.PEM
    return TestCA(
        ca_pem=ca.public_bytes(pem).decode("ascii"),
        chain_pem=cert.public_bytes(pem) + ca.public_bytes(pem),
        key_pem=key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
    )


def sign_file(source: Path, out: Path, mime: str, ca: TestCA, *, source_type: str,
              generator: str = "Steppe Camera", version: str = "3.1") -> Path:
    """Sign ``source`` with a C2PA manifest whose c2pa.created action states ``source_type``."""
    manifest = {
        "claim_generator_info": [{"name": generator, "version": version}],
        "title": source.name, "format": mime,
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [
            {"action": "c2pa.created", "digitalSourceType": DST + source_type}]}}],
    }
    context = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False,
                                                 "ocsp_fetch": False}})
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, ca.chain_pem, ca.key_pem, None))
    with c2pa.Builder.from_json(manifest, context) as builder:
        data = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(source.read_bytes()), data)
    out.write_bytes(data.getvalue())
    return out


def tamper(source: Path, out: Path) -> Path:
    """Change pixels after signing: the manifest's hash of the content no longer matches."""
    data = bytearray(source.read_bytes())
    for offset in range(len(data) - 400, len(data) - 300):
        data[offset] ^= 0x5A
    out.write_bytes(bytes(data))
    return out


def picture(folder: Path, name: str, seed: int) -> Path:
    draw_photo(seed).save(folder / name, quality=92)
    return folder / name


def exiftool(path: Path, *assignments: str) -> Path:
    subprocess.run(["exiftool", "-q", "-overwrite_original", *assignments, str(path)],
                   check=True, capture_output=True, timeout=60)
    return path


def pillow_xmp(source: Path, out: Path, fields: str) -> Path:
    """Re-save with an XMP packet written by Pillow (the 2025 AI fields, PLUS Data Mining)."""
    from PIL import Image

    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/">'
        f'{fields}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    with Image.open(source) as image:
        image.save(out, "JPEG", quality=92, xmp=packet.encode("utf-8"))
    return out


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=60)


def media_file(folder: Path, name: str) -> Path:
    """A small file of the format ``name``'s extension says: pictures drawn by the tests
    (JPEG, PNG, WebP, lossless WebP, TIFF, HEIC, AVIF), sound and video made by ffmpeg."""
    from PIL import Image

    path = folder / name
    ext = name.rsplit(".", 1)[-1]
    if ext in ("jpg", "png", "webp", "tif", "heic", "avif"):
        if ext == "heic":
            import pillow_heif

            pillow_heif.register_heif_opener()
        image = Image.open(picture(folder, f"src-{name}.jpg", 41)).convert("RGB")
        fmt = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "tif": "TIFF", "heic": "HEIF",
               "avif": "AVIF"}[ext]
        image.save(path, fmt, **({"lossless": True} if "lossless" in name else {}))
    elif ext in ("mp4", "mov"):
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=1", "-f", "lavfi",
               "-i", "sine=frequency=440:duration=1", "-pix_fmt", "yuv420p", "-shortest",
               str(path))
    else:
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=2",
               "-metadata", "title=Dombra at dawn", str(path))
    return path
