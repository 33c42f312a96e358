"""Read GPS and capture time from XMP (sidecar files and packets embedded in JPEG/PNG/WebP/HEIF).

XML is parsed with defusedxml: sidecars come from anywhere, and entity tricks must not hang us.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from defusedxml import ElementTree as SafeET

from geotagger.metadata.exif import parse_exif_datetime, parse_offset
from geotagger.metadata.tags import XMP_NS, XMP_TIME_PROPS
from geotagger.metadata.tiff import open_regular

MAX_XMP_BYTES = 4 * 1024 * 1024
_WANTED = {
    "exif:GPSLatitude",
    "exif:GPSLongitude",
    "exif:GPSAltitude",
    "exif:GPSAltitudeRef",
    *XMP_TIME_PROPS,
}
_CLARK = {f"{{{XMP_NS[name.split(':')[0]]}}}{name.split(':')[1]}": name for name in _WANTED}
_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)
_DATE_ONLY_RE = re.compile(r"^\s*\d{4}(-\d{2}(-\d{2})?)?\s*$")
_COORD_RE = re.compile(
    r"^\s*(\d{1,3})\s*,\s*(\d{1,2}(?:\.\d*)?)(?:\s*,\s*(\d{1,2}(?:\.\d*)?))?\s*([NSEW])\s*$"
)
_DECIMAL_RE = re.compile(r"^\s*([+-]?\d{1,3}(?:\.\d*)?)\s*([NSEW])?\s*$")


@dataclass
class XmpData:
    """What an XMP packet says about position and time (None = absent or unusable)."""

    lat: float | None = None
    lon: float | None = None
    alt: float | None = None
    taken_at: datetime | None = None
    taken_offset_min: int | None = None
    warnings: list[str] = field(default_factory=list)


def parse_xmp_coordinate(text: str, axis: str) -> float | None:
    """'46,35.58N' / '46,35,34.8N' / '46.593' / '46.593N' -> signed degrees; None if unusable."""
    text = text.upper()
    m = _COORD_RE.match(text)
    if m:
        minutes, seconds = float(m.group(2)), float(m.group(3) or 0)
        if minutes >= 60 or seconds >= 60:
            return None
        deg = int(m.group(1)) + minutes / 60 + seconds / 3600
        hemi = m.group(4)
    else:
        m = _DECIMAL_RE.match(text)
        if not m:
            return None
        deg, hemi = float(m.group(1)), m.group(2)
    if hemi in ("S", "W"):
        deg = -deg
    if hemi and (hemi in "NS") != (axis == "lat"):
        return None
    limit = 90 if axis == "lat" else 180
    return deg if abs(deg) <= limit else None


def parse_xmp_date(text: str) -> tuple[datetime | None, int | None]:
    """ISO 8601 'YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm]' -> (local naive time, offset minutes)."""
    m = _ISO_RE.match(text)
    if not m:
        return parse_exif_datetime(text), None  # some tools write the EXIF spelling into XMP
    year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
    try:
        stamp = datetime(year, month, day, hour, minute, int(m.group(6) or 0))
    except ValueError:
        return None, None
    if m.group(7):
        stamp += timedelta(microseconds=int(m.group(7)[:6].ljust(6, "0")))
    tz = m.group(8)
    offset = 0 if tz == "Z" else parse_offset(tz) if tz else None
    return stamp, offset


def _rational(text: str) -> float | None:
    try:
        if "/" in text:
            num, den = text.split("/", 1)
            return float(num) / float(den) if float(den) else None
        return float(text)
    except ValueError:
        return None


def _collect(root) -> dict[str, str]:
    found: dict[str, str] = {}
    for elem in root.iter():
        for key, value in elem.attrib.items():
            name = _CLARK.get(key)
            if name and name not in found:
                found[name] = value
        name = _CLARK.get(elem.tag)
        if name and name not in found:
            text = (elem.text or "").strip()
            if not text:  # rdf:Seq / rdf:Alt wrappers: take the first li
                text = next((t.strip() for t in (li.text for li in elem.iter()) if t and t.strip()), "")
            if text:
                found[name] = text
    return found


def parse_xmp(data: bytes, label: str = "XMP") -> XmpData:
    """Parse an XMP packet; malformed XML gives an XmpData with a warning, never an exception."""
    out = XmpData()
    if len(data) > MAX_XMP_BYTES:
        out.warnings.append(f"{label}: packet larger than {MAX_XMP_BYTES} bytes; ignored")
        return out
    start = data.find(b"<")
    try:
        root = SafeET.fromstring(data[start:].rstrip(b"\x00 \r\n\t") if start >= 0 else data)
    except Exception as exc:  # defusedxml raises ParseError and its own DefusedXmlException subclasses
        out.warnings.append(f"{label}: not readable XML ({type(exc).__name__}); ignored")
        return out
    found = _collect(root)
    lat_text, lon_text = found.get("exif:GPSLatitude"), found.get("exif:GPSLongitude")
    if lat_text and lon_text:
        lat, lon = parse_xmp_coordinate(lat_text, "lat"), parse_xmp_coordinate(lon_text, "lon")
        if lat is None or lon is None:
            out.warnings.append(f"{label}: GPS position {lat_text!r}, {lon_text!r} is not usable; ignored")
        else:
            out.lat, out.lon = lat, lon
            alt = _rational(found.get("exif:GPSAltitude", ""))
            if alt is not None:
                out.alt = -alt if found.get("exif:GPSAltitudeRef", "0").strip() == "1" else alt
    for prop in XMP_TIME_PROPS:
        text = found.get(prop)
        if not text:
            continue
        stamp, offset = parse_xmp_date(text)
        if stamp is None and _DATE_ONLY_RE.match(text):
            continue  # a day without a time of day is not a capture time
        if stamp is None:
            out.warnings.append(f"{label}: {prop} {text[:40]!r} is not a usable date; ignored")
            continue
        out.taken_at, out.taken_offset_min = stamp, offset
        break
    return out


def find_sidecar(path: Path, names: frozenset[str] | None = None) -> Path | None:
    """The XMP sidecar of ``path``: name.ext.xmp first, then name.xmp (also upper-case .XMP).

    ``names`` (the folder's entries, when the caller has listed it) saves the stat calls.
    """
    if names is not None:  # any letter case: IMG_1.JPG.xmp, img_1.XMP ...
        by_lower = {name.lower(): name for name in names if name[-4:].lower() == ".xmp"}
        for wanted in (path.name.lower() + ".xmp", path.stem.lower() + ".xmp"):
            if wanted in by_lower:
                return path.with_name(by_lower[wanted])
        return None
    for name in (path.name + ".xmp", path.name + ".XMP", path.stem + ".xmp", path.stem + ".XMP"):
        if path.with_name(name).is_file():
            return path.with_name(name)
    return None


def read_sidecar(path: Path) -> XmpData:
    """Read an XMP sidecar file; an unreadable one yields a warning, not an exception."""
    try:
        with open_regular(path) as fh:
            data = fh.read(MAX_XMP_BYTES + 1)
    except OSError as exc:
        out = XmpData()
        out.warnings.append(f"sidecar {path.name}: cannot read ({exc.strerror or exc})")
        return out
    return parse_xmp(data, f"sidecar {path.name}")
