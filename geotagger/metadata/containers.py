"""Find pixel size, EXIF (TIFF) blocks and XMP packets inside each file format, reading headers only.

No pixels are decoded. Each parser walks the format's segments/chunks/boxes with bounds checks and
an upper limit on the number of steps, so corrupt files cannot make it loop or allocate much.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from geotagger.errors import MetadataError
from geotagger.metadata.tags import EXIF, GPS, IFD0
from geotagger.metadata.tiff import BytesSource, Source

MAX_STEPS = 4096  # segments / chunks / boxes visited per file
MAX_BLOCK = 1024 * 1024  # biggest EXIF or XMP block we read (JPEG APP1 is < 64 KB anyway)


@dataclass
class Container:
    """What a format parser found: size, TIFF blocks to parse ((source, base, first IFD kind)), XMP."""

    format: str
    width: int | None = None
    height: int | None = None
    tiff: list[tuple[Source, int, str]] = field(default_factory=list)
    xmp: list[bytes] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_XMP_SIG = b"http://ns.adobe.com/xap/1.0/\x00"


def read_jpeg(src: Source, fmt: str = "JPEG", strict: bool = True) -> Container:
    """JPEG markers up to SOS: SOFn for the size, APP1 Exif and APP1 XMP.

    ``strict``: a JPEG without a frame header is not an image (MetadataError); previews inside RAW
    files are read leniently.
    """
    out = Container(fmt)
    pos = 2
    for _ in range(MAX_STEPS):
        head = src.read(pos, 4)
        if len(head) < 2:
            break
        if head[0] != 0xFF:
            out.warnings.append(f"JPEG: marker expected at offset {pos}; header walk stopped")
            break
        marker = head[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            break
        if len(head) < 4:
            break
        (length,) = struct.unpack(">H", head[2:4])
        if length < 2:
            out.warnings.append(f"JPEG: bad segment length at offset {pos}; header walk stopped")
            break
        body_at = pos + 4
        if marker in _SOF and out.width is None:
            sof = src.read(body_at, 5)
            if len(sof) == 5:
                out.height, out.width = struct.unpack(">HH", sof[1:5])
        elif marker == 0xE1:
            sig = src.read(body_at, 29)
            if sig[:5] == b"Exif\x00" and not out.tiff:  # a few writers put 0xFF as the 6th byte
                block = src.read(body_at + 6, length - 8)
                out.tiff.append((BytesSource(block), 0, IFD0))
            elif sig.startswith(_XMP_SIG) and not out.xmp:
                out.xmp.append(src.read(body_at + 29, length - 2 - 29))
        pos += 2 + length
    else:
        out.warnings.append("JPEG: too many segments; header walk stopped")
    if out.width is None and strict:
        raise MetadataError("JPEG is truncated or corrupt: no frame header (SOF) before the image data")
    return out


def read_png(src: Source) -> Container:
    """PNG chunks: IHDR for the size, eXIf, iTXt XMP, and ImageMagick's hex 'Raw profile type exif'."""
    out = Container("PNG")
    ihdr = src.read(8, 25)
    if len(ihdr) < 25 or ihdr[4:8] != b"IHDR":
        raise MetadataError("PNG is truncated or corrupt: no IHDR chunk")
    out.width, out.height = struct.unpack(">II", ihdr[8:16])
    pos = 8
    for _ in range(MAX_STEPS):
        head = src.read(pos, 8)
        if len(head) < 8:
            out.warnings.append("PNG: file is truncated (no IEND chunk)")
            break
        length, ctype = struct.unpack(">I4s", head)
        if ctype == b"IEND":
            break
        if ctype == b"IDAT" and (out.tiff or out.xmp):
            break  # metadata found; do not walk the image data just to reach IEND
        if length <= MAX_BLOCK:
            if ctype == b"eXIf" and not out.tiff:
                out.tiff.append((BytesSource(src.read(pos + 8, length)), 0, IFD0))
            elif ctype == b"iTXt" and not out.xmp:
                body = src.read(pos + 8, length)
                if body.startswith(b"XML:com.adobe.xmp\x00"):
                    out.xmp.append(_itxt_text(body))
            elif ctype in (b"zTXt", b"tEXt") and not out.tiff:
                _raw_profile(src.read(pos + 8, length), ctype, out)
        pos += 12 + length
    return out  # past MAX_STEPS chunks (huge images split finely) we stop quietly


