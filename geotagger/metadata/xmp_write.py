"""XMP sidecars: create or merge GPS and place names without losing anyone else's data.

Why merge with an XML tree rather than rewrite: digiKam, darktable and Lightroom keep edits, ratings and
history in the same sidecar. Only the properties listed in MANAGED are removed and re-set; every other
element, attribute, namespace and comment stays. The file is parsed with defusedxml (sidecars come from
anywhere). Naming follows digiKam/darktable: ``name.ext.xmp`` by default, ``name.xmp`` on request.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree as SafeET

from geotagger.errors import MetadataError, UserInputError, WriteRefusedError
from geotagger.metadata.tags import XMP_NS
from geotagger.metadata.write_jpeg import GpsFix, app1, check_mpf, exif_segments, parse_segments
from geotagger.textsafe import xml_text

SIDECAR_POLICIES = ("ext.xmp", "xmp")
# Where accepted place names go: the sidecar, the JPEG's own XMP packet, or nowhere.
PLACE_NAME_MODES = ("sidecar", "embedded", "none")
NS = {**XMP_NS, "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"}
_RDF = f"{{{NS['rdf']}}}"
XPACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
XPACKET_END = '\n<?xpacket end="w"?>\n'
_XMLNS_RE = re.compile(rb'xmlns:([A-Za-z_][\w.-]*)\s*=\s*["\']([^"\']+)["\']')


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


GPS_PROPS = tuple(
    _q(f"exif:{p}")
    for p in (
        "GPSVersionID",
        "GPSLatitude",
        "GPSLongitude",
        "GPSAltitudeRef",
        "GPSAltitude",
        "GPSMapDatum",
        "GPSHPositioningError",
    )
)
PLACE_PROPS = tuple(
    _q(n) for n in ("photoshop:City", "photoshop:State", "photoshop:Country", "Iptc4xmpCore:CountryCode")
)
MANAGED = frozenset(GPS_PROPS + PLACE_PROPS)


@dataclass(frozen=True)
class XmpLocation:
    """What goes into XMP: coordinates (None at country level) and the place names that are known."""

    fix: GpsFix | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    country_code: str | None = None

    def properties(self) -> dict[str, str]:
        """Clark-notation property -> XMP text value."""
        props: dict[str, str] = {}
        if self.fix is not None:
            fix = self.fix
            props[_q("exif:GPSVersionID")] = "2.3.0.0"
            props[_q("exif:GPSLatitude")] = xmp_coordinate(fix.lat, "NS")
            props[_q("exif:GPSLongitude")] = xmp_coordinate(fix.lon, "EW")
            if fix.alt is not None:
                props[_q("exif:GPSAltitudeRef")] = "0" if fix.alt >= 0 else "1"
                props[_q("exif:GPSAltitude")] = f"{round(abs(fix.alt) * 100)}/100"
            props[_q("exif:GPSMapDatum")] = "WGS-84"
            if fix.radius_m is not None:
                props[_q("exif:GPSHPositioningError")] = f"{round(fix.radius_m * 100)}/100"
        for name, value in zip(
            PLACE_PROPS, (self.city, self.state, self.country, self.country_code), strict=True
        ):
            if value:
                props[name] = xml_text(value)  # C0 controls would make the sidecar unparseable
        return props


def xmp_coordinate(value: float, hemispheres: str) -> str:
    """XMP GPSCoordinate 'DDD,MM.mmmmmmmmK' (degrees, decimal minutes, hemisphere)."""
    hemi = hemispheres[0] if value >= 0 else hemispheres[1]
    micro_minutes = round(abs(value) * 60 * 100_000_000)
    degrees, rest = divmod(micro_minutes, 60 * 100_000_000)
    return f"{degrees},{rest / 100_000_000:.8f}{hemi}"


def sidecar_path(photo: Path, policy: str = "ext.xmp") -> Path:
    """``photo.jpg.xmp`` (policy "ext.xmp", digiKam/darktable) or ``photo.xmp`` (policy "xmp")."""
    if policy not in SIDECAR_POLICIES:
        raise UserInputError(f"unknown sidecar naming {policy!r} (choose from {', '.join(SIDECAR_POLICIES)})")
    return photo.with_name(photo.name + ".xmp") if policy == "ext.xmp" else photo.with_suffix(".xmp")


def _register_prefixes(data: bytes) -> None:
    """Keep the file's own namespace prefixes on output (ElementTree would invent ns0, ns1 ...)."""
    for prefix, uri in _XMLNS_RE.findall(data):
        name = prefix.decode("ascii", "ignore")
        if re.fullmatch(r"ns\d+", name) or name in ("xml", "xmlns"):
            continue
        ET.register_namespace(name, uri.decode("utf-8", "replace"))
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)


