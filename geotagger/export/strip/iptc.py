"""IPTC-IIM (record 2) and Photoshop image resources (APP13 "Photoshop 3.0", TIFF tag 34377).

Location datasets: 2:26 ContentLocationCode, 2:27 ContentLocationName, 2:90 City, 2:92 Sub-location,
2:95 Province-State, 2:100 Country code, 2:101 Country name. They are removed (the block gets
shorter); callers keep every outer offset valid (padding, or a shorter TIFF count).
"""

from __future__ import annotations

import struct

from geotagger.errors import MetadataError
from geotagger.export.strip.xmp_text import blank_xmp_location

LOCATION_DATASETS = frozenset({(2, 26), (2, 27), (2, 90), (2, 92), (2, 95), (2, 100), (2, 101)})
PHOTOSHOP_HEADER = b"Photoshop 3.0\x00"
IPTC_RESOURCE, XMP_RESOURCE = 0x0404, 0x0424


def strip_iptc(data: bytes) -> bytes:
    """The IPTC datasets without the location ones (trailing padding is kept out)."""
    out, pos = bytearray(), 0
    while pos + 5 <= len(data) and data[pos] == 0x1C:
        record, dataset = data[pos + 1], data[pos + 2]
        (size,) = struct.unpack_from(">H", data, pos + 3)
        head = 5
        if size & 0x8000:  # extended dataset: the next (size & 0x7fff) bytes hold the length
            width = size & 0x7FFF
            if width > 4 or pos + 5 + width > len(data):
                raise MetadataError("IPTC extended dataset length is malformed")
            size = int.from_bytes(data[pos + 5 : pos + 5 + width], "big")
            head += width
        end = pos + head + size
        if end > len(data):
            raise MetadataError("IPTC dataset runs past its block")
        if (record, dataset) not in LOCATION_DATASETS:
            out += data[pos:end]
        pos = end
    if any(data[pos:]):
        raise MetadataError("IPTC block holds data that is not a dataset")
    return bytes(out)


def strip_photoshop(data: bytes) -> bytes:
    """Photoshop image resources with IPTC location datasets removed and XMP locations blanked."""
    out, pos = bytearray(), 0
    while pos + 12 <= len(data) and data[pos : pos + 4] == b"8BIM":
        (rid,) = struct.unpack_from(">H", data, pos + 4)
        name_len = data[pos + 6]
        name_end = pos + 6 + name_len + 1 + ((name_len + 1) % 2)
        if name_end + 4 > len(data):
            raise MetadataError("Photoshop resource header is truncated")
        (size,) = struct.unpack_from(">I", data, name_end)
        body_at = name_end + 4
        end = body_at + size + (size % 2)
        if body_at + size > len(data):
            raise MetadataError("Photoshop resource runs past its block")
        body = data[body_at : body_at + size]
        if rid == IPTC_RESOURCE:
            body = strip_iptc(body)
        elif rid == XMP_RESOURCE:
            body = blank_xmp_location(body)
        out += data[pos:name_end] + struct.pack(">I", len(body)) + body + b"\x00" * (len(body) % 2)
        pos = min(end, len(data))
    if any(data[pos:]):
        raise MetadataError("Photoshop resource block holds data that is not a resource")
    return bytes(out)
