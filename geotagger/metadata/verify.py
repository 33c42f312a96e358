"""Independent checks that a write did exactly what was intended and nothing else.

Why a separate module: the writer's own bookkeeping is not evidence. These checks re-parse the old and
new bytes from scratch (segment list, TIFF directories through the reader's parser) and compare them,
and after the file is on disk re-read it through ``read_metadata``, the same reader the indexer uses.
"""

from __future__ import annotations

import struct
from pathlib import Path

from defusedxml import ElementTree as SafeET

from geotagger.errors import MetadataError, WriteRefusedError
from geotagger.metadata.exif_layout import map_layout, orphan_gps_spans
from geotagger.metadata.read import read_metadata
from geotagger.metadata.tiff import BytesSource, parse_tiff
from geotagger.metadata.write_jpeg import EXIF_HEADER, GpsFix, exif_segments, parse_segments, read_ifd0
from geotagger.metadata.xmp_write import XMP_HEADER, XmpLocation, embedded_packet

# Written coordinates round to 1/1000 arc second; a reading further off than this is wrong.
COORD_TOLERANCE_DEG = 1e-6


def _fail(path: Path | str, what: str) -> MetadataError:
    return MetadataError(f"verification failed for {path}: {what}; the original was kept")


def _tiff_of(data: bytes, skip_xmp: bool) -> tuple[bytes | None, list[bytes]]:
    """The EXIF TIFF block and the raw bytes of every other segment (XMP left out if asked), in order."""
    segments, _sos = parse_segments(data)
    exif = exif_segments(data, segments)
    tiff = exif[0].payload(data)[len(EXIF_HEADER) :] if exif else None
    others = [
        data[s.start : s.end]
        for s in segments
        if not (exif and s is exif[0]) and not (skip_xmp and s.payload(data).startswith(XMP_HEADER))
    ]
    return tiff, others


def _check_xmp(new: bytes, location: XmpLocation, label: str | Path) -> None:
    """Every property we meant to set is in the new packet with exactly our value."""
    packet = embedded_packet(new)
    if packet is None:
        raise _fail(label, "no XMP packet after writing")
    try:
        root = SafeET.fromstring(packet.strip(b"\x00 \r\n\t"))
    except Exception as exc:  # defusedxml raises ParseError and its own DefusedXmlException subclasses
        raise _fail(label, f"the XMP packet does not parse ({type(exc).__name__})") from exc
    values = {key: value for elem in root.iter() for key, value in elem.attrib.items()}
    missing = [k for k, v in location.properties().items() if values.get(k) != v]
    if missing:
        raise _fail(label, f"XMP properties not as written: {', '.join(missing)}")


def _dms_to_deg(values: object) -> float | None:
    if not isinstance(values, tuple) or len(values) != 3:
        return None
    total = 0.0
    for (num, den), scale in zip(values, (1, 60, 3600), strict=True):
        if den == 0:
            return None
        total += num / den / scale
    return total


def gps_of_tiff(tiff: bytes) -> tuple[float | None, float | None]:
    """Latitude and longitude as the reader's TIFF parser decodes them (signed degrees)."""
    values = parse_tiff(BytesSource(tiff)).values
    lat, lon = _dms_to_deg(values.get("GPSLatitude")), _dms_to_deg(values.get("GPSLongitude"))
    if lat is not None and values.get("GPSLatitudeRef") == "S":
        lat = -lat
    if lon is not None and values.get("GPSLongitudeRef") == "W":
        lon = -lon
    return lat, lon


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= COORD_TOLERANCE_DEG


def verify_jpeg_patch(
    old: bytes,
    new: bytes,
    fix: GpsFix | None,
    label: str | Path = "JPEG",
    xmp: XmpLocation | None = None,
) -> None:
    """Raise MetadataError unless ``new`` is ``old`` plus the GPS fix (and XMP ``xmp``) and nothing else.

    Checked: scan data and everything after it byte-identical; every other segment identical and in
    the same order; the old TIFF block is a prefix of the new one except the one repointed offset; the
    effective IFD0 has the old entries plus only GPSInfo; a replaced GPS directory is zeroed and its
    coordinates are nowhere in the block; the GPS decodes to ``fix``. ``fix`` None:
    the EXIF segment must be unchanged. ``xmp`` None: the XMP segment must be unchanged.
    """
    try:
        _old_segments, old_sos = parse_segments(old)
        _new_segments, new_sos = parse_segments(new)
        old_tiff, old_others = _tiff_of(old, xmp is not None)
        new_tiff, new_others = _tiff_of(new, xmp is not None)
    except WriteRefusedError as exc:
        raise _fail(label, f"cannot re-parse ({exc})") from exc
    if old[old_sos:] != new[new_sos:]:
        raise _fail(label, "image data changed")
    if old_others != new_others:
        raise _fail(label, "a segment we did not write changed or moved")
    if xmp is not None:
        _check_xmp(new, xmp, label)
    if fix is None:
        if old_tiff != new_tiff:
            raise _fail(label, "the EXIF segment changed")
        return
    if new_tiff is None:
        raise _fail(label, "no EXIF segment after writing")
    if old_tiff is not None:
        _check_prefix(old_tiff, new_tiff, label)
    lat, lon = gps_of_tiff(new_tiff)
    if not (_close(lat, fix.lat) and _close(lon, fix.lon)):
        raise _fail(label, f"GPS reads back as {lat}, {lon} instead of {fix.lat}, {fix.lon}")


