"""Turn decoded EXIF values into PhotoMetadata fields, checking every value before trusting it.

Cameras write odd things: zero denominators, dates of all zeros, refs as bytes, coordinates of 0/0.
Each unusable value is skipped with a readable warning instead of raising.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from geotagger.metadata.model import PhotoMetadata

_DATE_RE = re.compile(r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?")
_OFFSET_RE = re.compile(r"^\s*([+-])(\d{1,2}):?(\d{2})\s*$")


def parse_exif_datetime(text: Any) -> datetime | None:
    """'YYYY:MM:DD HH:MM:SS' (also with - or / separators) -> naive datetime, None if unusable."""
    if not isinstance(text, str):
        return None
    m = _DATE_RE.match(text)
    if not m:
        return None
    year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
    second = int(m.group(6) or 0)
    if second == 60:  # leap second written by a few cameras
        second = 59
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def parse_offset(text: Any) -> int | None:
    """'+02:00' -> 120, '-05:30' -> -330 (minutes east of UTC); None if blank or out of range."""
    if not isinstance(text, str):
        return None
    m = _OFFSET_RE.match(text)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    if minutes > 14 * 60 or int(m.group(3)) >= 60:
        return None
    return -minutes if m.group(1) == "-" else minutes


def subsec_microseconds(text: Any) -> int | None:
    """SubSecTime '123' -> 123000 microseconds (it is a decimal fraction of a second)."""
    if isinstance(text, tuple | bytes):
        return None
    digits = re.match(r"\s*(\d+)", str(text or ""))
    if not digits:
        return None
    return int(digits.group(1)[:6].ljust(6, "0"))


def _rationals(value: Any, name: str, n: int, warnings: list[str]) -> list[float] | None:
    """A tuple of (num, den) pairs -> floats; None with a warning on wrong type or zero denominator."""
    if not isinstance(value, tuple) or len(value) < n or not all(isinstance(v, tuple) for v in value[:n]):
        warnings.append(f"{name} has the wrong type; ignored")
        return None
    out = []
    for num, den in value[:n]:
        if den == 0:
            if num == 0:
                warnings.append(f"{name} is empty (0/0); ignored")
            else:
                warnings.append(f"{name} has a zero denominator; ignored")
            return None
        out.append(num / den)
    return out


def _ref(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.split(b"\x00", 1)[0].decode("ascii", "replace")
    if isinstance(value, tuple) and value and isinstance(value[0], int):
        value = chr(value[0]) if 32 <= value[0] < 127 else str(value[0])
    return str(value or "").strip().upper()[:1]


def _coordinate(values: dict[str, Any], axis: str, warnings: list[str]) -> float | None:
    name = f"GPS{axis}"
    raw = values.get(name)
    if raw is None:
        return None
    # Degrees, minutes, seconds; a few writers store only degrees (decimal) or degrees + minutes.
    count = min(len(raw), 3) if isinstance(raw, tuple) and raw else 1
    parts = _rationals(raw, name, count, warnings)
    if parts is None:
        return None
    deg = parts[0] + (parts[1] / 60 if len(parts) > 1 else 0) + (parts[2] / 3600 if len(parts) > 2 else 0)
    ref = _ref(values.get(f"{name}Ref"))
    negative, positive = ("S", "N") if axis == "Latitude" else ("W", "E")
    if ref == negative:
        deg = -deg
    elif ref not in (positive, ""):
        warnings.append(f"{name}Ref {ref!r} is not {positive} or {negative}; taken as {positive}")
    limit = 90 if axis == "Latitude" else 180
    if not math.isfinite(deg) or abs(deg) > limit:
        warnings.append(f"{name} {deg:.6f} is out of range; ignored")
        return None
    return deg


def apply_gps(values: dict[str, Any], meta: PhotoMetadata, warnings: list[str]) -> None:
    """GPS IFD values -> meta.gps_lat/lon/alt, gps_source 'exif' (only when both coordinates are valid)."""
    if "GPSLatitude" not in values and "GPSLongitude" not in values:
        return
    lat = _coordinate(values, "Latitude", warnings)
    lon = _coordinate(values, "Longitude", warnings)
    if lat is None or lon is None:
        if (lat is None) != (lon is None):
            warnings.append("GPS position has only one usable coordinate; ignored")
        return
    if lat == 0 and lon == 0:  # what receivers without a fix write; no photo is really taken there
        warnings.append("GPS position is exactly 0, 0 (no fix); ignored")
        return
    meta.gps_lat, meta.gps_lon, meta.gps_source = lat, lon, "exif"
    alt_raw = values.get("GPSAltitude")
    if alt_raw is not None:
        alt = _rationals(alt_raw, "GPSAltitude", 1, warnings)
        if alt is not None and math.isfinite(alt[0]):
            ref = values.get("GPSAltitudeRef")
            below = (isinstance(ref, tuple) and ref[:1] == (1,)) or ref in (b"\x01", "1") or _ref(ref) == "1"
            meta.gps_alt = -alt[0] if below else alt[0]


def apply_time(values: dict[str, Any], meta: PhotoMetadata, warnings: list[str]) -> str | None:
    """DateTimeOriginal (else CreateDate, else DateTime) + its sub-seconds and offset -> meta.taken_at.

    Returns the name of the tag used (None when none was usable).
    """
    for name, subsec, offset in (
        ("DateTimeOriginal", "SubSecTimeOriginal", "OffsetTimeOriginal"),
        ("CreateDate", "SubSecTimeDigitized", "OffsetTimeDigitized"),
        ("DateTime", "SubSecTime", "OffsetTime"),
    ):
        raw = values.get(name)
        if raw is None:
            continue
        stamp = parse_exif_datetime(raw)
        if stamp is None:
            text = raw if isinstance(raw, str) else repr(raw)[:40]
            if text.strip(" :0\x00") and not text.startswith("    "):
                warnings.append(f"{name} {text!r} is not a valid date; ignored")
            continue
        micro = subsec_microseconds(values.get(subsec))
        if micro is not None:
            stamp = stamp.replace(microsecond=micro)
        meta.taken_at = stamp
        # Cameras write the three offsets alike; OffsetTime stands in when the specific one is missing.
        off = parse_offset(values.get(offset))
        meta.taken_offset_min = off if off is not None else parse_offset(values.get("OffsetTime"))
        return name
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.split(b"\x00", 1)[0].decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def apply_exif(values: dict[str, Any], meta: PhotoMetadata, warnings: list[str]) -> str | None:
    """All EXIF-derived fields (time, camera, orientation, GPS) into ``meta``; never raises on bad values.

    Returns the name of the tag the capture time came from (see apply_time).
    """
    time_tag = apply_time(values, meta, warnings)
    meta.camera_make = meta.camera_make or _text(values.get("Make"))
    meta.camera_model = meta.camera_model or _text(values.get("Model"))
    serial = values.get("BodySerialNumber") or values.get("CameraSerialNumber") or values.get("SerialNumber")
    if isinstance(serial, tuple) and serial and isinstance(serial[0], int):
        serial = str(serial[0]) if serial[0] else None  # Canon stores a number; 0 means unset
    meta.camera_serial = meta.camera_serial or _text(serial)
    orient = values.get("Orientation")
    if orient is not None:
        if isinstance(orient, tuple) and orient and isinstance(orient[0], int) and 1 <= orient[0] <= 8:
            meta.orientation = orient[0]
        else:
            warnings.append(f"Orientation {str(orient)[:20]} is not 1..8; ignored")
    apply_gps(values, meta, warnings)
    return time_tag
