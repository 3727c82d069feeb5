"""Tamga's own Content Credentials: a local CA, a signing certificate, signed copies.

Plain Python, no Flask. The CA and the signing certificate are generated once
into ``<keys dir>/c2pa`` (files mode 0600); :func:`rotate_identity` issues a new
signing certificate (and key) under the same CA and keeps the old certificate
for the record. Signing never reaches the network (no timestamp authority).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from registry.core.provenance import IPTC_DST_PREFIX

#: id-kp-documentSigning (RFC 9336), accepted by C2PA validators beside emailProtection.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
CA_YEARS = 20
SIGNER_DAYS = 2 * 365
REGISTRATION_LABEL = "kz.tamga.registration"


@dataclass(frozen=True)
class SigningIdentity:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @property
    def chain_pem(self) -> bytes:
        return self.cert_pem + self.ca_pem

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tamga"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=not sign,
        crl_sign=not sign, encipher_only=False, decipher_only=False)


def make_ca(common_name: str, now: dt.datetime | None = None
            ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue_signer(ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, common_name: str,
                 now: dt.datetime | None = None
                 ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """An end-entity certificate C2PA accepts: digitalSignature, documentSigning EKU."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SIGNER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING,
                                              ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _dir(keys_dir: Path) -> Path:
    return keys_dir / "c2pa"


def ensure_identity(keys_dir: Path) -> SigningIdentity:
    """Load the identity, generating the CA and the signing certificate the first time."""
    folder = _dir(keys_dir)
    if not (folder / "ca.pem").exists():
        ca, ca_key = make_ca("Tamga Content Credentials CA")
        _write_private(folder / "ca.key", _key_pem(ca_key))
        _write_private(folder / "ca.pem", _pem(ca))
    if not (folder / "signer.pem").exists():
        _issue(folder)
    return SigningIdentity(ca_pem=(folder / "ca.pem").read_bytes(),
                           cert_pem=(folder / "signer.pem").read_bytes(),
                           key_pem=(folder / "signer.key").read_bytes())


def _issue(folder: Path) -> None:
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), None)
    cert, key = issue_signer(ca, ca_key, "Tamga registry")  # type: ignore[arg-type]
    _write_private(folder / "signer.key", _key_pem(key))
    _write_private(folder / "signer.pem", _pem(cert))


def rotate_identity(keys_dir: Path) -> SigningIdentity:
    """A new signing key and certificate under the same CA; the old certificate is kept."""
    folder = _dir(keys_dir)
    ensure_identity(keys_dir)
    old = x509.load_pem_x509_certificate((folder / "signer.pem").read_bytes())
    retired = folder / "retired"
    retired.mkdir(mode=0o700, exist_ok=True)
    _write_private(retired / f"signer-{old.serial_number:x}.pem", _pem(old))
    (folder / "signer.key").unlink()
    _issue(folder)
    return ensure_identity(keys_dir)


def ca_certificates_pem(keys_dir: Path) -> bytes:
    return ensure_identity(keys_dir).ca_pem


# Writing ----------------------------------------------------------------------------

@functools.cache
def _signable() -> frozenset[str]:
    import c2pa

    return frozenset(c2pa.Builder.get_supported_mime_types())


def can_sign(mime: str) -> bool:
    """Whether a C2PA manifest can be embedded in a file of this media type (OGG, Opus,
    BMP, WebM, Matroska, AAC cannot carry one)."""
    return mime.split(";")[0].strip() in _signable()


def sign_copy(data: bytes, mime: str, identity: SigningIdentity, *, title: str,
              digital_source_type: str, software_agent: str | None,
              registration: dict[str, Any], training_allowed: bool,
              parent: bool, generator_version: str) -> bytes:
    """Sign ``data`` with a manifest carrying the registration, the AI declaration and the
    training and mining reservation. ``parent``: the file already has a manifest, which
    becomes the parent ingredient."""
    import c2pa

    use = "allowed" if training_allowed else "notAllowed"
    action: dict[str, Any] = {"action": "c2pa.published" if parent else "c2pa.created",
                              "digitalSourceType": IPTC_DST_PREFIX + digital_source_type}
    if software_agent:
        action["softwareAgent"] = {"name": software_agent[:200]}
    actions = [action]
    if parent:
        actions.insert(0, {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}})
    manifest = {
        "claim_generator_info": [{"name": "Tamga", "version": generator_version}],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": REGISTRATION_LABEL, "data": registration},
            {"label": "cawg.training-mining", "data": {"entries": {
                name: {"use": use} for name in (
                    "cawg.ai_generative_training", "cawg.ai_training", "cawg.ai_inference",
                    "cawg.data_mining")}}},
        ],
    }
    context = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False,
                                                 "ocsp_fetch": False}})
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, identity.chain_pem, identity.key_pem, None))
    with c2pa.Builder.from_json(manifest, context) as builder:
        if parent:
            builder.add_ingredient({"title": title, "relationship": "parentOf",
                                    "label": "parent"}, mime, io.BytesIO(data))
        out = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()
