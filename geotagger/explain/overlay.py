"""The explanation as a picture: photo + attribution heatmap + concept outlines + a legend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from geotagger.errors import UserInputError

MAX_SIDE = 1024
HEAT_ALPHA = 0.45
# A perceptually ordered dark-blue -> red -> yellow ramp (own choice of stops).
_STOPS = np.array(
    [[0.0, 20, 20, 90], [0.35, 40, 70, 200], [0.6, 220, 60, 40], [0.85, 250, 170, 30], [1.0, 255, 250, 160]],
    dtype=np.float32,
)
PALETTE = [
    (0, 200, 255),
    (255, 80, 200),
    (120, 255, 90),
    (255, 255, 255),
    (255, 150, 0),
    (150, 110, 255),
    (0, 255, 190),
    (255, 60, 60),
    (200, 200, 0),
    (80, 160, 255),
]


def heat_colours(m: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] colours of a map in [0, 1]."""
    v = np.clip(np.asarray(m, np.float32), 0.0, 1.0)
    rgb = [np.interp(v, _STOPS[:, 0], _STOPS[:, c]) for c in (1, 2, 3)]
    return np.stack(rgb, axis=-1).astype(np.uint8)


def outline(mask: np.ndarray, width: int = 2) -> np.ndarray:
    """Boolean border pixels of a mask, about ``width`` pixels thick (inside the mask)."""
    m = np.asarray(mask, bool)
    inner = m.copy()
    for _ in range(width):
        shrunk = inner.copy()
        shrunk[1:, :] &= inner[:-1, :]
        shrunk[:-1, :] &= inner[1:, :]
        shrunk[:, 1:] &= inner[:, :-1]
        shrunk[:, :-1] &= inner[:, 1:]
        inner = shrunk
    return m & ~inner


def _resize_mask(mask: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    img = Image.fromarray(np.asarray(mask, np.uint8) * 255)
    return np.asarray(img.resize(size_wh, Image.NEAREST)) > 127


def render(
    image: Image.Image,
    attribution: np.ndarray,
    masks: dict[str, np.ndarray],
    concepts: list[tuple[str, float, float]] | None = None,
    title: str = "",
) -> Image.Image:
    """The overlay image (at most MAX_SIDE px), concepts outlined in the legend's colours."""
    photo = image.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(photo.size))
    size = (max(1, round(photo.size[0] * scale)), max(1, round(photo.size[1] * scale)))
    photo = photo.resize(size, Image.BILINEAR)
    amap = Image.fromarray(np.asarray(attribution, np.float32), mode="F").resize(size, Image.BILINEAR)
    heat = Image.fromarray(heat_colours(np.asarray(amap)))
    out = np.asarray(Image.blend(photo, heat, HEAT_ALPHA)).copy()
    order = [c[0] for c in concepts] if concepts else sorted(masks)
    order += [n for n in sorted(masks) if n not in order]
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(order)}
    for name in order:
        if name in masks:
            out[outline(_resize_mask(masks[name], size), max(1, size[0] // 400))] = colours[name]
    canvas = Image.fromarray(out)
    _legend(canvas, order, colours, {c[0]: c[1] for c in concepts or []}, title)
    return canvas


TEXT_COLOUR = (255, 40, 40)


def render_text_boxes(
    image: Image.Image,
    boxes: list[tuple[int, int, int, int]],
    boxes_size: tuple[int, int],
    title: str = "",
) -> Image.Image:
    """The photo (at most MAX_SIDE px) with the text regions a candidate rests on outlined; ``boxes`` are
    in pixels of an image of ``boxes_size`` (w, h): the decoded size OCR read, rescaled to this one."""
    photo = image.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(photo.size))
    size = (max(1, round(photo.size[0] * scale)), max(1, round(photo.size[1] * scale)))
    canvas = photo.resize(size, Image.BILINEAR)
    draw = ImageDraw.Draw(canvas)
    bw, bh = boxes_size
    if bw <= 0 or bh <= 0:
        raise UserInputError("the text regions carry no image size to place them on the photo")
    width = max(2, size[0] // 250)
    for x0, y0, x1, y1 in boxes:
        rect = [x0 * size[0] / bw, y0 * size[1] / bh, x1 * size[0] / bw, y1 * size[1] / bh]
        draw.rectangle(rect, outline=TEXT_COLOUR, width=width)
    _legend(canvas, ["text read"], {"text read": TEXT_COLOUR}, {}, title)
    return canvas


def _legend(
    canvas: Image.Image, names: list[str], colours: dict, values: dict[str, float], title: str
) -> None:
    draw = ImageDraw.Draw(canvas, "RGBA")
    font = ImageFont.load_default()
    lines = ([title] if title else []) + [f"{n}  {values[n]:.2f}" if n in values else n for n in names[:12]]
    if not lines:
        return
    line_h = 14
    width = max(int(draw.textlength(t, font=font)) for t in lines) + 24
    draw.rectangle([4, 4, 8 + width, 8 + line_h * len(lines)], fill=(0, 0, 0, 150))
    y = 6
    for i, text in enumerate(lines):
        name = names[i - (1 if title else 0)] if (i > 0 or not title) else None
        if name is not None:
            draw.rectangle([8, y + 3, 16, y + 11], fill=colours[name])
        draw.text((20 if name is not None else 8, y), text, fill=(255, 255, 255), font=font)
        y += line_h


def save(image: Image.Image, path: str | Path) -> Path:
    """Write the overlay as PNG (the parent folder must exist)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UserInputError(f"overlay must be a .png file, not {path.name}")
    if not path.parent.is_dir():
        raise UserInputError(f"folder {path.parent} does not exist")
    image.save(path, "PNG")
    return path
