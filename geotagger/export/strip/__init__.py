"""Remove every known location carrier from an exported COPY (privacy), never from an original.

Carriers: EXIF GPS (IFD0 and every other directory, the thumbnail JPEG, MPF images, orphaned GPS
directories), XMP (any namespace's GPS/latitude/longitude/place properties, embedded, extended,
in PNG text chunks, in TIFF tag 700, in sidecars), IPTC-IIM place datasets, PNG "Raw profile" chunks.
What this removes is checked afterwards by ``geotagger.export.scan``, which shares no code with it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from geotagger.errors import MetadataError
from geotagger.export.strip.files import strip_heif, strip_jpeg, strip_png, strip_tiff, strip_webp
from geotagger.export.strip.inplace import strip_tiff_block
from geotagger.export.strip.xmp_text import blank_xmp_location

_STRIPPERS: dict[str, Callable[[bytes], tuple[bytes, bool]]] = {
    ".jpg": strip_jpeg,
    ".jpeg": strip_jpeg,
    ".jpe": strip_jpeg,
    ".jfif": strip_jpeg,
    ".png": strip_png,
    ".webp": strip_webp,
    ".tif": strip_tiff,
    ".tiff": strip_tiff,
    ".heic": strip_heif,
    ".heif": strip_heif,
    ".hif": strip_heif,
    ".avif": strip_heif,
}

__all__ = ["can_strip", "strip_bytes", "strip_gps", "strip_tiff_block", "strip_xmp_location"]


def can_strip(path: Path) -> bool:
    """Whether locations can be removed from files with this suffix."""
    return path.suffix.lower() in _STRIPPERS


def strip_xmp_location(packet: bytes) -> bytes:
    """An XMP packet (embedded or a sidecar) with its location properties blanked out."""
    return blank_xmp_location(packet)


def strip_bytes(data: bytes, suffix: str) -> tuple[bytes, bool]:
    """(the file without locations, whether any was there) for a file of type ``suffix``."""
    stripper = _STRIPPERS.get(suffix.lower())
    if stripper is None:
        raise MetadataError(f"cannot remove locations from {suffix or 'such'} files")
    try:
        return stripper(data)
    except (struct.error, IndexError, ValueError) as exc:
        raise MetadataError("metadata too broken to remove the location safely") from exc


def strip_gps(path: Path) -> bool:
    """Remove every location from the file at ``path`` (an export copy). True if any was found."""
    try:
        new, found = strip_bytes(path.read_bytes(), path.suffix)
    except MetadataError as exc:
        raise MetadataError(f"{path.name}: {exc}") from exc
    if found:
        path.write_bytes(new)
    return found
