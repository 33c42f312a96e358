"""Thumbnails on demand, cached as JPEG files keyed by content fingerprint and size.

The key is the fingerprint, not the path, so a moved photo keeps its cached thumbnail and an edited
one gets a new thumbnail. JPEGs decode in draft mode (DCT-domain downscaling: ~5x faster for large
photos); EXIF orientation is applied so thumbnails stand the right way up.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from geotagger.errors import MetadataError, UserInputError

RAW_EXTENSIONS = frozenset(
    {".cr2", ".cr3", ".nef", ".nrw", ".arw", ".dng", ".orf", ".rw2", ".raf", ".pef", ".srw"}
)
MIN_SIZE, MAX_SIZE = 16, 4096
MAX_RAW_BYTES = 128 * 1024 * 1024  # RAW files are scanned for previews up to this size
SOI = b"\xff\xd8\xff"
# EXIF orientation -> the transposition that makes the image upright (as ImageOps.exif_transpose).
_TRANSPOSE = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}
_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def cache_path(cache_dir: Path, fingerprint: str, size: int) -> Path:
    """Where the thumbnail of this content at this size lives (two-level fan-out keeps folders small)."""
    return cache_dir / fingerprint[:2] / f"{fingerprint}-{size}.jpg"


def _raw_preview(source: Path) -> Image.Image:
    """The largest embedded JPEG preview of a RAW file that Pillow can decode.

    Camera RAW containers (TIFF-based CR2/NEF/ARW/DNG/ORF..., CR3, RAF, RW2) embed JPEG previews;
    scanning for JPEG start markers and asking Pillow for each header is format-independent, and
    lossless-JPEG sensor data (which Pillow cannot decode) is skipped on the way.
    """
    with open(source, "rb") as handle:
        data = handle.read(MAX_RAW_BYTES)
    best: tuple[int, int] | None = None  # (pixels, offset)
    at = data.find(SOI)
    while at >= 0:
        try:
            with Image.open(io.BytesIO(data[at:])) as candidate:
                if candidate.format == "JPEG" and candidate.mode in ("RGB", "L", "CMYK", "YCbCr"):
                    pixels = candidate.width * candidate.height
                    if best is None or pixels > best[0]:
                        best = (pixels, at)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            pass  # not a decodable JPEG here: keep scanning
        at = data.find(SOI, at + 3)
    if best is None:
        raise MetadataError(f"no thumbnail for {source.name}: this RAW file has no embedded JPEG preview")
    return Image.open(io.BytesIO(data[best[1] :]))


def render(source: Path, size: int, orientation: int | None = None) -> Image.Image:
    """Decode ``source`` into an RGB image whose longer side is at most ``size``, upright.

    ``orientation`` (from the catalog) is applied to RAW previews, which often carry no EXIF of their own.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise UserInputError(f"thumbnail size must be between {MIN_SIZE} and {MAX_SIZE} pixels, not {size}")
    if source.suffix.lower() in RAW_EXTENSIONS:
        try:
            with _raw_preview(source) as image:
                image.draft("RGB", (size, size))
                image.load()
                upright = image
                if not image.getexif().get(0x0112):
                    for method in _TRANSPOSE.get(orientation or 1, ()):
                        upright = upright.transpose(method)
                else:
                    upright = ImageOps.exif_transpose(image)
                upright.thumbnail((size, size), Image.Resampling.LANCZOS)
                return upright if upright.mode == "RGB" else _flatten(upright)
        except (OSError, ValueError, SyntaxError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise MetadataError(f"no thumbnail for {source.name}: cannot decode its preview ({exc})") from exc
    if source.suffix.lower() in (".heic", ".heif", ".hif"):
        _register_heif()
    try:
        with Image.open(source) as image:
            if image.format == "JPEG":
                image.draft("RGB", (size, size))
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((size, size), Image.Resampling.LANCZOS)
            if upright.mode != "RGB":
                upright = _flatten(upright)
            return upright
    except FileNotFoundError:
        raise
    except Image.DecompressionBombError as exc:
        raise MetadataError(
            f"no thumbnail for {source.name}: image too large to decode safely ({exc})"
        ) from exc
    except UnidentifiedImageError as exc:
        raise MetadataError(f"no thumbnail for {source.name}: not an image that can be decoded") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise MetadataError(f"no thumbnail for {source.name}: cannot decode the image ({exc})") from exc


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG output; transparency goes on white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        image = image.point(lambda v: v / 256).convert("L")  # 16-bit TIFF: scale to 8 bits
    return image.convert("RGB")


def write_atomic(image: Image.Image, target: Path) -> None:
    """Save as JPEG next to the target and rename, so readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".thumb-", suffix=".jpg", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            image.save(out, "JPEG", quality=85, optimize=True)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def thumbnail_file(
    source: Path, fingerprint: str, cache_dir: Path, size: int = 256, orientation: int | None = None
) -> Path:
    """The cached thumbnail of ``source``, made now if it is not there yet."""
    target = cache_path(cache_dir, fingerprint, size)
    if target.exists():
        return target
    write_atomic(render(source, size, orientation), target)
    return target
