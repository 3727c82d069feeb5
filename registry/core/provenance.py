"""What a file says about where it came from: C2PA manifests, IPTC/XMP and audio tags.

Plain Python, no Flask. Everything here works offline: the C2PA reader is told
never to fetch remote manifests or OCSP answers, and trust is decided against
the PEM certificates the caller passes (the registry's shipped trust list plus
its own CA).
"""

from __future__ import annotations

import io
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

IPTC_DST_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
PLUS_DMI_PREFIX = "http://ns.useplus.org/ldf/vocab/"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_PLUS = "http://ns.useplus.org/ldf/xmp/1.0/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

#: C2PA validation outcomes as the API spells them.
TRUSTED, VALID_UNTRUSTED, INVALID, NONE = "trusted", "valid_untrusted", "invalid", "none"

#: IPTC digital source types (the last segment of the URI) and what they say about AI.
AI_GENERATED_TYPES = frozenset({"trainedAlgorithmicMedia", "algorithmicMedia"})
AI_ASSISTED_TYPES = frozenset({
    "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic", "algorithmicallyEnhanced",
    "dataDrivenMedia",
})
NO_AI_TYPES = frozenset({
    "digitalCapture", "computationalCapture", "negativeFilm", "positiveFilm", "print",
    "humanEdits", "minorHumanEdits", "digitalCreation", "digitalArt", "composite",
    "compositeCapture", "screenCapture", "virtualRecording",
})

#: How far into a file we look for an XMP packet (head and tail).
XMP_SCAN_HEAD = 16 * 1024 * 1024
XMP_SCAN_TAIL = 1024 * 1024
MAX_TEXT = 500


@dataclass
class C2paFinding:
    state: str = NONE
    claim_generator: str | None = None
    signer: str | None = None
    digital_source_type: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class EmbeddedFinding:
    """IPTC/XMP photo metadata, or the same fields in ID3 / Vorbis comments."""

    digital_source_type: str | None = None
    ai_system: str | None = None
    ai_system_version: str | None = None
    ai_prompt: str | None = None
    data_mining: str | None = None


@dataclass
class ProvenanceReport:
    c2pa: C2paFinding
    iptc: EmbeddedFinding

    @property
    def file_ai_claim(self) -> str | None:
        """What the file itself says: "ai_generated", "ai_assisted", "none", or None (silent).

        A manifest whose signature is broken still says something, but we only
        believe a valid one; the IPTC field is unsigned and taken as written.
        """
        types = []
        if self.c2pa.state in (TRUSTED, VALID_UNTRUSTED):
            types.append(self.c2pa.digital_source_type)
        types.append(self.iptc.digital_source_type)
        for term in types:
            claim = ai_claim_of(term)
            if claim is not None:
                return claim
        if self.iptc.ai_system:
            return "ai_generated"
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"c2pa": asdict(self.c2pa), "iptc": asdict(self.iptc)}


def short_term(value: str | None, prefix: str = IPTC_DST_PREFIX) -> str | None:
    """``http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture`` → ``digitalCapture``."""
    if not value:
        return None
    value = value.strip()
    if value.startswith(prefix):
        return value[len(prefix):] or None
    if "/" in value:
        return value.rstrip("/").rsplit("/", 1)[-1] or None
    return value[:MAX_TEXT]


def ai_claim_of(term: str | None) -> str | None:
    if term in AI_GENERATED_TYPES:
        return "ai_generated"
    if term in AI_ASSISTED_TYPES:
        return "ai_assisted"
    if term in NO_AI_TYPES:
        return "none"
    return None


def declaration_mismatch(declared: str, file_claim: str | None) -> bool:
    """Says "no AI" and the file says AI, or "AI-generated" and the file says a camera."""
    if file_claim is None:
        return False
    if declared == "none":
        return file_claim in ("ai_generated", "ai_assisted")
    if declared == "ai_generated":
        return file_claim == "none"
    return False


# Reading --------------------------------------------------------------------------

def inspect_file(path: Path, mime: str, trust_anchors_pem: str) -> ProvenanceReport:
    """Everything the file declares; never raises for a file it cannot understand."""
    return ProvenanceReport(c2pa=read_c2pa(path, mime, trust_anchors_pem),
                            iptc=read_embedded(path, mime))


def _reader_settings(trust_anchors_pem: str) -> dict[str, Any]:
    settings: dict[str, Any] = {"verify": {
        "verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False,
    }}
    if trust_anchors_pem.strip():
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    return settings


def read_c2pa(path: Path, mime: str, trust_anchors_pem: str) -> C2paFinding:
    import c2pa

    try:
        context = c2pa.Context.from_dict(_reader_settings(trust_anchors_pem))
        with open(path, "rb") as stream:
            reader = c2pa.Reader.try_create(mime or None, stream, None, context)
            if reader is None:
                return C2paFinding()
            with reader:
                state = reader.get_validation_state()
                results = reader.get_validation_results() or {}
                manifest = reader.get_active_manifest() or {}
    except c2pa.C2paError.NotSupported:
        return C2paFinding()
    except c2pa.C2paError as exc:  # a manifest is there but cannot be parsed: tampered
        log.info("C2PA manifest in %s unreadable: %s", path.name, exc)
        return C2paFinding(state=INVALID, problems=[type(exc).__name__])
    return _finding(state, results, manifest)


