"""Decoding and preprocessing photos for a model pack's backbone.

Speed matters most here: a 12 MP JPEG takes ~126 ms to decode fully but ~24 ms with Pillow's draft
mode (DCT-domain downscaling to the smallest scale that still covers the target size). Every format
ends as uint8 crops [k, S, S, 3] (k = 1, or 5 for five-crop TTA); normalisation to float happens in
batches in the consumer (``normalize``), which is cheaper than per image and keeps worker results small.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from geotagger.errors import GeotaggerError
from geotagger.imaging import apply_orientation, is_raw, on_white, open_decoded, raw_preview

_RESAMPLE = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}


class ImageDecodeError(GeotaggerError):
    """A photo could not be decoded into model input (recorded per file; the batch goes on)."""


@dataclass(frozen=True)
class PreprocessSpec:
    """What the card asks for: shorter side resized to ``resize_size``, centre crop ``input_size``."""

    input_size: int
    resize_size: int
    interpolation: str = "bilinear"
    five_crop: bool = False

    @classmethod
    def from_card(cls, card: dict[str, Any], *, five_crop: bool = False) -> PreprocessSpec:
        return cls(
            input_size=int(card["input_size"]),
            resize_size=int(card["resize_size"]),
            interpolation=str(card.get("interpolation", "bilinear")),
            five_crop=five_crop,
        )

    @property
    def crops(self) -> int:
        return 5 if self.five_crop else 1


def open_image(path: str | Path, min_side: int) -> Image.Image:
    """Open any supported photo, decoding at the smallest scale whose shorter side >= min_side.

    The EXIF orientation is *not* applied here (see ``orientation_of``); it is applied after resizing,
    where it is cheap.
    """
    path = Path(path)
    if is_raw(path):
        preview = raw_preview(path, min_side)
        if preview is None:
            raise ImageDecodeError(f"{path.name}: no embedded JPEG preview found in this RAW file")
        return preview
    return open_decoded(path, min_side)


def orientation_of(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # malformed EXIF must not stop the photo from being located
        return 1
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB 8-bit from any mode (16-bit greyscale, palette, alpha, CMYK)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float32)
        top = float(arr.max()) or 1.0
        scale = 255.0 / (65535.0 if top > 255 else 255.0)
        return Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return on_white(image)
    return image.convert("RGB")


def crop_boxes(width: int, height: int, size: int, five: bool) -> list[tuple[int, int, int, int]]:
    """Centre crop, or the four corners + centre (order: centre first)."""
    left, top = (width - size) // 2, (height - size) // 2
    boxes = [(left, top, left + size, top + size)]
    if five:
        boxes += [
            (0, 0, size, size),
            (width - size, 0, width, size),
            (0, height - size, size, height),
            (width - size, height - size, width, height),
        ]
    return boxes


def preprocess_image(image: Image.Image, spec: PreprocessSpec, orientation: int = 1) -> np.ndarray:
    """Resize the shorter side to resize_size, apply orientation, crop: uint8 [k, S, S, 3]."""
    image = to_rgb(image)
    width, height = image.size
    scale = spec.resize_size / min(width, height)
    new_size = (max(spec.resize_size, round(width * scale)), max(spec.resize_size, round(height * scale)))
    if new_size != image.size:
        resample = _RESAMPLE.get(spec.interpolation, Image.Resampling.BILINEAR)
        image = image.resize(new_size, resample, reducing_gap=3.0)
    image = apply_orientation(image, orientation)
    boxes = crop_boxes(image.size[0], image.size[1], spec.input_size, spec.five_crop)
    return np.stack([np.asarray(image.crop(box), dtype=np.uint8) for box in boxes])


def load_and_preprocess(path: str | Path, spec: PreprocessSpec) -> np.ndarray:
    """Decode one photo into model crops; ImageDecodeError with a one-line reason on failure."""
    with decode_errors(path):
        image = open_image(path, spec.resize_size)
        orientation = orientation_of(image)
        return preprocess_image(image, spec, orientation)


@contextmanager
def decode_errors(path: str | Path) -> Iterator[None]:
    """Whatever decoding ``path`` raises, as an ImageDecodeError with a one-line reason (without the
    path: every report that shows the reason already names the file)."""
    try:
        yield
    except ImageDecodeError:
        raise
    except FileNotFoundError as exc:
        raise ImageDecodeError("file not found") from exc
    except Exception as exc:  # Pillow raises many types for corrupt/unsupported files
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageDecodeError(f"cannot decode ({message})") from exc


def decode_chunk(
    items: list[tuple[int, str]], spec: PreprocessSpec
) -> tuple[list[int], np.ndarray | None, list[tuple[int, str]]]:
    """Worker entry point: decode a chunk; returns (ok indices, uint8 [n, k, S, S, 3], errors)."""
    ok: list[int] = []
    arrays: list[np.ndarray] = []
    errors: list[tuple[int, str]] = []
    for index, path in items:
        try:
            arrays.append(load_and_preprocess(path, spec))
            ok.append(index)
        except ImageDecodeError as exc:
            errors.append((index, str(exc)))
    return ok, (np.stack(arrays) if arrays else None), errors


def normalize(batch: np.ndarray, mean: list[float], std: list[float]) -> np.ndarray:
    """uint8 [n, S, S, 3] -> float32 [n, 3, S, S] as (x / 255 - mean) / std."""
    scale = (1.0 / (255.0 * np.asarray(std, dtype=np.float32))).reshape(1, 3, 1, 1)
    offset = (np.asarray(mean, dtype=np.float32) / np.asarray(std, dtype=np.float32)).reshape(1, 3, 1, 1)
    out = batch.transpose(0, 3, 1, 2).astype(np.float32)
    out *= scale
    out -= offset
    return np.ascontiguousarray(out)
