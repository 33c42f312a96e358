"""Render the app icon's PNG sizes from its SVG, so launchers that do not read SVG get a sharp icon.

    python packaging/build_icons.py

Reads resources/desktop/icons/io.github.geotagger.Geotagger.svg and writes
resources/desktop/icons/<size>/io.github.geotagger.Geotagger.png for every size in SIZES (the PNGs are
committed; rerun after editing the SVG). Uses Qt's SVG renderer offscreen, so no display is needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "desktop" / "icons"
APP_ID = "io.github.geotagger.Geotagger"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def render(svg: Path, out_dir: Path, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    """Write one antialiased PNG per size with a transparent background; returns the paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"not a valid SVG: {svg}")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = out_dir / f"{size}x{size}" / f"{svg.stem}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target), "PNG"):
            raise SystemExit(f"could not write {target}")
        written.append(target)
    return written


def main() -> int:
    for path in render(ICONS / f"{APP_ID}.svg", ICONS):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
