"""Opening photo files as Pillow images: RAW previews, HEIF, fast JPEG decoding, EXIF orientation.

Thumbnails (indexing) and model input (locate) both decode photos; this is the one place that knows
how, so a RAW format or an orientation fix added here serves both. Decoding is fast where Pillow
allows: JPEGs open in draft mode (DCT-domain downscaling, ~5x faster for large photos), RAW files
give their camera-made JPEG preview instead of being demosaiced.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

RAW_SUFFIXES = frozenset(
    {
        ".arw",
        ".cr2",
        ".cr3",
        ".crw",
        ".dng",
        ".erf",
        ".kdc",
        ".mef",
        ".mos",
        ".mrw",
        ".nef",
        ".nrw",
        ".orf",
        ".pef",
        ".raf",
        ".raw",
        ".rw2",
        ".rwl",
        ".sr2",
        ".srf",
        ".srw",
        ".x3f",
    }
)
HEIF_SUFFIXES = frozenset({".heic", ".heif", ".hif", ".avif"})
MAX_RAW_BYTES = 128 * 1024 * 1024  # RAW files are scanned for previews up to this size
MAX_PREVIEW_CANDIDATES = 64  # decodable JPEG headers looked at in one RAW file
_SOI = b"\xff\xd8\xff"  # JPEG start-of-image marker
_PREVIEW_MODES = ("RGB", "L", "CMYK", "YCbCr")

# EXIF orientation (1..8) -> the transpositions, in order, that make the image upright.
ORIENTATION_TRANSPOSES: dict[int, tuple[Image.Transpose, ...]] = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}
_heif_registered = False


def is_raw(path: Path) -> bool:
    """Whether the file is a camera RAW (decoded through its embedded preview), judged by its suffix."""
    return path.suffix.lower() in RAW_SUFFIXES


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """The image turned upright for an EXIF orientation value (unknown values leave it as it is)."""
    for method in ORIENTATION_TRANSPOSES.get(orientation, ()):
        image = image.transpose(method)
    return image


def on_white(image: Image.Image) -> Image.Image:
    """An image with transparency as RGB, its transparent parts on white (as a viewer shows them)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def register_heif() -> None:
    """Teach Pillow HEIF/HEIC once, on first need (pillow_heif is slow to import)."""
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def open_decoded(path: Path, min_side: int) -> Image.Image:
    """Open and decode a (non-RAW) image, JPEGs at the smallest scale whose shorter side is >= min_side.

    The EXIF orientation is not applied. Pillow's errors propagate (FileNotFoundError,
    UnidentifiedImageError, DecompressionBombError, OSError for corrupt data); the file is closed then.
    """
    if path.suffix.lower() in HEIF_SUFFIXES:
        register_heif()
    image = Image.open(path)
    try:
        if image.format == "JPEG":
            image.draft("RGB", (min_side, min_side))
        image.load()
    except BaseException:
        image.close()
        raise
    return image


def raw_preview(path: Path, min_side: int) -> Image.Image | None:
    """The largest embedded JPEG preview of a RAW file that decodes, decoded as ``open_decoded`` does.

    Camera RAW containers (TIFF-based CR2/NEF/ARW/DNG/ORF..., CR3, RAF, RW2) embed JPEG previews;
    scanning for JPEG start markers and asking Pillow for each header is format-independent. Sensor
    data that looks like a JPEG but does not decode is passed over for the next largest candidate.
    None when the file holds no JPEG header at all; when every candidate fails to decode, the error of
    the largest is raised.
    """
    with open(path, "rb") as handle:
        data = handle.read(MAX_RAW_BYTES)
    found: list[tuple[int, int]] = []  # (pixels, offset)
    at = data.find(_SOI)
    while at >= 0 and len(found) < MAX_PREVIEW_CANDIDATES:
        try:
            with Image.open(io.BytesIO(data[at:])) as probe:
                if probe.format == "JPEG" and probe.mode in _PREVIEW_MODES:
                    found.append((probe.width * probe.height, at))
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            pass  # not a decodable JPEG header here (random bytes in sensor data): keep scanning
        at = data.find(_SOI, at + len(_SOI))
    first_error: Exception | None = None
    for _pixels, offset in sorted(found, reverse=True):
        image = Image.open(io.BytesIO(data[offset:]))
        image.draft("RGB", (min_side, min_side))
        try:
            image.load()
        except (OSError, ValueError, SyntaxError) as exc:  # truncated or lossless data: try the next one
            first_error = first_error or exc
            continue
        return image
    if first_error is not None:
        raise first_error
    return None
