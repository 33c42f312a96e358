"""Strip locations from TIFF blocks and JPEG streams IN PLACE, keeping every byte offset valid.

Why in place: JPEG thumbnails live inside the EXIF block, MPF second images are addressed by offsets
from the MPF header, MakerNotes hold offsets from the TIFF header, HEIF items by file offsets. Nothing
moves: a GPS directory is zeroed and its pointer entry removed (later entries move up inside the same
table), XMP properties are overwritten with spaces, an IPTC block that gets shorter is followed by a
COM segment (JPEG) or gets a smaller count (TIFF). Old GPS directories that nothing points to any more
(left by an earlier in-place write) are found by their signature and zeroed too.
"""

from __future__ import annotations

import contextlib
import re
import struct

from geotagger.errors import MetadataError
from geotagger.export.strip.iptc import PHOTOSHOP_HEADER, strip_iptc, strip_photoshop
from geotagger.export.strip.xmp_text import blank_xmp_in_place

GPS_POINTER, EXIF_POINTER, INTEROP_POINTER, SUB_IFDS = 0x8825, 0x8769, 0xA005, 0x014A
THUMB_OFFSET, THUMB_LENGTH = 0x0201, 0x0202
XMP_TAG, IPTC_TAG, PHOTOSHOP_TAG = 700, 33723, 34377
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXT_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
MAX_DEPTH = 4
MAX_IFDS = 256
# A GPS IFD's entry table: a small count, then an entry whose tag is a GPS tag (0..31) with a valid type.
_GPS_TABLE = {
    "<": re.compile(rb"(?=[\x02-\x28]\x00[\x00-\x1f]\x00[\x01-\x0c]\x00)", re.DOTALL),
    ">": re.compile(rb"(?=\x00[\x02-\x28]\x00[\x00-\x1f]\x00[\x01-\x0c])", re.DOTALL),
}


def _order(buf: bytearray, start: int) -> str:
    head = bytes(buf[start : start + 4])
    if head == b"II*\x00":
        return "<"
    if head == b"MM\x00*":
        return ">"
    raise MetadataError("not a TIFF/EXIF block")


def zero_ifd(buf: bytearray, start: int, end: int, offset: int, order: str) -> None:
    """Zero a directory's entry table and the values it points to (within [start, end))."""
    if offset + 2 > end:
        return
    (count,) = struct.unpack_from(order + "H", buf, offset)
    table_end = offset + 2 + count * 12 + 4
    if table_end > end:
        raise MetadataError("GPS directory runs past the EXIF block")
    for i in range(count):
        _tag, kind, n, value = struct.unpack_from(order + "HHII", buf, offset + 2 + 12 * i)
        size = TYPE_SIZES.get(kind, 1) * n
        if size > 4 and start + value + size <= end:
            buf[start + value : start + value + size] = bytes(size)
    buf[offset:table_end] = bytes(table_end - offset)


def _is_gps_table(buf: bytearray, at: int, end: int, order: str, *, need_coordinate: bool = True) -> bool:
    """Whether the bytes at ``at`` are a GPS directory: distinct GPS tag numbers only (0..31)."""
    if at + 2 > end:
        return False
    (count,) = struct.unpack_from(order + "H", buf, at)
    if at + 2 + count * 12 + 4 > end:
        return False
    tags: set[int] = set()
    coordinate = False
    for i in range(count):
        tag, kind, n, _value = struct.unpack_from(order + "HHII", buf, at + 2 + 12 * i)
        if tag > 31 or tag in tags or kind not in TYPE_SIZES or n == 0 or n > 0xFFFF:
            return False
        tags.add(tag)
        coordinate = coordinate or (tag in (2, 4, 20, 22) and kind in (5, 10) and n == 3)
    return coordinate or not need_coordinate


