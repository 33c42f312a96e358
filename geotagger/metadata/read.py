"""read_metadata(path): format, size, orientation, capture time, camera and GPS of one photo, fast.

Only the file's header is read (64 KB, plus a few small reads where a format points further), no pixel
is decoded. A file that is not a readable image raises MetadataError; broken metadata inside a readable
image gives warnings in ``meta.warnings`` instead.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from geotagger.errors import MetadataError
from geotagger.metadata import bmff, containers
from geotagger.metadata.exif import apply_exif
from geotagger.metadata.model import PhotoMetadata
from geotagger.metadata.tiff import FileSource, open_regular, parse_tiff, tiff_magic
from geotagger.metadata.xmp import XmpData, find_sidecar, parse_xmp, read_sidecar

HEAD_BYTES = 64 * 1024
# Pillow refuses to open images above twice its MAX_IMAGE_PIXELS (2 x 89,478,485): so do we, up front.
MAX_PIXELS = 2 * 89_478_485

RAW_EXTENSIONS = frozenset(
    {".cr2", ".cr3", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".dng", ".orf", ".rw2", ".raf", ".pef", ".srw"}
)
SUPPORTED_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".hif", ".avif"}
    | RAW_EXTENSIONS
)
_OTHER_FORMATS = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"8BPS", "Photoshop"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}


def read_metadata(path: Path, *, dir_names: frozenset[str] | None = None) -> PhotoMetadata:
    """Read one photo's metadata (see PhotoMetadata). ``dir_names``: the folder listing, if known,
    so finding XMP sidecars needs no extra stat calls. Raises MetadataError if it is not an image."""
    path = Path(path)
    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                raise MetadataError("empty file (0 bytes)")
            head = fh.read(HEAD_BYTES)
            src = FileSource(fh, size, head)
            meta, embedded, weak_time = _read(src, head, path.suffix.lower())
    except IsADirectoryError:
        raise MetadataError("is a folder, not a file") from None
    except OSError as exc:
        raise MetadataError(f"cannot read file: {exc.strerror or exc}") from None
    except MetadataError:
        raise
    except (struct.error, ValueError, IndexError, OverflowError, MemoryError) as exc:
        # Container parsers are bounds-checked; this is the last line of defence for a corrupt header.
        raise MetadataError(f"corrupt file header ({type(exc).__name__}: {exc})") from None
    # Priority: the file's EXIF, then the sidecar (the user's editor wrote it), then embedded XMP.
    sidecar = find_sidecar(path, dir_names)
    if sidecar is not None:
        meta.sidecar_path = str(sidecar)
        weak_time = _merge_xmp(meta, read_sidecar(sidecar), meta.warnings, weak_time)
    for xmp in embedded:
        weak_time = _merge_xmp(meta, xmp, meta.warnings, weak_time)
    return meta


def _read(src: FileSource, head: bytes, suffix: str) -> tuple[PhotoMetadata, list[XmpData], bool]:
    """Parse the file. Returns the metadata, its embedded XMP packets, and whether the capture time
    is only the EXIF modify date (DateTime), which an XMP capture time may replace."""
    container = _container(src, head, suffix)
    meta = PhotoMetadata(format=container.format, width=container.width, height=container.height)
    warnings = list(container.warnings)
    values: dict = {}
    images: list[tuple[int, int, int | None]] = []
    for source, base, kind in container.tiff:
        try:
            data = parse_tiff(source, base, kind)
        except ValueError:
            warnings.append("EXIF block has no valid TIFF header; ignored")
            continue
        for key, value in data.values.items():
            values.setdefault(key, value)
        images.extend(data.images)
        warnings.extend(data.warnings)
    if container.format == "RAW:RAF":  # the container's size is the preview's; EXIF knows the sensor's
        _pixel_dimensions(meta, values)
    elif container.format == "RAW:RW2":
        _pixel_dimensions(meta, values, ("PanasonicSensorWidth", "PanasonicSensorHeight"))
    elif container.format == "TIFF" or (container.format.startswith("RAW:") and container.width is None):
        _tiff_size(meta, images, values)
        if meta.width is None and container.format == "TIFF":
            raise MetadataError("TIFF is corrupt: no readable image directory")
    time_tag = apply_exif(values, meta, warnings)
    packet = values.get("XMLPacket")
    if isinstance(packet, bytes) and not container.xmp:
        container.xmp.append(packet)
    if meta.width and meta.height and meta.width * meta.height > MAX_PIXELS:
        raise MetadataError(
            f"image of {meta.width} x {meta.height} pixels is too large (decompression bomb limit)"
        )
    meta.warnings = warnings
    embedded = [parse_xmp(packet, "embedded XMP") for packet in container.xmp]
    return meta, embedded, time_tag in (None, "DateTime")


def _container(src: FileSource, head: bytes, suffix: str) -> containers.Container:
    if head[:3] == b"\xff\xd8\xff":
        return containers.read_jpeg(src)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return containers.read_png(src)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return containers.read_webp(src)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
        if brand == b"crx ":
            return bmff.read_bmff(src, brand)
        if brand in _HEIF_BRANDS or compatible & _HEIF_BRANDS:
            out = bmff.read_bmff(src, brand)
            if brand in (b"avif", b"avis"):
                out.format = "AVIF"
            return out
        raise MetadataError(f"unsupported ISO media file (brand {brand.decode('latin-1')!r})")
    if head[:16] == b"FUJIFILMCCD-RAW ":
        return containers.read_raf(src)
    magic = tiff_magic(head)
    if magic is not None:
        if magic == 43:
            raise MetadataError("BigTIFF files are not supported")
        fmt = _tiff_format(head, magic, suffix)
        if fmt is None:
            raise MetadataError(f"unknown TIFF variant (magic 0x{magic:04x})")
        out = containers.Container(fmt)
        out.tiff.append((src, 0, "IFD0"))
        return out
    if len(head) < 16:
        raise MetadataError(f"not an image: only {len(head)} bytes")
    for magic, kind in _OTHER_FORMATS:
        if head.startswith(magic):
            raise MetadataError(f"not a supported image: this is a {kind} file")
    if _looks_like_text(head):
        raise MetadataError("not an image: the file contains text")
    if head[:2] == b"BM":
        raise MetadataError("not a supported image: this is a BMP file")
    raise MetadataError("not an image: unrecognised file header")


def _tiff_format(head: bytes, magic: int, suffix: str) -> str | None:
    if magic == 0x55:
        return "RAW:RW2"
    if magic in (0x4F52, 0x5352):  # 'RO' / 'RS' (Olympus)
        return "RAW:ORF"
    if magic != 42:
        return None
    if head[8:10] == b"CR":
        return "RAW:CR2"
    if suffix in RAW_EXTENSIONS:
        return "RAW:" + suffix[1:].upper()
    return "TIFF"


def _looks_like_text(head: bytes) -> bool:
    sample = head[:512]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # not just a character cut at the sample's end
            return False
        text = sample[: exc.start].decode("utf-8")
    return all(ch in "\t\n\r\f" or ch >= " " for ch in text.lstrip("\ufeff"))


def _tiff_size(meta: PhotoMetadata, images: list[tuple[int, int, int | None]], values: dict) -> None:
    """TIFF/RAW: the full-resolution image (NewSubfileType 0) of largest area, else the largest one."""
    full = [(w, h) for w, h, sub in images if sub in (0, None) and w > 0 and h > 0]
    pool = full or [(w, h) for w, h, _sub in images if w > 0 and h > 0]
    if pool:
        meta.width, meta.height = max(pool, key=lambda wh: wh[0] * wh[1])
        return
    _pixel_dimensions(meta, values)


def _pixel_dimensions(
    meta: PhotoMetadata, values: dict, names: tuple[str, str] = ("PixelXDimension", "PixelYDimension")
) -> None:
    px, py = values.get(names[0]), values.get(names[1])
    px, py = (v[0] if isinstance(v, tuple) and v and isinstance(v[0], int) else 0 for v in (px, py))
    if px > 0 and py > 0:
        meta.width, meta.height = px, py


def _merge_xmp(meta: PhotoMetadata, xmp: XmpData, warnings: list[str], weak_time: bool) -> bool:
    """Fill GPS and time from XMP where the file had none; a capture time here replaces a mere
    EXIF modify date. Returns whether the time is still weak (replaceable)."""
    warnings.extend(xmp.warnings)
    if meta.gps_lat is None and xmp.lat is not None and xmp.lon is not None:
        meta.gps_lat, meta.gps_lon, meta.gps_alt, meta.gps_source = xmp.lat, xmp.lon, xmp.alt, "xmp"
    if weak_time and xmp.taken_at is not None:
        meta.taken_at, meta.taken_offset_min = xmp.taken_at, xmp.taken_offset_min
        return False
    return weak_time
