"""The byte map of an EXIF TIFF block: which bytes each directory and each value occupies.

Why: the writer appends to the block and zeroes a replaced GPS directory in place. Both are safe only
when every structure a reader follows is where it claims to be and owns its bytes alone. A block whose
directories loop (an IFD pointing to itself, ExifIFD pointing to IFD0, IFD1's next pointer back to
IFD0), share or overlap bytes, run past the end or claim absurd counts is refused here, so the caller
falls back to an XMP sidecar instead of patching a file other readers already misread.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from geotagger.errors import WriteRefusedError

MAX_IFD_ENTRIES = 1000
MAX_CHAIN = 8  # IFD0, IFD1 (thumbnail) and a few more in the chain; real JPEGs have two
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
EXIF_POINTER, GPS_POINTER, INTEROP_POINTER = 0x8769, 0x8825, 0xA005
THUMB_OFFSET, THUMB_LENGTH = 0x0201, 0x0202
_POINTER_TYPES = (4, 13)  # LONG, IFD


@dataclass(frozen=True)
class Span:
    """Bytes [start, end) of the block and what owns them (for messages)."""

    start: int
    end: int
    what: str


@dataclass
class Layout:
    """Every span a reader follows, the directory offsets by name, and the GPS directory's own spans."""

    endian: str
    spans: list[Span] = field(default_factory=list)
    directories: dict[str, int] = field(default_factory=dict)
    gps: list[Span] = field(default_factory=list)


def _refuse(what: str) -> WriteRefusedError:
    return WriteRefusedError(f"EXIF structure cannot be patched safely: {what}")


class _Walker:
    def __init__(self, tiff: bytes, endian: str) -> None:
        self.tiff = tiff
        self.endian = endian
        self.layout = Layout(endian, [Span(0, 8, "TIFF header")])

    def directory(self, offset: int, name: str) -> list[tuple[int, int, int, int]]:
        """Entries (tag, type, count, value or offset) of one directory; records its spans."""
        tiff, e = self.tiff, self.endian
        if offset in self.layout.directories.values():
            other = next(k for k, v in self.layout.directories.items() if v == offset)
            raise _refuse(f"directory loop ({name} at byte {offset} is also {other})")
        if offset < 8 or offset + 2 > len(tiff):
            raise _refuse(f"{name} directory lies outside the block")
        (count,) = struct.unpack_from(e + "H", tiff, offset)
        end = offset + 2 + 12 * count + 4
        if count > MAX_IFD_ENTRIES or end > len(tiff):
            raise _refuse(f"{name} directory claims {count} entries, past the end of the block")
        self.layout.directories[name] = offset
        own = [Span(offset, end, f"{name} directory")]
        entries = []
        for i in range(count):
            tag_id, type_id, n, value = struct.unpack_from(e + "HHII", tiff, offset + 2 + 12 * i)
            size = TYPE_SIZES.get(type_id, 0) * n
            if size > 4:
                if value < 8 or value + size > len(tiff):
                    raise _refuse(f"{name} tag 0x{tag_id:04x} value lies outside the block")
                own.append(Span(value, value + size, f"{name} tag 0x{tag_id:04x} value"))
            elif type_id == 3:
                value = struct.unpack_from(e + "H", tiff, offset + 10 + 12 * i)[0]
            entries.append((tag_id, type_id, n, value))
        self.layout.spans += own
        if name == "GPS":
            self.layout.gps = own
        return entries

    def pointer(self, entries: list[tuple[int, int, int, int]], tag_id: int, name: str) -> int | None:
        found = [(ty, n, v) for t, ty, n, v in entries if t == tag_id]
        if not found:
            return None
        if len(found) > 1:
            raise _refuse(f"more than one {name} pointer")
        ty, n, v = found[0]
        if ty not in _POINTER_TYPES or n != 1:
            raise _refuse(f"{name} pointer has the wrong type")
        return v


