"""Write the IPTC/XMP provenance fields (and their audio-tag twins) into a file's bytes.

Plain Python, no Flask, no re-encoding: the picture or sound data is left byte for
byte as it was; only metadata containers change. What is written:

* an XMP packet with ``Iptc4xmpExt:DigitalSourceType``, ``Iptc4xmpExt:AISystemUsed``,
  ``plus:DataMining`` and ``xmpRights:WebStatement``, merged into the file's own XMP
  packet when it has one (its other properties are kept), in the place each format
  keeps XMP: JPEG APP1, PNG ``iTXt``, WebP ``XMP `` chunk (with ``VP8X``), TIFF tag 700,
  WAV ``_PMX`` chunk, MP4/MOV/M4A ``uuid`` box, MP3 ID3 ``PRIV`` frame;
* the same fields as ID3 ``TXXX`` frames (MP3) and Vorbis comments (FLAC), which is
  where audio players and ``ffprobe`` look.

:func:`embed` returns the data unchanged for a format it cannot write (HEIC/AVIF,
GIF, BMP, OGG/Opus, WebM, ...) or a layout it does not handle safely (BigTIFF, an ID3
tag with unsynchronisation or an extended header, an MP4 whose last box runs to the
end of the file); :data:`WRITABLE` lists the formats.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable

from registry.core.provenance import IPTC_DST_PREFIX, NS_IPTC_EXT, NS_PLUS, NS_RDF, PLUS_DMI_PREFIX

NS_X = "adobe:ns:meta/"
NS_XMP_RIGHTS = "http://ns.adobe.com/xap/1.0/rights/"
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
MAX_JPEG_SEGMENT = 0xFFFF - 2

_PREFIXES = {
    "x": NS_X, "rdf": NS_RDF, "Iptc4xmpExt": NS_IPTC_EXT, "plus": NS_PLUS,
    "xmpRights": NS_XMP_RIGHTS, "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/", "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/", "exif": "http://ns.adobe.com/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
}
for _prefix, _uri in _PREFIXES.items():
    ET.register_namespace(_prefix, _uri)

#: (namespace, property) of each field, and the prefix its value carries.
_XMP_FIELDS = {
    "digital_source_type": (NS_IPTC_EXT, "DigitalSourceType", IPTC_DST_PREFIX),
    "ai_system": (NS_IPTC_EXT, "AISystemUsed", ""),
    "data_mining": (NS_PLUS, "DataMining", PLUS_DMI_PREFIX),
    "web_statement": (NS_XMP_RIGHTS, "WebStatement", ""),
}
#: The tag names (ID3 TXXX descriptions, Vorbis comment keys) of each field.
TAG_NAMES = {"digital_source_type": "DigitalSourceType", "ai_system": "AISystemUsed",
             "data_mining": "DataMining", "web_statement": "WebStatement"}

Fields = dict[str, "str | None"]


def field_values(fields: Fields) -> dict[str, str]:
    """The fields as written: full IPTC / PLUS URIs, empty ones left out."""
    out = {}
    for name, (_ns, _prop, prefix) in _XMP_FIELDS.items():
        value = (fields.get(name) or "").strip()
        if value:
            out[name] = value if "://" in value else prefix + value
    return out


# XMP ---------------------------------------------------------------------------------

def xmp_packet(fields: Fields, existing: bytes | None = None) -> bytes:
    """An XMP packet with the fields, merged into ``existing`` (another packet) if given."""
    values = field_values(fields)
    root = _parse(existing)
    if root is None:
        root = ET.Element(f"{{{NS_X}}}xmpmeta")
        ET.SubElement(root, f"{{{NS_RDF}}}RDF")
    rdf = root if root.tag == f"{{{NS_RDF}}}RDF" else root.find(f"{{{NS_RDF}}}RDF")
    if rdf is None:
        rdf = ET.SubElement(root, f"{{{NS_RDF}}}RDF")
    for description in rdf.findall(f"{{{NS_RDF}}}Description"):
        for ns, prop, _prefix in _XMP_FIELDS.values():
            description.attrib.pop(f"{{{ns}}}{prop}", None)
            for child in description.findall(f"{{{ns}}}{prop}"):
                description.remove(child)
    ours = ET.SubElement(rdf, f"{{{NS_RDF}}}Description", {f"{{{NS_RDF}}}about": ""})
    for name, value in values.items():
        ns, prop, _prefix = _XMP_FIELDS[name]
        ET.SubElement(ours, f"{{{ns}}}{prop}").text = value
    body = ET.tostring(root, encoding="unicode")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>' + body
            + '<?xpacket end="w"?>').encode("utf-8")


def _parse(packet: bytes | None) -> ET.Element | None:
    if not packet:
        return None
    start = packet.find(b"<x:xmpmeta")
    if start < 0:
        start = packet.find(b"<rdf:RDF")
    end = packet.rfind(b">")
    if start < 0 or end < start:
        return None
    text = packet[start:end + 1]
    tail = text.rfind(b"<?xpacket")
    if tail > 0:
        text = text[:tail]
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    return root if root.tag in (f"{{{NS_X}}}xmpmeta", f"{{{NS_RDF}}}RDF") else None


# Formats -------------------------------------------------------------------------------

def embed(data: bytes, mime: str, fields: Fields) -> bytes:
    """``data`` with the fields written, or ``data`` itself when the format is not writable."""
    writer = WRITERS.get(mime.split(";")[0].strip())
    if writer is None:
        return data
    try:
        return writer(data, fields)
    except (struct.error, IndexError, ValueError, zlib.error):
        return data  # a layout we do not understand: hand the file out as it is


def _jpeg(data: bytes, fields: Fields) -> bytes:
    if data[:2] != b"\xff\xd8":
        return data
    pos, existing, insert_at, drop = 2, None, 2, None
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA or not 0xE0 <= marker <= 0xFE:
            break
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        payload = data[pos + 4:pos + 2 + length]
        if marker == 0xE1 and payload.startswith(JPEG_XMP_HEADER) and drop is None:
            existing, drop = payload[len(JPEG_XMP_HEADER):], (pos, pos + 2 + length)
        elif marker == 0xE0 and insert_at == pos:  # keep APP0 (JFIF) first
            insert_at = pos + 2 + length
        pos += 2 + length
    packet = xmp_packet(fields, existing)
    if len(JPEG_XMP_HEADER) + len(packet) > MAX_JPEG_SEGMENT:
        packet = xmp_packet(fields)
    payload = JPEG_XMP_HEADER + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    if drop is not None:
        data = data[:drop[0]] + data[drop[1]:]
        if drop[0] < insert_at:
            insert_at -= drop[1] - drop[0]
    return data[:insert_at] + segment + data[insert_at:]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def _png(data: bytes, fields: Fields) -> bytes:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return data
    pos, chunks, existing = 8, [], None
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        end = pos + 12 + length
        if kind == b"iTXt" and body.startswith(PNG_XMP_KEYWORD + b"\x00"):
            existing = _itxt_text(body)
        else:
            chunks.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    body = PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + xmp_packet(fields, existing)
    return data[:8] + chunks[0] + _png_chunk(b"iTXt", body) + b"".join(chunks[1:]) + data[pos:]


def _itxt_text(body: bytes) -> bytes:
    rest = body[len(PNG_XMP_KEYWORD) + 1:]
    compressed = rest[0] == 1
    rest = rest[2:]
    rest = rest[rest.index(b"\x00") + 1:]  # language tag
    rest = rest[rest.index(b"\x00") + 1:]  # translated keyword
    return zlib.decompress(rest) if compressed else rest


def _riff_chunks(data: bytes, start: int) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], start
    while pos + 8 <= len(data):
        kind, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        chunks.append((kind, data[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return chunks


def _riff(form: bytes, chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(kind + struct.pack("<I", len(c)) + c + (b"\x00" if len(c) & 1 else b"")
                    for kind, c in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + form + body


def _webp(data: bytes, fields: Fields) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return data
    chunks = _riff_chunks(data, 12)
    existing = next((c for k, c in chunks if k == b"XMP "), None)
    chunks = [(k, c) for k, c in chunks if k != b"XMP "]
    first, body = chunks[0]
    if first == b"VP8X":
        header = bytes([body[0] | 0x04]) + body[1:]
        chunks[0] = (b"VP8X", header)
    else:
        width, height, alpha = _webp_size(first, body)
        flags = 0x04 | (0x10 if alpha else 0)
        header = (bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
                  + (height - 1).to_bytes(3, "little"))
        chunks.insert(0, (b"VP8X", header))
    chunks.append((b"XMP ", xmp_packet(fields, existing)))
    return _riff(b"WEBP", chunks)


def _webp_size(kind: bytes, body: bytes) -> tuple[int, int, bool]:
    if kind == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if kind == b"VP8L" and body[0] == 0x2F:
        bits = struct.unpack("<I", body[1:5])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise ValueError("unknown WebP layout")


def _tiff(data: bytes, fields: Fields) -> bytes:
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack(order + "H", data[2:4])[0] != 42:
        return data  # BigTIFF (43) is not handled
    ifd = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[ifd:ifd + 2])[0]
    entries, existing = [], None
    for i in range(count):
        raw = data[ifd + 2 + 12 * i:ifd + 14 + 12 * i]
        tag, kind, n, value = struct.unpack(order + "HHII", raw)
        if tag == 700:
            start = value if n > 4 else ifd + 2 + 12 * i + 8
            existing = (start, n)
            continue
        entries.append((tag, raw))
    next_ifd = data[ifd + 2 + 12 * count:ifd + 6 + 12 * count]
    out = bytearray(data)
    old = None
    if existing is not None:
        old = bytes(out[existing[0]:existing[0] + existing[1]])
        if existing[1] > 4:  # the old packet stays where it was, blanked
            out[existing[0]:existing[0] + existing[1]] = b" " * existing[1]
    packet = xmp_packet(fields, old)
    if len(out) & 1:
        out += b"\x00"
    packet_at = len(out)
    out += packet
    if len(out) & 1:
        out += b"\x00"
    entries.append((700, struct.pack(order + "HHII", 700, 7, len(packet), packet_at)))
    entries.sort(key=lambda e: e[0])
    new_ifd = len(out)
    out += struct.pack(order + "H", len(entries)) + b"".join(raw for _, raw in entries)
    out += next_ifd
    out[4:8] = struct.pack(order + "I", new_ifd)
    return bytes(out)


def _wav(data: bytes, fields: Fields) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    chunks = _riff_chunks(data, 12)
    existing = next((c for k, c in chunks if k == b"_PMX"), None)
    chunks = [(k, c) for k, c in chunks if k != b"_PMX"]
    chunks.append((b"_PMX", xmp_packet(fields, existing)))
    return _riff(b"WAVE", chunks)


def _bmff(data: bytes, fields: Fields) -> bytes:
    out, pos, existing = bytearray(data), 0, None
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
        elif size == 0:
            return data  # the last box runs to the end of the file: nothing may follow
        if size < header:
            return data
        if kind == b"uuid" and data[pos + header:pos + header + 16] == XMP_UUID:
            existing = data[pos + header + 16:pos + size]
            # Keep every offset: the old box becomes a blank "free" box of the same size.
            out[pos + 4:pos + 8] = b"free"
            out[pos + header:pos + size] = bytes(size - header)
        pos += size
    if pos != len(data):
        return data
    packet = xmp_packet(fields, existing)
    return bytes(out) + struct.pack(">I", 8 + 16 + len(packet)) + b"uuid" + XMP_UUID + packet


def _synchsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def _unsynchsafe(raw: bytes) -> int:
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def _mp3(data: bytes, fields: Fields) -> bytes:
    values = field_values(fields)
    frames: list[bytes] = []
    version, audio = 4, data
    existing = None
    if data[:3] == b"ID3":
        version, flags = data[3], data[5]
        if version not in (3, 4) or flags:
            return data  # ID3v2.2, unsynchronised or extended tags are left as they are
        end = 10 + _unsynchsafe(data[6:10])
        frames, existing = _id3_frames(data[10:end], version)
        audio = data[end:]
    ours = [_id3_frame(version, b"TXXX", _id3_text(version, TAG_NAMES[name], value))
            for name, value in values.items()]
    ours.append(_id3_frame(version, b"PRIV", b"XMP\x00" + xmp_packet(fields, existing)))
    body = b"".join(ours + frames)
    return b"ID3" + bytes([version, 0, 0]) + _synchsafe(len(body)) + body + audio


def _id3_frames(tag: bytes, version: int) -> tuple[list[bytes], bytes | None]:
    """The tag's frames (raw), without our TXXX and PRIV/XMP ones; and its XMP, if any."""
    ours = {n.lower() for n in TAG_NAMES.values()}
    frames, pos, existing = [], 0, None
    while pos + 10 <= len(tag) and tag[pos:pos + 4].strip(b"\x00"):
        frame_id = tag[pos:pos + 4]
        raw_size = tag[pos + 4:pos + 8]
        size = _unsynchsafe(raw_size) if version == 4 else struct.unpack(">I", raw_size)[0]
        body = tag[pos + 10:pos + 10 + size]
        pos += 10 + size
        if frame_id == b"PRIV" and body.startswith(b"XMP\x00"):
            existing = body[4:]
            continue
        if frame_id == b"TXXX" and _txxx_description(body).lower() in ours:
            continue
        frames.append(tag[pos - 10 - size:pos])
    return frames, existing