def _itxt_text(body: bytes) -> bytes:
    # keyword\0 compression_flag compression_method language\0 translated\0 text
    parts = body.split(b"\x00", 1)
    rest = parts[1] if len(parts) > 1 else b""
    if len(rest) < 2:
        return b""
    flag, rest = rest[0], rest[2:]
    rest = rest.split(b"\x00", 2)[-1] if rest.count(b"\x00") >= 2 else b""
    if flag:
        import zlib

        try:
            return zlib.decompressobj().decompress(rest, MAX_BLOCK)
        except zlib.error:
            return b""
    return rest


def _raw_profile(body: bytes, ctype: bytes, out: Container) -> None:
    key, _, data = body.partition(b"\x00")
    if key != b"Raw profile type exif":
        return
    if ctype == b"zTXt":
        import zlib

        try:
            data = zlib.decompressobj().decompress(data[1:], 4 * MAX_BLOCK)
        except zlib.error:
            out.warnings.append("PNG: compressed EXIF profile is corrupt; ignored")
            return
    # "\nexif\n    <length>\n<hex lines>"
    lines = data.strip().split(b"\n", 2)
    if len(lines) < 3:
        return
    try:
        raw = bytes.fromhex(lines[2].decode("ascii").replace("\n", "").replace(" ", ""))
    except ValueError:
        out.warnings.append("PNG: EXIF profile is not valid hex; ignored")
        return
    at = raw.find(b"Exif\x00\x00")
    out.tiff.append((BytesSource(raw[at + 6 :] if at >= 0 else raw), 0, IFD0))


def read_webp(src: Source) -> Container:
    """RIFF chunks: VP8X/VP8/VP8L for the size, EXIF and XMP chunks."""
    out = Container("WEBP")
    pos = 12
    end = min(src.size, 8 + struct.unpack("<I", src.read(4, 4))[0])
    for _ in range(MAX_STEPS):
        head = src.read(pos, 8)
        if len(head) < 8 or pos >= end:
            break
        ctype, length = struct.unpack("<4sI", head)
        body_at = pos + 8
        if ctype == b"VP8X" and out.width is None:
            b = src.read(body_at, 10)
            if len(b) == 10:
                out.width = int.from_bytes(b[4:7], "little") + 1
                out.height = int.from_bytes(b[7:10], "little") + 1
        elif ctype == b"VP8 " and out.width is None:
            b = src.read(body_at, 10)
            if len(b) == 10 and b[3:6] == b"\x9d\x01\x2a":
                w, h = struct.unpack("<HH", b[6:10])
                out.width, out.height = w & 0x3FFF, h & 0x3FFF
        elif ctype == b"VP8L" and out.width is None:
            b = src.read(body_at, 5)
            if len(b) == 5 and b[0] == 0x2F:
                bits = int.from_bytes(b[1:5], "little")
                out.width, out.height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif ctype == b"EXIF" and length <= MAX_BLOCK and not out.tiff:
            block = src.read(body_at, length)
            if block.startswith(b"Exif\x00\x00"):
                block = block[6:]
            out.tiff.append((BytesSource(block), 0, IFD0))
        elif ctype == b"XMP " and length <= MAX_BLOCK and not out.xmp:
            out.xmp.append(src.read(body_at, length))
        pos = body_at + length + (length & 1)
    if out.width is None:
        raise MetadataError("WebP is truncated or corrupt: no image header chunk")
    return out


# ---------------------------------------------------------------- ISO-BMFF (HEIF, AVIF, CR3)

_XMP_MIME = {b"application/rdf+xml", b"application/xmp+xml", b"text/xml", b"application/xml"}
_CR3_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
_CR3_BOXES = {b"CMT1": IFD0, b"CMT2": EXIF, b"CMT4": GPS}


def _boxes(src: Source, start: int, end: int):
    """Yield (type, body_offset, body_end) of the boxes in [start, end)."""
    pos = start
    for _ in range(MAX_STEPS):
        if pos + 8 > end:
            return
        head = src.read(pos, 16)
        if len(head) < 8:
            return
        size, btype = struct.unpack(">I4s", head[:8])
        hdr = 8
        if size == 1:
            if len(head) < 16:
                return
            (size,) = struct.unpack(">Q", head[8:16])
            hdr = 16
        elif size == 0:
            size = end - pos
        if size < hdr or pos + size > end:
            yield btype, pos + hdr, end  # truncated last box: let the caller read what is there
            return
        yield btype, pos + hdr, pos + size
        pos += size


