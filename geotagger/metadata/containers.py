"""Find pixel size, EXIF (TIFF) blocks and XMP packets inside each file format, reading headers only.

No pixels are decoded. Each parser walks the format's segments/chunks/boxes with bounds checks and
an upper limit on the number of steps, so corrupt files cannot make it loop or allocate much.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from geotagger.errors import MetadataError
from geotagger.metadata.tags import IFD0
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
            if src.read(src.size - 8, 4) != b"IEND":  # one read at the end instead of a chunk walk
                out.warnings.append("PNG: file is truncated (no IEND chunk)")
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
    riff_end = 8 + struct.unpack("<I", src.read(4, 4))[0]
    if riff_end > src.size:
        out.warnings.append("WebP: file is truncated")
    end = min(src.size, riff_end)
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