def map_layout(tiff: bytes, endian: str, ifd0_offset: int) -> Layout:
    """Walk IFD0, its chain (IFD1 ...), the Exif, GPS and Interop directories and the thumbnail.

    Raises WriteRefusedError on loops, shared or overlapping bytes, offsets outside the block and
    absurd counts: anything where a reader's view of the block is not the one we would patch.
    """
    w = _Walker(tiff, endian)
    ifd0 = w.directory(ifd0_offset, "IFD0")
    exif_at = w.pointer(ifd0, EXIF_POINTER, "ExifIFD")
    gps_at = w.pointer(ifd0, GPS_POINTER, "GPSInfo")
    if exif_at is not None:
        exif = w.directory(exif_at, "Exif")
        interop_at = w.pointer(exif, INTEROP_POINTER, "Interop")
        if interop_at is not None:
            w.directory(interop_at, "Interop")
    if gps_at is not None:
        w.directory(gps_at, "GPS")
    table_end = ifd0_offset + 2 + 12 * len(ifd0)
    (nxt,) = struct.unpack_from(endian + "I", tiff, table_end)
    for k in range(1, MAX_CHAIN + 1):
        if not nxt:
            break
        if k == MAX_CHAIN:
            raise _refuse("the IFD chain is too long")
        name = f"IFD{k}"
        entries = w.directory(nxt, name)
        tags = {t: v for t, _ty, _n, v in entries}
        if THUMB_OFFSET in tags:
            start, length = tags[THUMB_OFFSET], tags.get(THUMB_LENGTH, 0)
            if start < 8 or start + length > len(tiff):
                raise _refuse("the thumbnail runs past the end of the block")
            w.layout.spans.append(Span(start, start + length, f"{name} thumbnail"))
        (nxt,) = struct.unpack_from(endian + "I", tiff, nxt + 2 + 12 * len(entries))
    _check_overlaps(w.layout.spans)
    return w.layout


def _check_overlaps(spans: list[Span]) -> None:
    ordered = sorted((s for s in spans if s.end > s.start), key=lambda s: (s.start, s.end))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start < a.end:
            raise _refuse(f"{a.what} (bytes {a.start}-{a.end}) overlaps {b.what} (from byte {b.start})")


MAX_GPS_TAG = 0x001F
_LAT, _LON, _RATIONAL = 0x0002, 0x0004, 5


def orphan_gps_spans(tiff: bytes, layout: Layout) -> list[Span]:
    """GPS directories no reader reaches any more, with their values: what an earlier replace left.

    Why: before replaced GPS directories were erased, ``accept --force`` + ``write`` left the old
    position in the block as unreferenced rationals. Only bytes outside every referenced span are
    searched, and only a complete GPS directory (1-32 ascending GPS tags with known types, a latitude
    or longitude of 3 RATIONALs, no next directory, values also unreferenced) counts.
    """
    e = layout.endian
    live = sorted((s.start, s.end) for s in layout.spans if s.end > s.start)
    free = bytearray(b"\x01") * len(tiff)  # 1 = unreferenced
    for start, end in live:
        free[start:end] = bytes(end - start)
    found: list[Span] = []
    pos = 8
    while pos + 6 <= len(tiff):
        spans = _gps_directory_at(tiff, e, pos, free)
        if spans is None:
            pos += 2
            continue
        found += spans
        for s in spans:
            free[s.start : s.end] = bytes(s.end - s.start)
        pos = spans[0].end + (spans[0].end % 2)
    return found


def _gps_directory_at(tiff: bytes, e: str, pos: int, free: bytearray) -> list[Span] | None:
    (count,) = struct.unpack_from(e + "H", tiff, pos)
    end = pos + 2 + 12 * count + 4
    if not 1 <= count <= 32 or end > len(tiff) or not all(free[pos:end]):
        return None
    spans = [Span(pos, end, "orphaned GPS directory")]
    last, has_position = -1, False
    for i in range(count):
        tag_id, type_id, n, value = struct.unpack_from(e + "HHII", tiff, pos + 2 + 12 * i)
        if tag_id <= last or tag_id > MAX_GPS_TAG or type_id not in TYPE_SIZES or n == 0:
            return None
        last = tag_id
        size = TYPE_SIZES[type_id] * n
        if size > 4:
            if value < 8 or value + size > len(tiff) or not all(free[value : value + size]):
                return None
            spans.append(Span(value, value + size, "orphaned GPS value"))
        has_position |= tag_id in (_LAT, _LON) and type_id == _RATIONAL and n == 3
    if not has_position or struct.unpack_from(e + "I", tiff, end - 4)[0] != 0:
        return None
    return spans
