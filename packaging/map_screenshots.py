"""Screenshots of the offline map pane over a city at several zooms, light and dark, to look at.

    python packaging/map_screenshots.py [--out DIR] [--lat 46.948 --lon 7.447] [--zooms 5,9,12]

Writes map-<theme>-z<zoom>.png and map-<theme>-candidates.png (three close candidates and an outline).
Runs offscreen when no display is set (QT_QPA_PLATFORM=offscreen); in Xvfb with ``xvfb-run``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DARK_ROLES = {
    "Window": "#2b2b2d",
    "WindowText": "#e6e6e6",
    "Base": "#1f1f21",
    "Text": "#e6e6e6",
    "Button": "#353538",
    "ButtonText": "#e6e6e6",
    "Highlight": "#3d7fd9",
    "Mid": "#5a5a5e",
}


def _wait(app, predicate, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("map page did not get ready")
        app.processEvents()
        time.sleep(0.01)


def _js(app, view, script: str):
    box: list = []
    view.page().runJavaScript(script, 0, box.append)
    _wait(app, lambda: bool(box))
    return box[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("map-screens"))
    parser.add_argument("--lat", type=float, default=46.948)
    parser.add_argument("--lon", type=float, default=7.447)
    parser.add_argument("--zooms", default="5,9,12")
    parser.add_argument("--size", default="1000x700")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication([])
    from geotagger.gui.mappane import MapPane

    args.out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.split("x"))
    light = QPalette(app.palette())
    for theme in ("light", "dark"):
        palette = QPalette(light)
        if theme == "dark":
            for role, color in DARK_ROLES.items():
                palette.setColor(getattr(QPalette.ColorRole, role), QColor(color))
        app.setPalette(palette)
        view = MapPane()
        view.resize(width, height)
        view.show()
        _wait(app, lambda view=view: view.is_ready)
        for zoom in (int(z) for z in args.zooms.split(",")):
            view.call("focus", args.lat, args.lon, zoom)
            time.sleep(0.2)
            _wait(
                app,
                lambda view=view, z=zoom: (
                    len(_js(app, view, "JSON.stringify(geotagger.labels())")) > 2
                    and json.loads(_js(app, view, "JSON.stringify(geotagger.view())"))["zoom"] == z
                ),
            )
            for _ in range(60):  # let lazily loaded layers arrive and paint
                app.processEvents()
                time.sleep(0.02)
            labels = json.loads(_js(app, view, "JSON.stringify(geotagger.labels())"))
            path = args.out / f"map-{theme}-z{zoom}.png"
            view.grab().save(str(path))
            print(f"{path}: {len(labels)} labels, e.g. {', '.join(x['name'] for x in labels[:6])}")
        d = 0.002  # about 200 m: the markers would overlap at the fitted zoom
        view.call(
            "showCandidates",
            {
                "photo": {"id": 1, "title": "IMG_0001.jpg", "lat": None, "lon": None},
                "candidates": [
                    {
                        "index": i,
                        "lat": args.lat + d * (i % 2),
                        "lon": args.lon + d * (i // 2),
                        "radius_km": r,
                        "label": name,
                        "level": "city",
                        "confidence": c,
                        "source": "time",
                    }
                    for i, (name, r, c) in enumerate(
                        [("Bern", 3, 0.55), ("Köniz", 4, 0.25), ("Ostermundigen", 5, 0.2)]
                    )
                ]
                + [
                    {
                        "index": 3,
                        "lat": 43.3,
                        "lon": 5.4,
                        "radius_km": 20,
                        "label": "Marseille",
                        "level": "region",
                        "confidence": 0.05,
                        "source": "library",
                    }
                ],
                "fit": True,
            },
        )
        for _ in range(60):
            app.processEvents()
            time.sleep(0.02)
        path = args.out / f"map-{theme}-candidates.png"
        view.grab().save(str(path))
        print(path, _js(app, view, "JSON.stringify(geotagger.candidateLayout())"))
        view.close()
        view.deleteLater()
        app.processEvents()


if __name__ == "__main__":
    main()
