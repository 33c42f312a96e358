"""The map pane with many library markers: time showLibrary and a pan/zoom sequence for 1k and 10k
photos (clustered by Leaflet.markercluster), printed with the 10k/1k ratio.

    QT_QPA_PLATFORM=offscreen QTWEBENGINE_DISABLE_SANDBOX=1 python bench/map_markers_bench.py [--sizes 1000,10000]

The points are spread like a photo library: most in a few cities, the rest along trips. Times are
wall-clock in Python for showLibrary (the JSON crosses the Qt bridge as a real call does) and in the
page (performance.now) for the view changes, which include the clustering work and the DOM updates.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def points(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    homes = [(46.948, 7.447), (48.857, 2.352), (41.390, 2.170), (45.764, 4.836), (47.377, 8.540)]
    out = []
    for i in range(n):
        lat, lon = rng.choice(homes) if rng.random() < 0.8 else (rng.uniform(36, 55), rng.uniform(-5, 20))
        out.append(
            {
                "id": i,
                "lat": lat + rng.gauss(0, 0.05),
                "lon": lon + rng.gauss(0, 0.05),
                "title": f"IMG_{i:05d}.jpg",
            }
        )
    return out


VIEWS = [
    (46.9, 7.4, 5),
    (46.9, 7.4, 8),
    (46.95, 7.45, 12),
    (48.85, 2.35, 10),
    (45.0, 5.0, 4),
    (46.9, 7.4, 14),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication([])
    from geotagger.gui.mappane import MapPane

    def wait(predicate, timeout=60.0):
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError
            app.processEvents()
            time.sleep(0.001)

    def js(view, script):
        box: list = []
        view.page().runJavaScript(script, 0, box.append)
        wait(lambda: bool(box))
        return box[0]

    results = {}
    for n in (int(s) for s in args.sizes.split(",")):
        view = MapPane()
        view.resize(1000, 700)
        view.show()
        wait(lambda view=view: view.is_ready)
        data = points(n)
        start = time.perf_counter()
        view.call("showLibrary", data)
        drawn = js(view, "geotagger.counts().library")  # runs after showLibrary returned
        show_s = time.perf_counter() - start
        assert drawn == n, drawn
        moves = json.loads(
            js(
                view,
                "JSON.stringify(" + json.dumps(VIEWS) + ".map(v => { const t = performance.now();"
                " geotagger.focus(v[0], v[1], v[2]); return performance.now() - t; }))",
            )
        )
        icons = js(view, "document.querySelectorAll('.leaflet-marker-pane .gt-dot, .gt-cluster').length")
        results[n] = (show_s, sum(moves) / len(moves), max(moves))
        print(
            f"{n:>6} photos: showLibrary {show_s * 1000:7.1f} ms; pan/zoom mean {results[n][1]:6.1f} ms,"
            f" max {results[n][2]:6.1f} ms; {icons} marker/cluster icons in the DOM at the last view"
        )
        view.close()
        view.deleteLater()
        app.processEvents()
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, big = results[sizes[0]], results[sizes[-1]]
        print(
            f"ratio {sizes[-1]}/{sizes[0]}: showLibrary x{big[0] / small[0]:.1f}, pan/zoom mean x{big[1] / max(small[1], 1e-3):.1f}"
            f" (points x{sizes[-1] / sizes[0]:.0f})"
        )


if __name__ == "__main__":
    main()