def read_bmff(src: Source, brand: bytes) -> Container:
    """HEIF/AVIF: the primary item's ispe size and its Exif/XMP items via iinf/iloc. CR3: CMT boxes."""
    if brand == b"crx ":
        return _read_cr3(src)
    out = Container("HEIF")
    meta = next(((s, e) for t, s, e in _boxes(src, 0, src.size) if t == b"meta"), None)
    if meta is None:
        raise MetadataError("HEIF is truncated or corrupt: no meta box")
    start, end = meta[0] + 4, meta[1]  # meta is a FullBox
    primary = None
    infos: dict[int, tuple[bytes, bytes]] = {}
    locations: dict[int, list[tuple[int, int]]] = {}
    props: list[tuple[bytes, int, int]] = []
    assoc: dict[int, list[int]] = {}
    for btype, s, e in _boxes(src, start, end):
        if btype == b"pitm":
            body = src.read(s, 8)
            if len(body) >= 6 and body[0] == 0:
                primary = struct.unpack(">H", body[4:6])[0]
            elif len(body) == 8:
                primary = struct.unpack(">I", body[4:8])[0]
        elif btype == b"iinf":
            infos = _iinf(src, s, e)
        elif btype == b"iloc":
            locations = _iloc(src.read(s, min(e - s, 256 * 1024)))
        elif btype == b"iprp":
            for ptype, ps, pe in _boxes(src, s, e):
                if ptype == b"ipco":
                    props = [(t, bs, be) for t, bs, be in _boxes(src, ps, pe)]
                elif ptype == b"ipma":
                    assoc = _ipma(src.read(ps, min(pe - ps, 64 * 1024)))
    if primary is not None:
        for index in assoc.get(primary, []):
            if not 0 < index <= len(props):
                continue
            ptype, ps, _pe = props[index - 1]
            if ptype == b"ispe" and out.width is None:
                body = src.read(ps, 12)
                if len(body) == 12:
                    out.width, out.height = struct.unpack(">II", body[4:12])
            elif ptype == b"clap":  # clean aperture: decoders crop the coded size to this
                clap = _clap(src.read(ps, 32))
                if clap:
                    out.width, out.height = clap
    for item_id, (itype, content_type) in infos.items():
        extents = locations.get(item_id)
        if not extents:
            continue
        if itype == b"Exif" and not out.tiff:
            data = _extents(src, extents)
            if len(data) >= 4:
                (skip,) = struct.unpack(">I", data[:4])
                base = 4 + skip if 4 + skip <= len(data) else 4
                if data[base : base + 2] not in (b"II", b"MM"):
                    at = data.find(b"Exif\x00\x00")
                    base = at + 6 if at >= 0 else base
                out.tiff.append((BytesSource(data), base, IFD0))
        elif itype == b"mime" and content_type.lower() in _XMP_MIME and not out.xmp:
            out.xmp.append(_extents(src, extents))
    if out.width is None:
        out.warnings.append("HEIF: primary image size not found")
    return out


def _clap(body: bytes) -> tuple[int, int] | None:
    if len(body) < 16:
        return None
    wn, wd, hn, hd = struct.unpack(">IIII", body[:16])
    if not wd or not hd or wn // wd <= 0 or hn // hd <= 0:
        return None
    return wn // wd, hn // hd


def _extents(src: Source, extents: list[tuple[int, int]]) -> bytes:
    total = 0
    parts = []
    for offset, length in extents[:16]:
        if total + length > MAX_BLOCK:
            break
        parts.append(src.read(offset, length))
        total += length
    return b"".join(parts)


def _iinf(src: Source, s: int, e: int) -> dict[int, tuple[bytes, bytes]]:
    version = src.read(s, 1)[:1]
    first = s + (6 if version == b"\x00" else 8)
    infos: dict[int, tuple[bytes, bytes]] = {}
    for btype, bs, be in _boxes(src, first, e):
        if btype != b"infe":
            continue
        body = src.read(bs, min(be - bs, 512))
        if len(body) < 12 or body[0] < 2:
            continue
        if body[0] == 2:
            item_id = struct.unpack(">H", body[4:6])[0]
            itype = body[8:12]
            rest = body[12:]
        else:
            item_id = struct.unpack(">I", body[4:8])[0]
            itype = body[10:14]
            rest = body[14:]
        content_type = b""
        if itype == b"mime":
            parts = rest.split(b"\x00")
            content_type = parts[1] if len(parts) > 1 else b""
        infos[item_id] = (itype, content_type)
    return infos


