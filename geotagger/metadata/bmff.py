"""ISO base media files (HEIF/HEIC/AVIF and Canon CR3): find size, EXIF and XMP in the box tree.

HEIF: the primary item's ``ispe`` (cropped by ``clap``) gives the size; ``iinf`` + ``iloc`` locate the
Exif and XMP items. CR3: the Canon uuid box in ``moov`` holds CMT1/CMT2/CMT4, each a TIFF block holding
IFD0, the Exif directory and the GPS directory. Every table is read with size caps.
"""

from __future__ import annotations

import struct

from geotagger.errors import MetadataError
from geotagger.metadata.containers import MAX_BLOCK, MAX_STEPS, Container
from geotagger.metadata.tags import EXIF, GPS, IFD0
from geotagger.metadata.tiff import BytesSource, Source

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
    if any(offset + length > src.size for extents in locations.values() for offset, length in extents):
        out.warnings.append("HEIF: file is truncated (item data past the end)")
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


def _uint(body: bytes, pos: int, *, wide: bool) -> tuple[int, int]:
    """A big-endian 16-bit field (32-bit when ``wide``: the box version says which) and the position after it."""
    if wide:
        return struct.unpack_from(">I", body, pos)[0], pos + 4
    return struct.unpack_from(">H", body, pos)[0], pos + 2


def _iloc(body: bytes) -> dict[int, list[tuple[int, int]]]:
    """Parse iloc (versions 0-2); construction method 0 (file offsets) only."""
    if len(body) < 8:
        return {}
    version = body[0]
    sizes = body[4:6]
    off_size, len_size = sizes[0] >> 4, sizes[0] & 15
    base_size, idx_size = sizes[1] >> 4, (sizes[1] & 15) if version in (1, 2) else 0
    count, pos = _uint(body, 6, wide=version >= 2)

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
    budget = MAX_STEPS
    try:
        for _ in range(min(count, MAX_STEPS)):
            item_id, pos = _uint(body, pos, wide=version >= 2)
            method = 0
            if version in (1, 2):
                method = struct.unpack_from(">H", body, pos)[0] & 15
                pos += 2
            pos += 2  # data_reference_index
            base = num(base_size)
            (n_ext,) = struct.unpack_from(">H", body, pos)
            pos += 2
            extents = []
            budget -= min(n_ext, 64)
            if budget < 0:
                break  # real files list a few hundred extents at most
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
            item_id, pos = _uint(body, pos, wide=version >= 1)
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
