"""Writing EXIF GPS into a JPEG by segment surgery that moves no existing byte.

Why not rebuild the EXIF block (piexif.dump): rebuilding moves the MakerNote, whose internal offsets
many cameras write relative to the TIFF header, so the maker tags break (FACTS.md). Here the TIFF block
is only *appended to*: the new GPS directory goes at its end, and when IFD0 has no GPSInfo entry yet, a
copy of IFD0 with one more entry goes there too and the header points to it. Every existing offset stays
valid; the old IFD0 is left as unused bytes, a replaced GPS directory is zeroed (no old position may
survive). Blocks whose directories loop, overlap or dangle are refused (exif_layout.py). Everything outside the EXIF APP1
segment (JFIF, XMP, ICC, MPF, scan data, trailers) is copied unchanged, in its order.

Anything this module cannot patch with certainty raises WriteRefusedError; the caller writes an XMP
sidecar instead.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from geotagger.errors import UserInputError, WriteRefusedError
from geotagger.metadata.exif_layout import map_layout, orphan_gps_spans
from geotagger.metadata.tags import TYPE_IDS, tag

EXIF_HEADER = b"Exif\x00\x00"
MPF_HEADER = b"MPF\x00"
MAX_SEGMENT_PAYLOAD = 65535 - 2  # the APP1 length field counts itself
MAX_IFD_ENTRIES = 1000
GPS_POINTER_TAG = tag("GPSIFD").tag_id  # 0x8825
LONG, IFD_TYPE = TYPE_IDS["LONG"], TYPE_IDS["IFD"]

# IFD0 tags a JPEG's EXIF must carry (exiftool -validate); used only when we create the EXIF segment.
_X_RESOLUTION, _Y_RESOLUTION, _RESOLUTION_UNIT, _YCBCR_POSITIONING = 0x011A, 0x011B, 0x0128, 0x0213


@dataclass(frozen=True)
class GpsFix:
    """A position to write: degrees WGS-84, metres above sea level, horizontal uncertainty in metres."""

    lat: float
    lon: float
    alt: float | None = None
    radius_m: float | None = None

    def __post_init__(self) -> None:
        for name, value, limit in (("latitude", self.lat, 90.0), ("longitude", self.lon, 180.0)):
            if not math.isfinite(value) or abs(value) > limit:
                raise UserInputError(f"{name} {value} is outside -{limit:g}..{limit:g}")
        if self.alt is not None and (not math.isfinite(self.alt) or abs(self.alt) > 100_000):
            raise UserInputError(f"altitude {self.alt} m is not plausible")
        if self.radius_m is not None and (not math.isfinite(self.radius_m) or self.radius_m < 0):
            raise UserInputError(f"uncertainty radius {self.radius_m} m must be a positive number")


@dataclass(frozen=True)
class Segment:
    """One marker segment before the scan: bytes [start, end) of the file; payload after the length."""

    marker: int
    start: int
    end: int

    @property
    def has_length(self) -> bool:
        return self.end - self.start >= 4

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 4 : self.end] if self.has_length else b""


def parse_segments(data: bytes) -> tuple[list[Segment], int]:
    """The segments between SOI and the first SOS, and the offset of the SOS marker.

    Raises WriteRefusedError when the structure is not exactly what a JPEG must be.
    """
    if data[:2] != b"\xff\xd8":
        raise WriteRefusedError("not a JPEG file (no start-of-image marker)")
    segments: list[Segment] = []
    pos, size = 2, len(data)
    while True:
        if pos >= size or data[pos] != 0xFF:
            raise WriteRefusedError(f"JPEG structure broken at byte {pos}")
        start = pos
        while pos < size and data[pos] == 0xFF:
            pos += 1
        if pos >= size:
            raise WriteRefusedError("JPEG ends before its image data")
        marker = data[pos]
        pos += 1
        if marker == 0xDA:
            return segments, start
        if marker == 0xD9:
            raise WriteRefusedError("JPEG ends before its image data")
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            segments.append(Segment(marker, start, pos))
            continue
        if pos + 2 > size:
            raise WriteRefusedError("JPEG segment header truncated")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > size:
            raise WriteRefusedError(f"JPEG segment at byte {start} has an impossible length")
        if pos - start != 2:
            raise WriteRefusedError(f"JPEG segment at byte {start} has fill bytes before its marker")
        pos += length
        segments.append(Segment(marker, start, pos))


def exif_segments(data: bytes, segments: list[Segment]) -> list[Segment]:
    return [s for s in segments if s.marker == 0xE1 and s.payload(data).startswith(EXIF_HEADER)]


# --- TIFF encoding -------------------------------------------------------------------------------


def _rational(endian: str, num: int, den: int) -> bytes:
    return struct.pack(endian + "II", num, den)


def _dms(endian: str, value: float) -> bytes:
    """Degrees, minutes, seconds as three RATIONALs; seconds to 1/1000 s of arc (about 3 cm)."""
    total = round(abs(value) * 3_600_000)
    degrees, rest = divmod(total, 3_600_000)
    minutes, millis = divmod(rest, 60_000)
    return _rational(endian, degrees, 1) + _rational(endian, minutes, 1) + _rational(endian, millis, 1000)


def _small_rational(endian: str, value: float) -> bytes:
    """A non-negative value with two decimals, clamped to what a 32-bit numerator holds."""
    hundredths = min(round(abs(value) * 100), 0xFFFFFFFF)
    return _rational(endian, hundredths, 100)


Entry = tuple[int, int, int, bytes]  # tag id, TIFF type, count, encoded value


def _entry(name: str, count: int, raw: bytes) -> Entry:
    spec = tag(name)
    return spec.tag_id, TYPE_IDS[spec.type], count, raw


def gps_entries(fix: GpsFix, endian: str) -> list[Entry]:
    """The GPS directory for ``fix`` (EXIF 2.32 types and counts), sorted by tag id."""
    entries = [
        _entry("GPSVersionID", 4, bytes((2, 3, 0, 0))),
        _entry("GPSLatitudeRef", 2, b"N\x00" if fix.lat >= 0 else b"S\x00"),
        _entry("GPSLatitude", 3, _dms(endian, fix.lat)),
        _entry("GPSLongitudeRef", 2, b"E\x00" if fix.lon >= 0 else b"W\x00"),
        _entry("GPSLongitude", 3, _dms(endian, fix.lon)),
    ]
    if fix.alt is not None:
        entries.append(_entry("GPSAltitudeRef", 1, b"\x00" if fix.alt >= 0 else b"\x01"))
        entries.append(_entry("GPSAltitude", 1, _small_rational(endian, fix.alt)))
    entries.append(_entry("GPSMapDatum", 7, b"WGS-84\x00"))
    if fix.radius_m is not None:
        entries.append(_entry("GPSHPositioningError", 1, _small_rational(endian, fix.radius_m)))
    return sorted(entries, key=lambda e: e[0])


def encode_ifd(entries: list[Entry], offset: int, endian: str, next_ifd: int = 0) -> bytes:
    """A directory placed at ``offset`` of the TIFF block, its long values right after it."""
    table = struct.pack(endian + "H", len(entries))
    data = b""
    data_at = offset + 2 + 12 * len(entries) + 4
    for tag_id, type_id, count, raw in entries:
        if len(raw) <= 4:
            table += struct.pack(endian + "HHI", tag_id, type_id, count) + raw.ljust(4, b"\x00")
        else:
            table += struct.pack(endian + "HHII", tag_id, type_id, count, data_at + len(data))
            data += raw + (b"\x00" if len(raw) % 2 else b"")
    return table + struct.pack(endian + "I", next_ifd) + data


@dataclass(frozen=True)
class Ifd0:
    """IFD0 as found: where it is, its raw 12-byte entries, and the next-directory pointer."""

    offset: int
    entries: tuple[bytes, ...]
    next_ifd: int
    gps_index: int | None


def read_ifd0(tiff: bytes) -> tuple[str, Ifd0]:
    """Byte order and IFD0 of a TIFF block; WriteRefusedError when it cannot be trusted."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        raise WriteRefusedError("EXIF block has no valid TIFF header")
    endian = "<" if tiff[:2] == b"II" else ">"
    magic, offset = struct.unpack_from(endian + "HI", tiff, 2)
    if magic != 42:
        raise WriteRefusedError("EXIF block has a wrong TIFF magic number")
    if offset < 8 or offset + 2 > len(tiff):
        raise WriteRefusedError("EXIF IFD0 offset points outside the block")
    (count,) = struct.unpack_from(endian + "H", tiff, offset)
    if count == 0 or count > MAX_IFD_ENTRIES or offset + 2 + 12 * count + 4 > len(tiff):
        raise WriteRefusedError("EXIF IFD0 is truncated or implausible")
    entries = tuple(tiff[offset + 2 + 12 * i : offset + 14 + 12 * i] for i in range(count))
    (next_ifd,) = struct.unpack_from(endian + "I", tiff, offset + 2 + 12 * count)
    gps = [i for i, raw in enumerate(entries) if struct.unpack_from(endian + "H", raw)[0] == GPS_POINTER_TAG]
    if len(gps) > 1:
        raise WriteRefusedError("EXIF IFD0 has more than one GPSInfo pointer")
    if gps:
        _tag, type_id, n = struct.unpack_from(endian + "HHI", entries[gps[0]])
        if type_id not in (LONG, IFD_TYPE) or n != 1:
            raise WriteRefusedError("EXIF GPSInfo pointer has the wrong type")
    return endian, Ifd0(offset, entries, next_ifd, gps[0] if gps else None)