def _iloc(body: bytes) -> dict[int, list[tuple[int, int]]]:
    """Parse iloc (versions 0-2); construction method 0 (file offsets) only."""
    if len(body) < 8:
        return {}
    version = body[0]
    sizes = body[4:6]
    off_size, len_size = sizes[0] >> 4, sizes[0] & 15
    base_size, idx_size = sizes[1] >> 4, (sizes[1] & 15) if version in (1, 2) else 0
    pos = 6
    if version < 2:
        (count,) = struct.unpack_from(">H", body, pos)
        pos += 2
    else:
        (count,) = struct.unpack_from(">I", body, pos)
        pos += 4

    def num(size: int) -> int:
        nonlocal pos
        if size == 0:
            return 0
        if pos + size > len(body) or size not in (4, 8):
            raise struct.error("iloc field")
        value = int.from_bytes(body[pos : pos + size], "big")
        pos += size
        return value

    out: dict[int, list[tuple[int, int]]] = {}
    try:
        for _ in range(min(count, MAX_STEPS)):
            if version < 2:
                item_id = struct.unpack_from(">H", body, pos)[0]
                pos += 2
            else:
                item_id = struct.unpack_from(">I", body, pos)[0]
                pos += 4
            method = 0
            if version in (1, 2):
                method = struct.unpack_from(">H", body, pos)[0] & 15
                pos += 2
            pos += 2  # data_reference_index
            base = num(base_size)
            (n_ext,) = struct.unpack_from(">H", body, pos)
            pos += 2
            extents = []
            for _ in range(min(n_ext, 64)):
                if idx_size:
                    num(idx_size)
                offset, length = num(off_size), num(len_size)
                extents.append((base + offset, length))
            if method == 0:
                out[item_id] = extents
    except struct.error:
        pass
    return out


def _ipma(body: bytes) -> dict[int, list[int]]:
    if len(body) < 8:
        return {}
    version, flags = body[0], int.from_bytes(body[1:4], "big")
    (count,) = struct.unpack_from(">I", body, 4)
    pos = 8
    out: dict[int, list[int]] = {}
    try:
        for _ in range(min(count, MAX_STEPS)):
            if version < 1:
                item_id = struct.unpack_from(">H", body, pos)[0]
                pos += 2
            else:
                item_id = struct.unpack_from(">I", body, pos)[0]
                pos += 4
            n = body[pos]
            pos += 1
            indexes = []
            for _ in range(n):
                if flags & 1:
                    indexes.append(struct.unpack_from(">H", body, pos)[0] & 0x7FFF)
                    pos += 2
                else:
                    indexes.append(body[pos] & 0x7F)
                    pos += 1
            out[item_id] = indexes
    except (struct.error, IndexError):
        pass
    return out


def _read_cr3(src: Source) -> Container:
    out = Container("RAW:CR3")
    moov = next(((s, e) for t, s, e in _boxes(src, 0, src.size) if t == b"moov"), None)
    if moov is None:
        raise MetadataError("CR3 is truncated or corrupt: no moov box")
    for btype, s, e in _boxes(src, moov[0], moov[1]):
        if btype == b"uuid" and src.read(s, 16) == _CR3_UUID:
            for ctype, cs, ce in _boxes(src, s + 16, e):
                kind = _CR3_BOXES.get(ctype)
                if kind and ce - cs <= MAX_BLOCK:
                    out.tiff.append((BytesSource(src.read(cs, ce - cs)), 0, kind))
            break
    if not out.tiff:
        out.warnings.append("CR3: no metadata (CMT) boxes found")
    return out


def read_raf(src: Source) -> Container:
    """Fujifilm RAF: the embedded JPEG preview (offset and length at byte 84) carries the EXIF."""
    out = Container("RAW:RAF")
    head = src.read(84, 8)
    if len(head) < 8:
        raise MetadataError("RAF is truncated: header too short")
    offset, length = struct.unpack(">II", head)
    preview = src.read(offset, min(length, MAX_BLOCK))
    if preview[:2] != b"\xff\xd8":
        out.warnings.append("RAF: embedded JPEG preview not found")
        return out
    inner = read_jpeg(BytesSource(preview), "RAW:RAF", strict=False)
    out.tiff, out.xmp, out.warnings = inner.tiff, inner.xmp, inner.warnings
    out.width, out.height = inner.width, inner.height
    return out
