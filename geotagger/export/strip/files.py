"""Per-format location stripping of a whole file held in memory (an export copy).

JPEG, TIFF, WebP and HEIF are stripped in place (same length, see inplace.py). PNG chunks carry no
offsets, so its text chunks are rewritten: "Raw profile type exif/xmp/iptc/8bim/APP1" (ImageMagick's
hex profiles, in tEXt, zTXt or iTXt) are decoded, stripped and re-encoded; XMP in iTXt (compressed or
not) or tEXt is blanked.
"""

from __future__ import annotations

import re
import struct
import zlib

from geotagger.errors import MetadataError
from geotagger.export.strip.inplace import EXIF_HEADER, strip_jpeg_in_place, strip_tiff_block
from geotagger.export.strip.iptc import PHOTOSHOP_HEADER, strip_iptc, strip_photoshop
from geotagger.export.strip.xmp_text import blank_xmp_in_place, blank_xmp_location
from geotagger.metadata.bmff import _boxes, _iinf, _iloc
from geotagger.metadata.tiff import BytesSource

MAX_TEXT = 64 * 1024 * 1024  # a decompressed PNG text chunk larger than this is refused
_TIFF_AFTER_EXIF = re.compile(rb"Exif\x00\x00(?=II\*\x00|MM\x00\*)")
_XMP_PACKET = re.compile(rb"<x:xmpmeta\b.*?</x:xmpmeta\s*>", re.DOTALL)


def strip_jpeg(data: bytes) -> tuple[bytes, bool]:
    if data[:2] != b"\xff\xd8":
        raise MetadataError("not a JPEG file")
    buf = bytearray(data)
    found = strip_jpeg_in_place(buf, 0, len(buf))  # before bytes(buf): it changes buf in place
    return bytes(buf), found


def strip_tiff(data: bytes) -> tuple[bytes, bool]:
    buf = bytearray(data)
    found = strip_tiff_block(buf, 0)
    return bytes(buf), found


def strip_webp(data: bytes) -> tuple[bytes, bool]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MetadataError("not a WebP file")
    buf, pos, found = bytearray(data), 12, False
    while pos + 8 <= len(buf):
        kind = bytes(buf[pos : pos + 4])
        (length,) = struct.unpack_from("<I", buf, pos + 4)
        body, end = pos + 8, min(len(buf), pos + 8 + length)
        if kind == b"EXIF":
            start = body + 6 if buf[body : body + 6] == EXIF_HEADER else body
            found = strip_tiff_block(buf, start, end) or found
        elif kind == b"XMP ":
            found = blank_xmp_in_place(buf, body, end) or found
        pos = body + length + (length % 2)
    return bytes(buf), found


def strip_heif(data: bytes) -> tuple[bytes, bool]:
    """HEIF/HEIC/AVIF: the Exif item is a TIFF block (GPS zeroed, pointer dropped, sizes kept); XMP
    items are blanked. A sweep over the file catches items the item table does not describe plainly."""
    buf, found = bytearray(data), False
    src = BytesSource(data)
    meta = next(((s, e) for t, s, e in _boxes(src, 0, len(data)) if t == b"meta"), None)
    if meta is None:
        raise MetadataError("HEIF has no meta box")
    infos, locations = {}, {}
    for btype, s, e in _boxes(src, meta[0] + 4, meta[1]):
        if btype == b"iinf":
            infos = _iinf(src, s, e)
        elif btype == b"iloc":
            locations = _iloc(data[s:e])
    for item_id, (itype, content_type) in infos.items():
        extents = locations.get(item_id) or []
        if not extents or any(o + n > len(buf) for o, n in extents):
            continue
        item = bytearray(b"".join(data[o : o + n] for o, n in extents))
        if itype == b"Exif" and len(item) >= 4:
            (skip,) = struct.unpack_from(">I", item, 0)
            base = 4 + skip
            if item[base : base + 2] not in (b"II", b"MM"):
                continue  # the sweep below finds it by its "Exif" header, if it has one
            changed = strip_tiff_block(item, base)
        elif itype == b"mime" and b"xml" in content_type.lower():
            changed = blank_xmp_in_place(item)
        else:
            continue
        if changed:
            pos = 0
            for offset, length in extents:
                buf[offset : offset + length] = item[pos : pos + length]
                pos += length
            found = True
    for match in _TIFF_AFTER_EXIF.finditer(bytes(buf)):
        found = strip_tiff_block(buf, match.end()) or found
    for match in _XMP_PACKET.finditer(bytes(buf)):
        found = blank_xmp_in_place(buf, match.start(), match.end()) or found
    return bytes(buf), found