def _finding(state: str | None, results: dict[str, Any], manifest: dict[str, Any]) -> C2paFinding:
    failures = [f.get("code", "") for f in (results.get("activeManifest") or {}).get("failure", [])]
    if state == "Trusted":
        outcome = TRUSTED
    elif state == "Valid":
        outcome = VALID_UNTRUSTED
    else:
        outcome = INVALID
    signature = manifest.get("signature_info") or {}
    signer = signature.get("issuer") or signature.get("common_name")
    return C2paFinding(
        state=outcome,
        claim_generator=_claim_generator(manifest),
        signer=_text(signer),
        digital_source_type=short_term(_manifest_source_type(manifest)),
        problems=[code for code in failures if code != "signingCredential.untrusted"],
    )


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    infos = manifest.get("claim_generator_info") or []
    if infos and isinstance(infos[0], dict) and infos[0].get("name"):
        info = infos[0]
        return _text(" ".join(str(p) for p in (info["name"], info.get("version")) if p))
    return _text(manifest.get("claim_generator"))


def _manifest_source_type(manifest: dict[str, Any]) -> str | None:
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            if action.get("digitalSourceType"):
                return str(action["digitalSourceType"])
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:MAX_TEXT] or None


def read_embedded(path: Path, mime: str) -> EmbeddedFinding:
    found = _from_xmp(find_xmp_packet(path))
    if mime.startswith(("audio/", "video/")):
        _merge(found, _from_tags(_media_tags(path)))
    return found


def find_xmp_packet(path: Path) -> bytes | None:
    with open(path, "rb") as stream:
        head = stream.read(XMP_SCAN_HEAD)
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        tail = b""
        if size > XMP_SCAN_HEAD:
            stream.seek(max(size - XMP_SCAN_TAIL, XMP_SCAN_HEAD))
            tail = stream.read()
    for chunk in (head, tail):
        start = chunk.find(b"<x:xmpmeta")
        if start >= 0:
            end = chunk.find(b"</x:xmpmeta>", start)
            if end > start:
                return chunk[start:end + len(b"</x:xmpmeta>")]
    return None


def _from_xmp(packet: bytes | None) -> EmbeddedFinding:
    found = EmbeddedFinding()
    if not packet:
        return found
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return found
    wanted = {
        (NS_IPTC_EXT, "DigitalSourceType"): "digital_source_type",
        (NS_IPTC_EXT, "AISystemUsed"): "ai_system",
        (NS_IPTC_EXT, "AISystemVersionUsed"): "ai_system_version",
        (NS_IPTC_EXT, "AIPromptInformation"): "ai_prompt",
        (NS_PLUS, "DataMining"): "data_mining",
    }
    for element in root.iter():
        for name, value in element.attrib.items():
            attr = wanted.get(_split(name))
            if attr:
                _set(found, attr, value)
        attr = wanted.get(_split(element.tag))
        if attr:
            _set(found, attr, _element_text(element))
    return found


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _element_text(element: ET.Element) -> str | None:
    resource = element.attrib.get(f"{{{NS_RDF}}}resource")
    if resource:
        return resource
    if element.text and element.text.strip():
        return element.text
    for item in element.iter(f"{{{NS_RDF}}}li"):
        if item.text and item.text.strip():
            return item.text
    return None


def _set(found: EmbeddedFinding, attr: str, value: str | None) -> None:
    if not value or getattr(found, attr):
        return
    if attr == "digital_source_type":
        setattr(found, attr, short_term(value))
    elif attr == "data_mining":
        setattr(found, attr, short_term(value, PLUS_DMI_PREFIX))
    else:
        setattr(found, attr, _text(value))


_TAG_FIELDS = {
    "digitalsourcetype": "digital_source_type",
    "aisystemused": "ai_system", "aisystem": "ai_system",
    "aisystemversionused": "ai_system_version", "aisystemversion": "ai_system_version",
    "aipromptinformation": "ai_prompt", "aiprompt": "ai_prompt",
    "datamining": "data_mining",
}


def _media_tags(path: Path) -> dict[str, str]:
    """Container and stream tags (ID3 TXXX frames, Vorbis comments, MP4 atoms), read in
    process by libavformat (PyAV) from the headers: no decoding, no ffprobe to start.
    Only called for files a media engine has already accepted."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            sections = [container.metadata, *(s.metadata for s in container.streams)]
    except (av.error.FFmpegError, OSError, ValueError):
        return {}
    tags: dict[str, str] = {}
    for section in sections:
        for key, value in (section or {}).items():
            tags.setdefault(key, str(value))
    return tags


def _from_tags(tags: dict[str, str]) -> EmbeddedFinding:
    found = EmbeddedFinding()
    for key, value in tags.items():
        attr = _TAG_FIELDS.get(re.sub(r"[^a-z]", "", key.lower()))
        if attr:
            _set(found, attr, value)
    return found


def _merge(into: EmbeddedFinding, other: EmbeddedFinding) -> None:
    for name, value in asdict(other).items():
        if value and not getattr(into, name):
            setattr(into, name, value)
