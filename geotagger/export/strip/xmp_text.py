"""Blank location properties in an XMP packet without changing its length.

Why same length: the packet may sit inside a TIFF block, a thumbnail or a JPEG that other offsets point
past (MPF images, HEIF items), so the bytes are overwritten with spaces in place. Which properties: any
namespace's GPS*, *Latitude, *Longitude, *Altitude, City, State, ProvinceState, Country*, Sublocation,
*Location* and WorldRegion, as attributes or (possibly structured) elements. That covers exif:GPS*,
photoshop:City, Iptc4xmpCore:Location, Iptc4xmpExt:LocationShown/LocationCreated, drone-dji:GpsLatitude
(and DJI's "GpsLongtitude") and what other tools invent.
"""

from __future__ import annotations

import re

_NAME = (
    rb"[A-Za-z_][\w.-]*:"
    rb"(?i:gps\w*|\w*latitude\w*|\w*longt?itude\w*|\w*altitude\w*|city|state|provincestate"
    rb"|country\w*|sublocation|\w*location\w*|worldregion)"
)
_ATTRIBUTE = re.compile(rb"(?<=\s)" + _NAME + rb"""\s*=\s*(?:"[^"]*"|'[^']*')""")
_ELEMENT = re.compile(rb"<(" + _NAME + rb")(?=[\s/>])[^>]*?(?:/>|>.*?</\1\s*>)", re.DOTALL)


def _spaces(match: re.Match[bytes]) -> bytes:
    return b" " * (match.end() - match.start())


def blank_xmp_location(packet: bytes) -> bytes:
    """The packet with every location property overwritten by spaces (same length)."""
    return _ATTRIBUTE.sub(_spaces, _ELEMENT.sub(_spaces, packet))


def blank_xmp_in_place(buf: bytearray, start: int = 0, end: int | None = None) -> bool:
    """Blank the location properties of every XMP packet inside ``buf[start:end]``; True if any."""
    end = len(buf) if end is None else end
    region = bytes(buf[start:end])
    if b"xmpmeta" not in region and b"rdf:RDF" not in region:
        return False
    blanked = blank_xmp_location(region)
    if blanked == region:
        return False
    buf[start:end] = blanked
    return True
