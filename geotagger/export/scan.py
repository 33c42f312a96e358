"""Find every location a file still carries: the independent check after stripping an export copy.

Why separate from ``geotagger.export.strip``: a copy is only exported when a reader that shares no code
with the stripper finds nothing left (``strip``) or only the coarse point (``city``/``region``). So this
module looks for carriers by brute force as well as by structure: every "Exif" TIFF block anywhere in
the file (thumbnails, MPF images, trailers), every GPS-directory-shaped table (referenced or orphaned),
every XMP packet (also ExtendedXMP, PNG text chunks, ImageMagick hex profiles), every IPTC dataset
block, and the original coordinate's bytes (rationals and decimal text).
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree as SafeET

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_TIFF_HEADS = (b"II*\x00", b"MM\x00*")
_IPTC_PLACES = {
    26: "LocationCode",
    27: "LocationName",
    90: "City",
    92: "Sub-location",
    95: "Province-State",
    100: "Country-PrimaryLocationCode",
    101: "Country-PrimaryLocationName",
}
_PLACE_NAME = re.compile(
    r"(?i)^(gps.*|.*latitude.*|.*longt?itude.*|.*altitude.*|city|state|provincestate|country.*"
    r"|sublocation|.*location.*|worldregion)$"
)
_COORD_NAME = re.compile(r"(?i)(latitude|longt?itude)")
_XMP_PACKETS = re.compile(rb"<x:xmpmeta\b.*?</x:xmpmeta\s*>|<rdf:RDF\b.*?</rdf:RDF\s*>", re.DOTALL)
_LOOSE_XMP_NAME = re.compile(
    rb"[\w.-]+:(?i:gps\w*|\w*latitude|\w*longt?itude|city|state|country\w*|\w*location\w*|sublocation)"
    rb"\s*=\s*[\"'][^\"'\s]|<[\w.-]+:(?i:gps\w*|\w*latitude|\w*longt?itude|city|country\w*|\w*location\w*)"
    rb"[\s>][^<\s]"
)
_DMS = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?(?:,(\d+(?:\.\d+)?))?\s*([NSEW])?\s*$")
MAX_BLOBS = 4096


@dataclass(frozen=True)
class Finding:
    """One location found: where (carrier), its text, and the coordinate when it is one."""

    carrier: str
    value: str = ""
    lat: float | None = None
    lon: float | None = None

    def __str__(self) -> str:
        return " ".join(f"{self.carrier} {self.value}".split())  # one line, whatever the file held


def _xmp_number(text: str) -> float | None:
    m = _DMS.match(text.upper())
    if not m:
        return None
    value = float(m.group(1)) + float(m.group(2) or 0) / 60 + float(m.group(3) or 0) / 3600
    return -abs(value) if m.group(4) in ("S", "W") else value


def _scan_xmp(packet: bytes, where: str, out: list[Finding]) -> None:
    text = packet.strip(b"\x00 \t\r\n")
    try:
        root = SafeET.fromstring(text)
    except (ParseError, ValueError, SafeET.ParseError):
        if _LOOSE_XMP_NAME.search(text):
            out.append(Finding(f"{where} XMP (unreadable) with location properties"))
        return
    except Exception as exc:  # defusedxml refuses entities and DTDs: treat as unreadable, not as clean
        out.append(Finding(f"{where} XMP refused by the parser ({type(exc).__name__})"))
        return
    for element in root.iter():
        pairs = [(element.tag, element.text or "")] + list(element.attrib.items())
        for name, value in pairs:
            local = str(name).rsplit("}", 1)[-1]
            if not _PLACE_NAME.match(local) or not value.strip():
                continue
            number = _xmp_number(value) if _COORD_NAME.search(local) else None
            is_lat = number is not None and "lat" in local.lower()
            out.append(
                Finding(
                    f"{where} XMP {local}",
                    value.strip()[:60],
                    number if is_lat else None,
                    number if number is not None and not is_lat else None,
                )
            )


def _scan_iptc(data: bytes, where: str, out: list[Finding]) -> None:
    pos = 0
    while pos + 5 <= len(data) and data[pos] == 0x1C:
        record, dataset, size = data[pos + 1], data[pos + 2], int.from_bytes(data[pos + 3 : pos + 5], "big")
        head = 5
        if size & 0x8000:
            width = size & 0x7FFF
            size = int.from_bytes(data[pos + 5 : pos + 5 + width], "big")
            head += width
        value = data[pos + head : pos + head + size]
        if record == 2 and dataset in _IPTC_PLACES and value.strip(b"\x00 "):
            out.append(Finding(f"{where} IPTC {_IPTC_PLACES[dataset]}", value.decode("latin-1")[:60]))
        pos += head + size


def _scan_irb(data: bytes, where: str, out: list[Finding]) -> None:
    pos = 0
    while pos + 12 <= len(data) and data[pos : pos + 4] == b"8BIM":
        rid = int.from_bytes(data[pos + 4 : pos + 6], "big")
        name_len = data[pos + 6]
        at = pos + 7 + name_len + ((name_len + 1) % 2)
        size = int.from_bytes(data[at : at + 4], "big")
        body = data[at + 4 : at + 4 + size]
        if rid == 0x0404:
            _scan_iptc(body, where, out)
        pos = at + 4 + size + (size % 2)


def _rational_degrees(data: bytes, at: int, order: str) -> float | None:
    if at < 0 or at + 24 > len(data):
        return None
    parts = struct.unpack_from(order + "6I", data, at)
    if not all(parts[1::2]):
        return None
    return parts[0] / parts[1] + parts[2] / parts[3] / 60 + parts[4] / parts[5] / 3600


def _gps_table(data: bytes, tiff: int, at: int, order: str) -> Finding | None:
    """The GPS directory at ``at`` if the bytes there are one with a coordinate (else None)."""
    if at + 2 > len(data):
        return None
    (count,) = struct.unpack_from(order + "H", data, at)
    if not 1 <= count <= 64 or at + 2 + 12 * count > len(data):
        return None
    coords: dict[int, float | None] = {}
    refs: dict[int, str] = {}
    for i in range(count):
        tag, kind, n, value = struct.unpack_from(order + "HHII", data, at + 2 + 12 * i)
        if tag > 31 or kind not in _TYPE_SIZE:
            return None
        if tag in (2, 4) and kind in (5, 10) and n == 3:
            coords[tag] = _rational_degrees(data, tiff + value, order)
        elif tag in (1, 3) and kind == 2:
            refs[tag] = chr(data[at + 2 + 12 * i + 8])
    lat, lon = coords.get(2), coords.get(4)
    if not (lat is not None and lat <= 90) and not (lon is not None and lon <= 180):
        return None  # no readable coordinate: bytes that only look like a GPS directory
    if any(ref not in "NSEW" for ref in refs.values()):
        return None
    if lat is not None and refs.get(1) == "S":
        lat = -lat
    if lon is not None and refs.get(3) == "W":
        lon = -lon
    return Finding("EXIF GPS directory", f"at byte {at}", lat, lon)


_CANDIDATE = {
    "<": re.compile(rb"(?=[\x01-\x40]\x00[\x00-\x1f]\x00)"),
    ">": re.compile(rb"(?=\x00[\x01-\x40]\x00[\x00-\x1f])"),
}


def _gps_candidates(data: bytes, tiff: int, order: str, pixels: list[tuple[int, int]] = ()) -> list[int]:
    """Offsets where a GPS directory could start: a small count, then a GPS tag number (0..31).
    Inside a JPEG or PNG the EXIF block is at most 64 KB; a TIFF file is searched whole, except its
    pixel data (strips, tiles, thumbnails), which may hold any bytes at all."""
    end = len(data) if tiff == 0 else min(len(data), tiff + 65536)
    if tiff >= 10 and data[tiff - 10 : tiff - 8] == b"\xff\xe1":  # a JPEG APP1: its length bounds it
        end = min(end, tiff - 8 + int.from_bytes(data[tiff - 8 : tiff - 6], "big"))
    hits, pos = [], tiff + 8
    for lo, hi in sorted(pixels) + [(end, end)]:
        if lo > pos:
            hits += [m.start() for m in _CANDIDATE[order].finditer(data, pos, min(lo, end))]
        pos = max(pos, hi)
        if pos >= end:
            break
    return hits


def _numbers(data: bytes, tiff: int, order: str, entry: int) -> list[int]:
    _tag, kind, n, value = struct.unpack_from(order + "HHII", data, entry)
    width = {3: 2, 4: 4}.get(kind)
    if width is None or n > 1 << 20:
        return []
    at = entry + 8 if width * n <= 4 else tiff + value
    raw = data[at : at + width * n]
    return [
        int.from_bytes(raw[i : i + width], "little" if order == "<" else "big")
        for i in range(0, len(raw), width)
    ]


def _scan_tiff(data: bytes, tiff: int, where: str, out: list[Finding]) -> None:
    order = "<" if data[tiff : tiff + 2] == b"II" else ">"
    pixels: list[tuple[int, int]] = []
    todo, seen = [struct.unpack_from(order + "I", data, tiff + 4)[0]], set()
    while todo and len(seen) < 256:
        offset = todo.pop()
        at = tiff + offset
        if not offset or offset in seen or at + 2 > len(data):
            continue
        seen.add(offset)
        (count,) = struct.unpack_from(order + "H", data, at)
        if at + 2 + 12 * count + 4 > len(data):
            continue
        entries = {}
        for i in range(count):
            entry = at + 2 + 12 * i
            tag, kind, n, value = struct.unpack_from(order + "HHII", data, entry)
            entries[tag] = entry
            size = _TYPE_SIZE.get(kind, 1) * n
            body = data[entry + 8 : entry + 12] if size <= 4 else data[tiff + value : tiff + value + size]
            if tag in (0x8769, 0xA005, 0x8825):
                todo.append(value)
            elif tag == 0x014A:
                todo += _numbers(data, tiff, order, entry)
            elif tag == 33723:
                _scan_iptc(body, where, out)
            elif tag == 34377:
                _scan_irb(body, where, out)
        for first, second in ((0x0111, 0x0117), (0x0144, 0x0145), (0x0201, 0x0202)):
            if first in entries and second in entries:
                starts = _numbers(data, tiff, order, entries[first])
                sizes = _numbers(data, tiff, order, entries[second])
                pixels += [(tiff + a, tiff + a + b) for a, b in zip(starts, sizes, strict=False)]
        todo.append(struct.unpack_from(order + "I", data, at + 2 + 12 * count)[0])
    # Every GPS-shaped table outside the pixels, referenced or not: orphans are found the same way.
    for at in _gps_candidates(data, tiff, order, pixels):
        found = _gps_table(data, tiff, at, order)
        if found is not None:
            out.append(Finding(f"{where} {found.carrier}", found.value, found.lat, found.lon))


def _png_blobs(data: bytes) -> list[tuple[str, bytes]]:
    blobs, pos = [], 8
    while pos + 12 <= len(data) and len(blobs) < MAX_BLOBS:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"eXIf":
            blobs.append(("PNG eXIf", body))
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            key, _, rest = body.partition(b"\x00")
            text = rest
            if kind == b"zTXt":
                text = zlib.decompressobj().decompress(rest[1:], 64 << 20)
            elif kind == b"iTXt" and len(rest) >= 2:
                text = rest[2:].split(b"\x00", 2)[-1]
                text = zlib.decompressobj().decompress(text, 64 << 20) if rest[0] else text
            label = f"PNG {kind.decode()} {key.decode('latin-1')!r}"
            blobs.append((label, text))
            if key.startswith(b"Raw profile type "):
                lines = text.strip(b"\n").split(b"\n", 2)
                try:
                    blobs.append((label, bytes.fromhex(lines[2].decode("ascii")) if len(lines) > 2 else b""))
                except ValueError:
                    blobs.append((label + " (unreadable hex)", b"Exif\x00\x00"))
        pos += 12 + length
    return blobs


def _extended_xmp(data: bytes) -> bytes:
    sig = b"http://ns.adobe.com/xmp/extension/\x00"
    parts, pos = [], data.find(sig)
    while pos >= 4:
        length = int.from_bytes(data[pos - 2 : pos], "big")
        head = pos + len(sig)
        offset = int.from_bytes(data[head + 36 : head + 40], "big")
        parts.append((data[head : head + 32], offset, data[head + 40 : pos - 2 + length]))
        pos = data.find(sig, pos + 1)
    return b"".join(chunk for _g, _o, chunk in sorted(parts))


def scan_bytes(data: bytes, needles: tuple[bytes, ...] = (), label: str = "") -> list[Finding]:
    """Every location carrier in ``data`` (any format) and every needle (e.g. the original coordinate)."""
    out: list[Finding] = []
    blobs = [(label or "file", data), ("ExtendedXMP", _extended_xmp(data))]
    if data.startswith(b"\x89PNG"):
        try:
            blobs += _png_blobs(data)
        except zlib.error:
            out.append(Finding("PNG text chunk that cannot be read"))
    for where, blob in blobs:
        starts = {m.end() for m in re.finditer(rb"Exif\x00\x00(?=II\*\x00|MM\x00\*)", blob)}
        if blob[:4] in _TIFF_HEADS:
            starts.add(0)
        if not blob.startswith((b"\xff\xd8", b"\x89PNG")):
            starts.update(
                m.start() for m in re.finditer(rb"II\*\x00\x08\x00\x00\x00|MM\x00\*\x00\x00\x00\x08", blob)
            )
        for start in sorted(starts):
            try:
                _scan_tiff(blob, start, where, out)
            except (struct.error, IndexError, ValueError):  # fail closed: unread is not clean
                out.append(Finding(f"{where} EXIF block that cannot be read to the end", f"at byte {start}"))
        for packet in _XMP_PACKETS.finditer(blob):
            _scan_xmp(packet.group(), where, out)
        for irb in re.finditer(rb"8BIM\x04\x04", blob):
            try:
                _scan_irb(blob[irb.start() :], where, out)
            except (struct.error, IndexError, ValueError):
                out.append(Finding(f"{where} IPTC block that cannot be read", f"at byte {irb.start()}"))
        for needle in needles:
            if needle and needle in blob:
                out.append(Finding(f"{where} the original coordinate's bytes", repr(needle)[:40]))
    return list(dict.fromkeys(out))


def scan_file(path: Path, needles: tuple[bytes, ...] = ()) -> list[Finding]:
    """Findings in the file at ``path``; a sidecar (.xmp) is read as one XMP packet."""
    data = path.read_bytes()
    return scan_bytes(data, needles, label=path.name)


def coordinate_needles(data: bytes, lat: float | None, lon: float | None) -> tuple[bytes, ...]:
    """Byte strings that betray the original position: the GPS rationals of ``data`` (the original
    file) in its own byte order, and the decimal text of the catalog's coordinate."""
    needles: set[bytes] = set()
    for value in (lat, lon):
        text = f"{abs(value):.6f}".rstrip("0") if value is not None else ""
        if len(text.partition(".")[2]) >= 3:  # "47.37" is too common a number to mean this spot
            needles.add(text.encode())
    for start in (m.end() for m in re.finditer(rb"Exif\x00\x00(?=II\*\x00|MM\x00\*)", data)):
        order = "<" if data[start : start + 2] == b"II" else ">"
        for at in _gps_candidates(data, start, order):
            finding = _gps_table(data, start, at, order)
            if finding is None:
                continue
            (count,) = struct.unpack_from(order + "H", data, at)
            for i in range(count):
                tag, kind, n, value = struct.unpack_from(order + "HHII", data, at + 2 + 12 * i)
                if tag in (2, 4) and n == 3 and start + value + 24 <= len(data):
                    raw = data[start + value : start + value + 24]
                    if any(raw[4:8]) and any(raw[:4]):  # a zero coordinate is no secret
                        needles.add(raw)
    return tuple(needles)