def _gaps(start: int, end: int, data: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [start, end) outside the image data ranges (pixels are never searched)."""
    gaps, pos = [], start
    for lo, hi in sorted(data):
        if lo > pos:
            gaps.append((pos, min(lo, end)))
        pos = max(pos, hi)
    if pos < end:
        gaps.append((pos, end))
    return [(lo, hi) for lo, hi in gaps if lo < hi]


def zero_orphan_gps(
    buf: bytearray, start: int, end: int, order: str, image_data: list[tuple[int, int]] = ()
) -> bool:
    """Zero every GPS-directory-shaped table in the block outside its image data (strips, tiles,
    thumbnail), referenced or not; True if any."""
    found = False
    view = bytes(buf)
    for lo, hi in _gaps(start, end, list(image_data)):
        for match in _GPS_TABLE[order].finditer(view, lo, hi):
            at = match.start()
            if any(buf[at : at + 2]) and _is_gps_table(buf, at, end, order):
                zero_ifd(buf, start, end, at, order)
                found = True
    return found


def _image_data(buf: bytearray, start: int, order: str, entries: dict[int, tuple[int, int, int, int]]):
    """(start, end) of the pixel data a directory points to: strips, tiles, a JPEG thumbnail."""
    ranges = []
    for offsets_tag, counts_tag in ((0x0111, 0x0117), (0x0144, 0x0145), (THUMB_OFFSET, THUMB_LENGTH)):
        if offsets_tag not in entries or counts_tag not in entries:
            continue
        offsets, counts = (_array(buf, start, order, *entries[t]) for t in (offsets_tag, counts_tag))
        ranges += [(start + o, start + o + n) for o, n in zip(offsets, counts, strict=False)]
    return ranges


def _array(buf: bytearray, start: int, order: str, at: int, kind: int, n: int, value: int) -> list[int]:
    code = {3: "H", 4: "I", 16: "Q"}.get(kind)
    if code is None or n > 1_000_000:
        return []
    size = struct.calcsize(code) * n
    where = at + 8 if size <= 4 else start + value
    if where + size > len(buf):
        return []
    return list(struct.unpack_from(f"{order}{n}{code}", buf, where))


def _shrink_entry(buf: bytearray, at: int, kind: int, old: bytes, new: bytes, order: str, where: int) -> None:
    """Write ``new`` over ``old`` (shorter), zero the rest, and count only what is left."""
    buf[where : where + len(old)] = new + bytes(len(old) - len(new))
    unit = TYPE_SIZES.get(kind, 1)
    struct.pack_into(order + "I", buf, at + 4, -(-len(new) // unit))


def strip_tiff_block(buf: bytearray, start: int, end: int | None = None, depth: int = 0) -> bool:
    """Remove every location from the TIFF structure at ``buf[start:end]``; True if any was there."""
    end = len(buf) if end is None else end
    order = _order(buf, start)
    u16 = lambda at: struct.unpack_from(order + "H", buf, at)[0]  # noqa: E731
    u32 = lambda at: struct.unpack_from(order + "I", buf, at)[0]  # noqa: E731
    found = False
    queue, seen = [(u32(start + 4), True)], set()
    image_data: list[tuple[int, int]] = []
    while queue and len(seen) < MAX_IFDS:
        offset, chain = queue.pop()
        at_ifd = start + offset
        if offset == 0 or offset in seen or at_ifd + 2 > end:
            continue
        seen.add(offset)
        count = u16(at_ifd)
        table = at_ifd + 2
        if table + 12 * count + 4 > end:
            raise MetadataError("an EXIF directory runs past its block")
        next_ifd = u32(table + 12 * count)
        gps_entry = thumb_offset = thumb_length = None
        pixel_tags: dict[int, tuple[int, int, int, int]] = {}
        for i in range(count):
            at = table + 12 * i
            tag, kind, n, value = struct.unpack_from(order + "HHII", buf, at)
            if tag in (0x0111, 0x0117, 0x0144, 0x0145, THUMB_OFFSET, THUMB_LENGTH):
                pixel_tags[tag] = (at, kind, n, value)
            size = TYPE_SIZES.get(kind, 1) * n
            data_at = at + 8 if size <= 4 else start + value
            inside = data_at + size <= end
            if tag == GPS_POINTER:
                gps_entry = (at, value)
            elif tag in (EXIF_POINTER, INTEROP_POINTER):
                queue.append((value, False))
            elif tag == SUB_IFDS and kind in (4, 13) and inside:
                queue.extend((u32(data_at + 4 * k), False) for k in range(min(n, 64)))
            elif tag == THUMB_OFFSET:
                thumb_offset = value
            elif tag == THUMB_LENGTH:
                thumb_length = value
            elif tag == XMP_TAG and inside:
                found = blank_xmp_in_place(buf, data_at, data_at + size) or found
            elif tag in (IPTC_TAG, PHOTOSHOP_TAG) and inside:
                old = bytes(buf[data_at : data_at + size])
                new = strip_iptc(old) if tag == IPTC_TAG else strip_photoshop(old)
                if new != old.rstrip(b"\x00") and new != old:
                    _shrink_entry(buf, at, kind, old, new, order, data_at)
                    found = True
        image_data += _image_data(buf, start, order, pixel_tags)
        if thumb_offset and thumb_length and start + thumb_offset < end and depth < MAX_DEPTH:
            thumb_end = min(end, start + thumb_offset + thumb_length)
            if buf[start + thumb_offset : start + thumb_offset + 2] == b"\xff\xd8":
                found = strip_jpeg_in_place(buf, start + thumb_offset, thumb_end, depth + 1) or found
        if gps_entry is not None:
            at, value = gps_entry
            # A pointer that leads to another directory (seen in the wild: an empty GPSInfo entry
            # holding the Exif IFD's offset) is dropped without zeroing what it points at.
            if _is_gps_table(buf, start + value, end, order, need_coordinate=False):
                zero_ifd(buf, start, end, start + value, order)
            tail_end = table + count * 12 + 4  # the entries after it and the next-IFD offset move up
            buf[at : tail_end - 12] = buf[at + 12 : tail_end]
            buf[tail_end - 12 : tail_end] = bytes(12)
            struct.pack_into(order + "H", buf, at_ifd, count - 1)
            found = True
        if chain and next_ifd:
            queue.append((next_ifd, True))
    return zero_orphan_gps(buf, start, end, order, image_data) or found


def _segments(buf: bytearray, start: int, end: int):
    """Yield (marker, segment start, segment end) up to SOS/EOI; the last yield is (0xDA, sos, end)."""
    pos = start + 2
    while pos + 4 <= end:
        if buf[pos] != 0xFF:
            raise MetadataError(f"JPEG marker expected at offset {pos}")
        marker = buf[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):
            yield marker, pos, end
            return
        (length,) = struct.unpack_from(">H", buf, pos + 2)
        if length < 2 or pos + 2 + length > end:
            raise MetadataError(f"JPEG segment at offset {pos} runs past the file")
        yield marker, pos, pos + 2 + length
        pos += 2 + length


def _replace_app13(buf: bytearray, seg: int, seg_end: int) -> bool:
    payload = bytes(buf[seg + 4 : seg_end])
    new = PHOTOSHOP_HEADER + strip_photoshop(payload[len(PHOTOSHOP_HEADER) :])
    if new == payload:
        return False
    spare = len(payload) - len(new)
    if spare < 4:
        raise MetadataError("IPTC block cannot be shortened in place")
    segment = b"\xff\xed" + struct.pack(">H", len(new) + 2) + new
    filler = b"\xff\xfe" + struct.pack(">H", spare - 2) + bytes(spare - 4)  # COM keeps later offsets
    buf[seg:seg_end] = segment + filler
    return True


def _blank_extended_xmp(buf: bytearray, chunks: list[tuple[bytes, int, int, int]]) -> bool:
    """Extended XMP is split over APP1 segments by GUID; blank the reassembled text, write it back."""
    found = False
    for guid in {c[0] for c in chunks}:
        parts = sorted((offset, at, size) for g, offset, at, size in chunks if g == guid)
        text = bytearray(b"".join(bytes(buf[at : at + size]) for _o, at, size in parts))
        if blank_xmp_in_place(text):
            pos = 0
            for _offset, at, size in parts:
                buf[at : at + size] = text[pos : pos + size]
                pos += size
            found = True
    return found


def strip_jpeg_in_place(buf: bytearray, start: int, end: int, depth: int = 0) -> bool:
    """Strip the header segments of the JPEG at ``buf[start:end]``; at depth 0 also every JPEG that
    follows the first scan (MPF second images, trailers). True if any location was there."""
    if buf[start : start + 2] != b"\xff\xd8":
        raise MetadataError("not a JPEG stream")
    found, sos, extended = False, end, []
    for marker, seg, seg_end in _segments(buf, start, end):
        body = seg + 4
        if marker == 0xDA:
            sos = seg
        elif marker == 0xE1 and buf[body : body + 6] == EXIF_HEADER and depth < MAX_DEPTH:
            found = strip_tiff_block(buf, body + 6, seg_end, depth) or found
        elif marker == 0xE1 and buf[body : body + len(XMP_HEADER)] == XMP_HEADER:
            found = blank_xmp_in_place(buf, body + len(XMP_HEADER), seg_end) or found
        elif marker == 0xE1 and buf[body : body + len(EXT_XMP_HEADER)] == EXT_XMP_HEADER:
            head = body + len(EXT_XMP_HEADER)
            if head + 40 <= seg_end:
                (offset,) = struct.unpack_from(">I", buf, head + 36)
                extended.append((bytes(buf[head : head + 32]), offset, head + 40, seg_end - head - 40))
        elif marker == 0xED and buf[body : body + len(PHOTOSHOP_HEADER)] == PHOTOSHOP_HEADER:
            found = _replace_app13(buf, seg, seg_end) or found
    found = _blank_extended_xmp(buf, extended) or found
    if depth == 0:
        tail = bytes(buf[sos:end])
        pos = tail.find(b"\xff\xd8\xff")
        while pos >= 0:
            # A false start (not an embedded image after all) is skipped: the verifying scan reads it.
            with contextlib.suppress(MetadataError):
                found = strip_jpeg_in_place(buf, sos + pos, end, 1) or found
            pos = tail.find(b"\xff\xd8\xff", pos + 3)
    return found
