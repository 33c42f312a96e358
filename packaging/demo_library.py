"""Generate a small demo library: painted landscapes along a trip, half of them without GPS.

    python packaging/demo_library.py OUT_DIR

The pictures are drawn here (sky, mountains, lake, houses), so the README screenshot shows no third
party's photos. Capture times follow the trip; a "phone" geotags every other picture and a "camera"
does not, which is the situation geotagger's time evidence is built for.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.factories import make_exif  # noqa: E402  (the EXIF writer the tests use)

# (place, lat, lon, palette) along a summer trip: Alps -> lakes -> coast
STOPS = [
    ("Lauterbrunnen", 46.593, 7.909, "alpine"),
    ("Grindelwald", 46.624, 8.041, "alpine"),
    ("Interlaken", 46.686, 7.863, "lake"),
    ("Lucerne", 47.050, 8.309, "lake"),
    ("Lugano", 46.004, 8.951, "lake"),
    ("Como", 45.809, 9.085, "lake"),
    ("Portofino", 44.304, 9.209, "coast"),
    ("Cinque Terre", 44.127, 9.709, "coast"),
]
PALETTES = {
    "alpine": ((120, 170, 230), (235, 240, 250), (90, 110, 90), (60, 120, 60)),
    "lake": ((140, 185, 235), (220, 230, 245), (80, 120, 150), (70, 130, 70)),
    "coast": ((100, 170, 240), (250, 230, 200), (30, 110, 170), (200, 170, 120)),
}


def paint(kind: str, seed: int, size: tuple[int, int] = (1200, 800)) -> Image.Image:
    rng = random.Random(seed)
    sky, haze, water, ground = PALETTES[kind]
    w, h = size
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    for y in range(h // 2):  # sky gradient
        t = y / (h / 2)
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(sky, haze, strict=True)))
    horizon = int(h * rng.uniform(0.45, 0.6))
    for layer in range(3):  # mountain ridges, far to near
        shade = 150 - 40 * layer if kind == "alpine" else 170 - 30 * layer
        points = [(0, h)]
        x, peak = 0, horizon - rng.randint(60, 260 if kind == "alpine" else 90)
        while x <= w:
            points.append((x, peak + rng.randint(-40, 40) + 30 * layer))
            x += rng.randint(40, 140)
        points.append((w, h))
        draw.polygon(points, fill=(shade - 20, shade, shade + 15))
        if kind == "alpine" and layer == 0:  # snow caps
            for px, py in points[1:-1]:
                draw.polygon([(px - 25, py + 30), (px, py), (px + 25, py + 30)], fill=(245, 248, 252))
    draw.rectangle([0, horizon + 40, w, h], fill=water if kind != "alpine" else ground)
    for _ in range(rng.randint(3, 9)):  # houses
        x0 = rng.randint(0, w - 80)
        y0 = rng.randint(horizon + 50, h - 90)
        draw.rectangle([x0, y0, x0 + 60, y0 + 45], fill=(rng.randint(180, 240), rng.randint(150, 210), 140))
        draw.polygon([(x0 - 6, y0), (x0 + 30, y0 - 28), (x0 + 66, y0)], fill=(150, 60, 40))
    sun = rng.randint(80, w - 80)
    draw.ellipse([sun - 35, 60, sun + 35, 130], fill=(255, 244, 200))
    return image.filter(ImageFilter.GaussianBlur(1.2))


def build(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    when = datetime(2024, 7, 12, 9, 0)
    n = 0
    for _place, lat, lon, kind in STOPS:
        for shot in range(5):
            n += 1
            when += timedelta(minutes=random.Random(n).randint(4, 25))
            phone = shot % 2 == 0
            jitter = 0.004 * math.sin(n)
            exif = make_exif(
                lat=lat + jitter if phone else None,
                lon=lon + jitter if phone else None,
                taken=when,
                make="Phone" if phone else "Camera",
                model="P1" if phone else "X100",
            )
            name = f"{'IMG' if phone else 'DSC'}_{n:04d}.jpg"
            paint(kind, seed=n).save(out / name, "JPEG", quality=88, exif=exif)
        when += timedelta(hours=20)
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    count = build(parser.parse_args().out)
    print(f"{count} pictures written")


if __name__ == "__main__":
    main()