def _check_prefix(old_tiff: bytes, new_tiff: bytes, label: str | Path) -> None:
    endian, old_ifd0 = read_ifd0(old_tiff)
    allowed = set(range(4, 8))  # the IFD0 offset in the header
    zeroed: list[tuple[int, int]] = []
    if old_ifd0.gps_index is not None:
        at = old_ifd0.offset + 2 + 12 * old_ifd0.gps_index + 8
        allowed = set(range(at, at + 4))
        try:
            layout = map_layout(old_tiff, endian, old_ifd0.offset)
            zeroed = [(s.start, s.end) for s in layout.gps + orphan_gps_spans(old_tiff, layout)]
        except WriteRefusedError as exc:
            raise _fail(label, f"the old EXIF block cannot be mapped ({exc})") from exc
    if len(new_tiff) < len(old_tiff):
        raise _fail(label, "the EXIF block shrank")
    for start, end in zeroed:  # the replaced GPS directory: table and values must be gone
        if any(new_tiff[start:end]):
            raise _fail(label, f"the old GPS directory's bytes {start}-{end} were not erased")
        allowed.update(range(start, end))
    changed = (
        [i for i in range(len(old_tiff)) if old_tiff[i] != new_tiff[i]]
        if old_tiff != new_tiff[: len(old_tiff)]
        else []
    )
    if any(i not in allowed for i in changed):
        raise _fail(label, f"existing EXIF bytes changed at offset {changed[0]}")
    _check_old_position_gone(old_tiff, new_tiff, endian, label)
    _e, new_ifd0 = read_ifd0(new_tiff)
    strip = struct.Struct(endian + "H")
    old_entries = [e for i, e in enumerate(old_ifd0.entries) if i != old_ifd0.gps_index]
    new_entries = [e for i, e in enumerate(new_ifd0.entries) if i != new_ifd0.gps_index]
    if old_entries != new_entries or new_ifd0.next_ifd != old_ifd0.next_ifd:
        tags = sorted({strip.unpack_from(e)[0] for e in set(old_entries) ^ set(new_entries)})
        raise _fail(label, f"IFD0 entries differ (tags {', '.join(f'0x{t:04x}' for t in tags)})")


def _gps_rationals(tiff: bytes, endian: str) -> dict[str, bytes]:
    """The raw GPSLatitude / GPSLongitude values (3 RATIONALs each) of a block, by tag name."""
    try:
        _e, ifd0 = read_ifd0(tiff)
        layout = map_layout(tiff, endian, ifd0.offset)
    except WriteRefusedError:
        return {}
    at = layout.directories.get("GPS")
    if at is None:
        return {}
    (count,) = struct.unpack_from(endian + "H", tiff, at)
    found = {}
    for i in range(count):
        tag_id, type_id, n, value = struct.unpack_from(endian + "HHII", tiff, at + 2 + 12 * i)
        if tag_id in (2, 4) and type_id == 5 and n == 3:
            found["GPSLatitude" if tag_id == 2 else "GPSLongitude"] = tiff[value : value + 24]
    return found


def _check_old_position_gone(old_tiff: bytes, new_tiff: bytes, endian: str, label: str | Path) -> None:
    """A replaced position must not survive anywhere in the block (a byte search, not a parse)."""
    old, new = _gps_rationals(old_tiff, endian), _gps_rationals(new_tiff, endian)
    for name, raw in old.items():
        if any(raw) and raw != new.get(name) and raw in new_tiff:
            raise _fail(label, f"the old {name} is still in the file at byte {new_tiff.index(raw)}")


def verify_on_disk(path: Path, expected: bytes, fix: GpsFix | None) -> None:
    """The file holds exactly ``expected``, and the reader finds the intended EXIF GPS in it."""
    if path.read_bytes() != expected:
        raise _fail(path, "the file on disk differs from what was written")
    if fix is None:
        return
    meta = read_metadata(path)
    if meta.gps_source != "exif" or not (_close(meta.gps_lat, fix.lat) and _close(meta.gps_lon, fix.lon)):
        raise _fail(path, f"reader sees GPS {meta.gps_lat}, {meta.gps_lon} ({meta.gps_source})")


def verify_sidecar(path: Path, fix: GpsFix | None) -> None:
    """The sidecar parses, and carries the intended coordinates (when coordinates were written)."""
    from geotagger.metadata.xmp import read_sidecar

    data = read_sidecar(path)
    if data.warnings:
        raise _fail(path, "; ".join(data.warnings))
    if fix is not None and not (_close(data.lat, fix.lat) and _close(data.lon, fix.lon)):
        raise _fail(path, f"sidecar GPS reads back as {data.lat}, {data.lon}")
