"""Remove GPS from an exported COPY (privacy), never from a user's original.

The GPSInfo entry is removed from IFD0 (the entries after it move up; nothing points into an IFD's entry
table) and the old GPS IFD bytes are zeroed, so no reader finds the coordinates. Every other offset stays
valid, which keeps MakerNotes intact. Embedded XMP loses its exif:GPS* and place-name properties.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from geotagger.errors import MetadataError

GPS_POINTER_TAG = 0x8825
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
# XMP properties that reveal where a photo was taken.
_XMP_LOCATION = re.compile(
    rb"""\s(?:exif:GPS\w+|photoshop:(?:City|State|Country)|Iptc4xmpCore:(?:CountryCode|Location))="[^"]*"|"""
    rb"""<(exif:GPS\w+|photoshop:(?:City|State|Country)|Iptc4xmpCore:(?:CountryCode|Location))\b[^>]*?(?:/>|>.*?</\1>)""",
    re.DOTALL,
)


def strip_tiff_gps(block: bytearray, start: int = 0) -> bool:
    """Strip GPS from the TIFF structure at ``block[start:]``; True if there was GPS to remove."""
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(block[start : start + 2])]
    except KeyError as exc:
        raise MetadataError("not a TIFF/EXIF block") from exc
    (ifd0,) = struct.unpack_from(order + "I", block, start + 4)
    ifd0 += start
    if ifd0 + 2 > len(block):
        raise MetadataError("EXIF IFD0 lies outside the file")
    (count,) = struct.unpack_from(order + "H", block, ifd0)
    entries = ifd0 + 2
    if entries + count * 12 + 4 > len(block):
        raise MetadataError("EXIF IFD0 is truncated")
    for i in range(count):
        at = entries + 12 * i
        tag, _type, _n, value = struct.unpack_from(order + "HHII", block, at)
        if tag != GPS_POINTER_TAG:
            continue
        _zero_ifd(block, start, start + value, order)
        tail_end = entries + count * 12 + 4  # entries after this one plus the next-IFD offset
        block[at : tail_end - 12] = block[at + 12 : tail_end]
        block[tail_end - 12 : tail_end] = bytes(12)
        struct.pack_into(order + "H", block, ifd0, count - 1)
        return True
    return False


def _zero_ifd(block: bytearray, start: int, offset: int, order: str) -> None:
    if offset + 2 > len(block):
        return
    (count,) = struct.unpack_from(order + "H", block, offset)
    end = offset + 2 + count * 12 + 4
    if end > len(block):
        return
    for i in range(count):
        _tag, kind, n, value = struct.unpack_from(order + "HHII", block, offset + 2 + 12 * i)
        size = _TYPE_SIZES.get(kind, 1) * n
        if size > 4 and start + value + size <= len(block):
            block[start + value : start + value + size] = bytes(size)
    block[offset:end] = bytes(end - offset)


def strip_xmp_location(packet: bytes) -> bytes:
    return _XMP_LOCATION.sub(b"", packet)


def _strip_jpeg(data: bytes) -> tuple[bytes, bool]:
    if data[:2] != b"\xff\xd8":
        raise MetadataError("not a JPEG file")
    out = bytearray(data[:2])
    pos, found = 2, False
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA or marker == 0xD9:
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        segment = bytearray(data[pos : pos + 2 + length])
        if marker == 0xE1 and segment[4:10] == b"Exif\x00\x00":
            found = strip_tiff_gps(segment, 10) or found
        elif marker == 0xE1 and segment[4 : 4 + len(_XMP_HEADER)] == _XMP_HEADER:
            body = strip_xmp_location(bytes(segment[4 + len(_XMP_HEADER) :]))
            found = found or len(body) != len(segment) - 4 - len(_XMP_HEADER)
            payload = _XMP_HEADER + body
            segment = bytearray(b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload)
        out += segment
        pos += 2 + length
    out += data[pos:]
    return bytes(out), found


def _strip_png(data: bytes) -> tuple[bytes, bool]:
    out, pos, found = bytearray(data[:8]), 8, False
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        body = bytearray(data[pos + 8 : pos + 8 + length])
        if kind == b"eXIf":
            found = strip_tiff_gps(body) or found
        elif kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00"):
            stripped = strip_xmp_location(bytes(body))
            found = found or len(stripped) != len(body)
            body = bytearray(stripped)
        out += struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        pos += 12 + length
    return bytes(out), found


def _strip_webp(data: bytes) -> tuple[bytes, bool]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MetadataError("not a WebP file")
    out, pos, found = bytearray(), 12, False
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        body = bytearray(data[pos + 8 : pos + 8 + length])
        if kind == b"EXIF":
            start = 6 if body.startswith(b"Exif\x00\x00") else 0
            found = strip_tiff_gps(body, start) or found
        elif kind == b"XMP ":
            stripped = strip_xmp_location(bytes(body))
            found = found or len(stripped) != len(body)
            body = bytearray(stripped)
        out += kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")
        pos += 8 + length + (length % 2)
    return b"RIFF" + struct.pack("<I", len(out) + 4) + b"WEBP" + bytes(out), found


def _strip_tiff(data: bytes) -> tuple[bytes, bool]:
    block = bytearray(data)
    return bytes(block), strip_tiff_gps(block)


_STRIPPERS = {
    ".jpg": _strip_jpeg,
    ".jpeg": _strip_jpeg,
    ".jpe": _strip_jpeg,
    ".png": _strip_png,
    ".webp": _strip_webp,
    ".tif": _strip_tiff,
    ".tiff": _strip_tiff,
}


def can_strip(path: Path) -> bool:
    return path.suffix.lower() in _STRIPPERS


def strip_gps(path: Path) -> bool:
    """Remove GPS and place names from the file at ``path`` (an export copy). True if any was found."""
    stripper = _STRIPPERS.get(path.suffix.lower())
    if stripper is None:
        raise MetadataError(f"cannot remove GPS from {path.suffix or 'this'} files; not exported")
    try:
        data = path.read_bytes()
        new, found = stripper(data)
    except (struct.error, IndexError) as exc:
        raise MetadataError(f"{path.name}: metadata too broken to remove GPS safely") from exc
    if found:
        path.write_bytes(new)
    return found
