"""What the reader extracts from one file: the fields the catalog keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class PhotoMetadata:
    """Metadata of one photo. ``None`` means absent; ``warnings`` lists tags that were present but unusable."""

    format: str | None = None  # JPEG, PNG, TIFF, WEBP, HEIF, or RAW:<ext> (CR2, NEF ...)
    width: int | None = None
    height: int | None = None
    orientation: int | None = None  # EXIF 1..8
    taken_at: datetime | None = None  # local wall-clock time, sub-seconds included
    taken_offset_min: int | None = None  # from OffsetTimeOriginal, minutes east of UTC
    camera_make: str | None = None
    camera_model: str | None = None
    camera_serial: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_alt: float | None = None
    gps_source: str | None = None  # "exif" or "xmp"
    sidecar_path: str | None = None  # the XMP sidecar that was read, if any
    warnings: list[str] = field(default_factory=list)