def _pad_even(block: bytearray) -> None:
    if len(block) % 2:
        block += b"\x00"


def _next_directory_size(tiff: bytes, endian: str, ifd0: Ifd0) -> int:
    """Bytes taken by the directory after IFD0 (IFD1, the thumbnail's), 0 when there is none."""
    if not ifd0.next_ifd or ifd0.next_ifd + 2 > len(tiff):
        return 0
    (count,) = struct.unpack_from(endian + "H", tiff, ifd0.next_ifd)
    return 2 + 12 * count + 4


def patch_tiff(tiff: bytes, fix: GpsFix) -> bytes:
    """The TIFF block with a new GPS directory appended; existing bytes change only in one pointer
    and, when a GPS directory is replaced, in the old directory's bytes, which are zeroed."""
    endian, ifd0 = read_ifd0(tiff)
    layout = map_layout(tiff, endian, ifd0.offset)
    out = bytearray(tiff)
    _pad_even(out)
    gps = gps_entries(fix, endian)
    if ifd0.gps_index is not None:
        gps_offset = len(out)
        out += encode_ifd(gps, gps_offset, endian)
        at = ifd0.offset + 2 + 12 * ifd0.gps_index + 8
        out[at : at + 4] = struct.pack(endian + "I", gps_offset)
        # The replaced directory would stay readable as rationals: zero its table and values (they
        # own their bytes alone, map_layout checked), and any directory an earlier replace left, so
        # no old position survives in the file.
        for span in layout.gps + orphan_gps_spans(tiff, layout):
            out[span.start : span.end] = bytes(span.end - span.start)
        return bytes(out)
    new_ifd0 = len(out)
    gps_offset = new_ifd0 + 2 + 12 * (len(ifd0.entries) + 1) + 4
    gps_entry = struct.pack(endian + "HHII", GPS_POINTER_TAG, LONG, 1, gps_offset)
    tags = [struct.unpack_from(endian + "H", raw)[0] for raw in ifd0.entries]
    insert_at = next((i for i, t in enumerate(tags) if t > GPS_POINTER_TAG), len(tags))
    entries = [*ifd0.entries[:insert_at], gps_entry, *ifd0.entries[insert_at:]]
    out += struct.pack(endian + "H", len(entries)) + b"".join(entries)
    out += struct.pack(endian + "I", ifd0.next_ifd)
    out += encode_ifd(gps, gps_offset, endian)
    # exiftool bounds the directory after IFD0 by the room after IFD0: keep at least its size there.
    shortfall = _next_directory_size(tiff, endian, ifd0) - (len(out) - new_ifd0)
    if shortfall > 0:
        out += b"\x00" * shortfall
    out[4:8] = struct.pack(endian + "I", new_ifd0)
    return bytes(out)