def _txxx_description(body: bytes) -> str:
    encoding, rest = body[:1], body[1:]
    if encoding in (b"\x01", b"\x02"):
        end = next((i for i in range(0, len(rest) - 1, 2) if rest[i:i + 2] == b"\x00\x00"),
                   len(rest))
        return rest[:end].decode("utf-16" if encoding == b"\x01" else "utf-16-be", "replace")
    return rest.split(b"\x00", 1)[0].decode("latin-1" if encoding == b"\x00" else "utf-8",
                                             "replace")


def _id3_text(version: int, description: str, value: str) -> bytes:
    if version == 4:
        return b"\x03" + description.encode() + b"\x00" + value.encode()
    return (b"\x01" + description.encode("utf-16") + b"\x00\x00"
            + value.encode("utf-16"))


def _id3_frame(version: int, frame_id: bytes, body: bytes) -> bytes:
    size = _synchsafe(len(body)) if version == 4 else struct.pack(">I", len(body))
    return frame_id + size + b"\x00\x00" + body


def _flac(data: bytes, fields: Fields) -> bytes:
    if data[:4] != b"fLaC":
        return data
    blocks, pos, last = [], 4, False
    while not last:
        header = data[pos]
        last, kind = bool(header & 0x80), header & 0x7F
        length = int.from_bytes(data[pos + 1:pos + 4], "big")
        blocks.append((kind, data[pos + 4:pos + 4 + length]))
        pos += 4 + length
    values = field_values(fields)
    comments = [f"{TAG_NAMES[name].upper()}={value}".encode() for name, value in values.items()]
    index = next((i for i, (kind, _b) in enumerate(blocks) if kind == 4), None)
    if index is None:
        vendor = b"Tamga"
        blocks.insert(1, (4, b""))
        index, kept = 1, list[bytes]()
    else:
        vendor, kept = _vorbis_comments(blocks[index][1])
    ours = {n.upper() for n in TAG_NAMES.values()}
    kept = [c for c in kept if c.split(b"=", 1)[0].decode("utf-8", "replace").upper() not in ours]
    everything = comments + kept
    body = (struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(everything))
            + b"".join(struct.pack("<I", len(c)) + c for c in everything))
    blocks[index] = (4, body)
    out = bytearray(b"fLaC")
    for i, (kind, block) in enumerate(blocks):
        if len(block) >= 1 << 24:
            return data
        out += bytes([kind | (0x80 if i == len(blocks) - 1 else 0)])
        out += len(block).to_bytes(3, "big") + block
    return bytes(out) + data[pos:]


def _vorbis_comments(body: bytes) -> tuple[bytes, list[bytes]]:
    vendor_length = struct.unpack("<I", body[:4])[0]
    vendor = body[4:4 + vendor_length]
    pos = 4 + vendor_length
    count = struct.unpack("<I", body[pos:pos + 4])[0]
    pos += 4
    comments = []
    for _ in range(count):
        length = struct.unpack("<I", body[pos:pos + 4])[0]
        comments.append(body[pos + 4:pos + 4 + length])
        pos += 4 + length
    return vendor, comments


WRITERS: dict[str, Callable[[bytes, Fields], bytes]] = {
    "image/jpeg": _jpeg, "image/png": _png, "image/webp": _webp, "image/tiff": _tiff,
    "audio/wav": _wav, "audio/mpeg": _mp3, "audio/flac": _flac,
    "audio/mp4": _bmff, "video/mp4": _bmff, "video/quicktime": _bmff,
}
#: The formats :func:`embed` writes (MIME types as :func:`registry.core.media.sniff` names them).
WRITABLE = tuple(WRITERS)
