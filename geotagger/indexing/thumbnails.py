"""Thumbnails on demand, cached as JPEG files keyed by content fingerprint and size.

The key is the fingerprint, not the path, so a moved photo keeps its cached thumbnail and an edited
one gets a new thumbnail. JPEGs decode in draft mode (DCT-domain downscaling: ~5x faster for large
photos); EXIF orientation is applied so thumbnails stand the right way up.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from geotagger.errors import MetadataError, UserInputError
from geotagger.imaging import apply_orientation, is_raw, on_white, open_decoded, raw_preview

MIN_SIZE, MAX_SIZE = 16, 4096


def cache_path(cache_dir: Path, fingerprint: str, size: int) -> Path:
    """Where the thumbnail of this content at this size lives (two-level fan-out keeps folders small)."""
    return cache_dir / fingerprint[:2] / f"{fingerprint}-{size}.jpg"


def render(source: Path, size: int, orientation: int | None = None) -> Image.Image:
    """Decode ``source`` into an RGB image whose longer side is at most ``size``, upright.

    ``orientation`` (from the catalog) is applied to RAW previews, which often carry no EXIF of their own.
    Any failure to decode this one file (Pillow and its plugins raise OSError, ValueError, SyntaxError,
    RuntimeError from libheif, struct.error, ...) is a MetadataError naming the file; only a missing
    file stays FileNotFoundError.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise UserInputError(f"thumbnail size must be between {MIN_SIZE} and {MAX_SIZE} pixels, not {size}")
    try:
        image = _render_raw(source, size, orientation) if is_raw(source) else _render_image(source, size)
    except (FileNotFoundError, MetadataError):
        raise
    except Image.DecompressionBombError as exc:
        raise MetadataError(
            f"no thumbnail for {source.name}: image too large to decode safely ({exc})"
        ) from exc
    except UnidentifiedImageError as exc:
        raise MetadataError(f"no thumbnail for {source.name}: not an image that can be decoded") from exc
    except MemoryError as exc:
        raise MetadataError(f"no thumbnail for {source.name}: not enough memory to decode it") from exc
    except Exception as exc:  # a decoder's error on this file's bytes, whatever its type
        raise MetadataError(
            f"no thumbnail for {source.name}: cannot decode the image ({type(exc).__name__}: {str(exc).strip()})"
        ) from exc
    if image.width < 1 or image.height < 1:
        raise MetadataError(
            f"no thumbnail for {source.name}: the image is {image.width}x{image.height} pixels"
        )
    return image


def _render_raw(source: Path, size: int, orientation: int | None) -> Image.Image:
    preview = raw_preview(source, size)
    if preview is None:
        raise MetadataError(f"no thumbnail for {source.name}: this RAW file has no embedded JPEG preview")
    with preview as image:
        if not image.getexif().get(0x0112):
            upright = apply_orientation(image, orientation or 1)
        else:
            upright = ImageOps.exif_transpose(image)
        upright.thumbnail((size, size), Image.Resampling.LANCZOS)
        return upright if upright.mode == "RGB" else _flatten(upright)


def _render_image(source: Path, size: int) -> Image.Image:
    with open_decoded(source, size) as image:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((size, size), Image.Resampling.LANCZOS)
        return upright if upright.mode == "RGB" else _flatten(upright)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG output; transparency goes on white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        return on_white(image)
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