def new_tiff(fix: GpsFix, resolution: tuple[int, int, int] = (72, 72, 2)) -> bytes:
    """A minimal TIFF block (required JPEG IFD0 tags + GPS) for a JPEG that has no EXIF yet."""
    endian = ">"
    x_res, y_res, unit = resolution
    base = [
        (_X_RESOLUTION, TYPE_IDS["RATIONAL"], 1, _rational(endian, x_res, 1)),
        (_Y_RESOLUTION, TYPE_IDS["RATIONAL"], 1, _rational(endian, y_res, 1)),
        (_RESOLUTION_UNIT, TYPE_IDS["SHORT"], 1, struct.pack(endian + "H", unit)),
        (_YCBCR_POSITIONING, TYPE_IDS["SHORT"], 1, struct.pack(endian + "H", 1)),
    ]
    placeholder = [*base, (GPS_POINTER_TAG, LONG, 1, b"\x00" * 4)]
    gps_offset = 8 + len(encode_ifd(placeholder, 8, endian))
    gps_offset += gps_offset % 2
    ifd0 = encode_ifd([*base, (GPS_POINTER_TAG, LONG, 1, struct.pack(endian + "I", gps_offset))], 8, endian)
    head = b"MM" + struct.pack(endian + "HI", 42, 8) + ifd0
    head += b"\x00" * (gps_offset - len(head))
    return head + encode_ifd(gps_entries(fix, endian), gps_offset, endian)


