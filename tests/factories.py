"""Test fixtures made on the fly: JPEGs (and other formats) with EXIF written by Pillow."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXIF_SAMPLES = SHARED_DATA / "exif-samples"
LIBRARY_DEV = SHARED_DATA / "library-dev"

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = Fraction(round((minutes_full - minutes) * 60 * 10000), 10000)
    return Fraction(degrees), Fraction(minutes), seconds


def make_exif(
    *,
    lat: float | None = None,
    lon: float | None = None,
    alt: float | None = None,
    taken: datetime | None = None,
    offset: str | None = None,
    make: str | None = "TestCam",
    model: str | None = "T1",
    serial: str | None = None,
    orientation: int | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if orientation:
        exif[0x0112] = orientation
    sub = exif.get_ifd(EXIF_IFD)
    if taken is not None:
        stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp
        sub[0x9003] = stamp
        if taken.microsecond:
            sub[0x9291] = f"{taken.microsecond // 1000:03d}"
        if offset:
            sub[0x9011] = offset
    if serial:
        sub[0xA431] = serial
    if lat is not None and lon is not None:
        gps = exif.get_ifd(GPS_IFD)
        gps[0] = b"\x02\x03\x00\x00"
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = _dms(lat)
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = _dms(lon)
        if alt is not None:
            gps[5] = b"\x00" if alt >= 0 else b"\x01"
            gps[6] = Fraction(round(abs(alt) * 100), 100)
    return exif


def make_image(
    size: tuple[int, int] = (320, 240), color: tuple[int, int, int] = (90, 140, 200)
) -> Image.Image:
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.rectangle([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], fill=(240, 220, 40))
    draw.line([0, 0, size[0], size[1]], fill=(10, 10, 10), width=3)
    return image


def make_jpeg(path: Path, size: tuple[int, int] = (320, 240), color=(90, 140, 200), **exif_fields) -> Path:
    """Write a JPEG with the given EXIF fields (see make_exif) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    make_image(size, color).save(path, "JPEG", quality=85, exif=make_exif(**exif_fields))
    return path


def make_photo(path: Path, size: tuple[int, int] = (320, 240), **exif_fields) -> Path:
    """Write an image in the format its suffix names (JPEG, PNG, TIFF, WebP, HEIC) with EXIF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    image = make_image(size)
    exif = make_exif(**exif_fields)
    if suffix in (".jpg", ".jpeg"):
        image.save(path, "JPEG", quality=85, exif=exif)
    elif suffix == ".png":
        image.save(path, "PNG", exif=exif)
    elif suffix in (".tif", ".tiff"):
        image.save(path, "TIFF", exif=exif)
    elif suffix == ".webp":
        image.save(path, "WEBP", exif=exif)
    elif suffix in (".heic", ".heif"):
        import pillow_heif

        pillow_heif.register_heif_opener()
        image.save(path, "HEIF", exif=exif.tobytes())
    else:
        raise ValueError(f"no writer for {suffix}")
    return path


def photo_row(path: Path | str, **fields):
    """A catalog Photo row for tests that need rows without files (defaults: readable, no GPS)."""
    from geotagger.catalog import Photo

    path = Path(path)
    values = {
        "path": str(path),
        "folder": str(path.parent),
        "filename": path.name,
        "size": 1,
        "mtime_ns": 1,
        "fingerprint": path.stem,
        "indexed_at": datetime(2024, 1, 1),
        "status": "ok",
        "review_state": "none",
    }
    values.update(fields)
    return Photo(**values)