def _empty_packet() -> ET.Element:
    root = ET.Element(_q("x:xmpmeta"))
    rdf = ET.SubElement(root, _RDF + "RDF")
    ET.SubElement(rdf, _RDF + "Description", {_RDF + "about": ""})
    return root


def _parse(data: bytes, label: str) -> ET.Element:
    start = data.find(b"<")
    text = data[start:].rstrip(b"\x00 \r\n\t") if start >= 0 else data
    builder = ET.TreeBuilder(insert_comments=True, insert_pis=True)
    parser = SafeET.DefusedXMLParser(target=builder)
    try:
        parser.feed(text)
        return parser.close()
    except Exception as exc:  # defusedxml raises ParseError and its own DefusedXmlException subclasses
        raise MetadataError(f"{label} is not valid XMP ({type(exc).__name__}); left untouched") from exc


def merge_xmp(existing: bytes | None, location: XmpLocation, label: str = "sidecar") -> bytes:
    """The sidecar bytes with ``location`` set: managed properties replaced, everything else kept."""
    _register_prefixes(existing or b"")
    root = _parse(existing, label) if existing and existing.strip(b"\x00 \r\n\t") else _empty_packet()
    rdf = root if root.tag == _RDF + "RDF" else root.find(f".//{_RDF}RDF")
    if rdf is None:
        raise MetadataError(f"{label} has no rdf:RDF element; left untouched")
    descriptions = rdf.findall(_RDF + "Description")
    if not descriptions:
        descriptions = [ET.SubElement(rdf, _RDF + "Description", {_RDF + "about": ""})]
    for desc in descriptions:
        for key in [k for k in desc.attrib if k in MANAGED]:
            del desc.attrib[key]
        for child in [c for c in desc if c.tag in MANAGED]:
            desc.remove(child)
    target = descriptions[0]
    for name, value in location.properties().items():
        target.set(name, value)
    body = ET.tostring(root, encoding="unicode")
    if existing is None or b"<?xpacket" in existing:
        return (XPACKET_BEGIN + body + XPACKET_END).encode("utf-8")
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n' if existing.lstrip().startswith(b"<?xml") else ""
    return (declaration + body + "\n").encode("utf-8")


# --- XMP embedded in a JPEG (APP1 "http://ns.adobe.com/xap/1.0/") ------------------------------------

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"


def embedded_packet(data: bytes) -> bytes | None:
    """The JPEG's main XMP packet, or None; WriteRefusedError when it cannot be edited safely."""
    segments, _sos = parse_segments(data)
    found = [s for s in segments if s.marker == 0xE1 and s.payload(data).startswith(XMP_HEADER)]
    if any(s.marker == 0xE1 and s.payload(data).startswith(EXTENDED_XMP_HEADER) for s in segments):
        raise WriteRefusedError("JPEG has extended XMP (split over several segments)")
    if len(found) > 1:
        raise WriteRefusedError("JPEG has more than one XMP segment")
    return found[0].payload(data)[len(XMP_HEADER) :] if found else None


def embed_xmp(data: bytes, location: XmpLocation, label: str = "JPEG") -> bytes:
    """The JPEG with ``location`` merged into its XMP packet (created after EXIF/JFIF if absent).

    Only the XMP segment changes size; the caller verifies that every other segment is identical.
    """
    existing = embedded_packet(data)
    packet = merge_xmp(existing, location, label=f"the XMP packet of {label}")
    segments, _sos = parse_segments(data)
    found = [s for s in segments if s.marker == 0xE1 and s.payload(data).startswith(XMP_HEADER)]
    if found:
        where, end = found[0].start, found[0].end
    else:
        exif = exif_segments(data, segments)
        leading = 0
        while leading < len(segments) and segments[leading].marker == 0xE0:
            leading += 1
        where = end = exif[0].end if exif else (segments[leading - 1].end if leading else 2)
    check_mpf(data, segments, where, "XMP")
    return data[:where] + app1(XMP_HEADER + packet) + data[end:]