def _jfif_resolution(data: bytes, segments: list[Segment]) -> tuple[int, int, int]:
    """The JFIF density as EXIF resolution (dpi or dpcm), else 72 dpi."""
    for seg in segments:
        payload = seg.payload(data)
        if seg.marker == 0xE0 and payload.startswith(b"JFIF\x00") and len(payload) >= 12:
            units, x_density, y_density = struct.unpack_from(">BHH", payload, 7)
            if units in (1, 2) and x_density and y_density:
                return x_density, y_density, 2 if units == 1 else 3
    return 72, 72, 2


def _app1(payload: bytes) -> bytes:
    if len(payload) > MAX_SEGMENT_PAYLOAD:
        raise WriteRefusedError(
            f"the EXIF segment would grow to {len(payload) + 4} bytes, over the 64 KB JPEG limit"
        )
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def add_gps(data: bytes, fix: GpsFix) -> bytes:
    """The JPEG ``data`` with ``fix`` written into its EXIF GPS directory (see the module docstring)."""
    segments, _sos = parse_segments(data)
    found = exif_segments(data, segments)
    if len(found) > 1:
        raise WriteRefusedError("JPEG has more than one EXIF segment")
    if found:
        seg = found[0]
        where, cut_end = seg.start, seg.end
        segment = _app1(EXIF_HEADER + patch_tiff(seg.payload(data)[len(EXIF_HEADER) :], fix))
    else:
        leading = 0
        while leading < len(segments) and segments[leading].marker == 0xE0:
            leading += 1
        where = cut_end = segments[leading - 1].end if leading else 2
        resolution = _jfif_resolution(data, segments)
        segment = _app1(EXIF_HEADER + new_tiff(fix, resolution))
    check_mpf(data, segments, where, "EXIF")
    return data[:where] + segment + data[cut_end:]


def check_mpf(data: bytes, segments: list[Segment], where: int, what: str) -> None:
    """Refuse to resize anything after an MPF index: its offsets to the images after EOI would break."""
    for seg in segments:
        if seg.start < where and seg.marker == 0xE2 and seg.payload(data).startswith(MPF_HEADER):
            raise WriteRefusedError(
                f"JPEG has an MPF index before its {what} segment; its offsets would break"
            )


def app1(payload: bytes) -> bytes:
    """An APP1 segment, refused above the 64 KB JPEG segment limit."""
    return _app1(payload)