def _strip_profile(payload: bytes) -> bytes:
    """One decoded ImageMagick profile (exif, xmp, iptc, 8bim, APP1) without its locations."""
    buf = bytearray(payload)
    if payload.startswith(PHOTOSHOP_HEADER):
        return PHOTOSHOP_HEADER + strip_photoshop(payload[len(PHOTOSHOP_HEADER) :])
    if payload.startswith(b"8BIM"):
        return strip_photoshop(payload)
    if payload[:1] == b"\x1c":
        return strip_iptc(payload)
    at = payload.find(EXIF_HEADER)
    if at >= 0 and payload[at + 6 : at + 8] in (b"II", b"MM"):
        strip_tiff_block(buf, at + 6)
    elif payload[:2] in (b"II", b"MM"):
        strip_tiff_block(buf, 0)
    blank_xmp_in_place(buf)
    return bytes(buf)


def _raw_profile(text: bytes) -> bytes:
    """'\\n<type>\\n<length>\\n<hex lines>' with the profile stripped, in the same layout."""
    lines = text.strip(b"\n").split(b"\n", 2)
    if len(lines) < 3:
        raise MetadataError("PNG raw profile is malformed")
    kind = lines[0].strip()
    try:
        payload = bytes.fromhex(lines[2].decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MetadataError("PNG raw profile is not valid hex") from exc
    new = _strip_profile(payload)
    if new == payload:
        return text
    hexed = new.hex()
    body = b"\n".join(hexed[i : i + 72].encode() for i in range(0, len(hexed), 72))
    return b"\n" + kind + b"\n" + f"{len(new):8d}".encode() + b"\n" + body + b"\n"


def _inflate(data: bytes) -> bytes:
    try:
        inflater = zlib.decompressobj()
        text = inflater.decompress(data, MAX_TEXT)
    except zlib.error as exc:
        raise MetadataError("PNG text chunk is corrupt") from exc
    if inflater.unconsumed_tail:
        raise MetadataError("PNG text chunk is too large to check")
    return text


def _strip_text(key: bytes, text: bytes) -> bytes:
    if key.startswith(b"Raw profile type "):
        return _raw_profile(text)
    if key == b"XML:com.adobe.xmp" or b"xmpmeta" in text or b"rdf:RDF" in text:
        return blank_xmp_location(text)
    return text


def _text_chunk(kind: bytes, body: bytes) -> bytes:
    """The chunk body with its text stripped (same chunk type and compression)."""
    key, sep, rest = body.partition(b"\x00")
    if not sep:
        return body
    if kind == b"tEXt":
        return key + b"\x00" + _strip_text(key, rest)
    if kind == b"zTXt":
        text = _inflate(rest[1:])
        new = _strip_text(key, text)
        return body if new == text else key + b"\x00\x00" + zlib.compress(new)
    if len(rest) < 2:
        return body
    flag, method, tail = rest[0], rest[1], rest[2:]
    lang, _, tail = tail.partition(b"\x00")
    translated, _, text = tail.partition(b"\x00")
    plain = _inflate(text) if flag else text
    new = _strip_text(key, plain)
    if new == plain:
        return body
    packed = zlib.compress(new) if flag else new
    return key + b"\x00" + bytes([flag, method]) + lang + b"\x00" + translated + b"\x00" + packed


def strip_png(data: bytes) -> tuple[bytes, bool]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise MetadataError("not a PNG file")
    out, pos, found = bytearray(data[:8]), 8, False
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        if pos + 12 + length > len(data):
            raise MetadataError("PNG chunk runs past the end of the file")
        old = data[pos + 8 : pos + 8 + length]
        body = old
        if kind == b"eXIf":
            buf = bytearray(old)
            if strip_tiff_block(buf, 0):
                body = bytes(buf)
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            body = _text_chunk(kind, old)
        if body == old:
            out += data[pos : pos + 12 + length]  # unchanged: copied with its own CRC
        else:
            out += struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
            found = True
        pos += 12 + length
        if kind == b"IEND":
            break
    out += data[pos:]
    return bytes(out), found
