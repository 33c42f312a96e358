"""The map pane for real: QtWebEngine loads the offline page, Leaflet runs, markers appear, and the
QWebChannel bridge carries clicks back to Python."""

from __future__ import annotations

import json
import logging

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, Qt  # noqa: E402

if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from geotagger.gui.mappane import MapPane  # noqa: E402


def run_js(qtbot, view, script: str):
    """Evaluate ``script`` in the page and wait for its result."""
    box: list = []
    view.page().runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10000)
    return box[0]


@pytest.fixture
def pane(qtbot):
    view = MapPane()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    yield view
    view.close()
    view.deleteLater()  # the page must go before the app tears down its web profile
    qtbot.wait(10)


def test_page_loads_leaflet_and_shows_markers(qtbot, pane) -> None:
    assert run_js(qtbot, pane, "typeof L") == "object"
    assert run_js(qtbot, pane, "L.version") == "1.9.3"
    points = [{"id": i, "lat": 46 + i * 0.1, "lon": 7 + i * 0.1, "title": f"IMG_{i}.jpg"} for i in range(7)]
    pane.call("showLibrary", points)
    pane.call(
        "showCandidates",
        {
            "photo": {"id": 99, "title": "x.jpg", "lat": None, "lon": None},
            "candidates": [
                {
                    "index": 0,
                    "lat": 46.5,
                    "lon": 7.5,
                    "radius_km": 3,
                    "label": "Bern",
                    "level": "city",
                    "confidence": 0.8,
                    "source": "time",
                },
                {
                    "index": 1,
                    "lat": 47.4,
                    "lon": 8.5,
                    "radius_km": 30,
                    "label": "Zurich",
                    "level": "region",
                    "confidence": 0.2,
                    "source": "library",
                },
            ],
            "fit": True,
        },
    )
    counts = json.loads(run_js(qtbot, pane, "JSON.stringify(geotagger.counts())"))
    assert counts == {"library": 7, "candidates": 2}
    # Offline basemap drawn: the Natural Earth countries are SVG paths.
    assert run_js(qtbot, pane, "document.querySelectorAll('.leaflet-overlay-pane path').length") > 200
    # Candidate markers are numbered for the 1-5 keys.
    square = {"type": "Polygon", "coordinates": [[[7, 46], [8, 46], [8, 47], [7, 47], [7, 46]]]}
    pane.call("showOutline", square)
    dashed = "document.querySelectorAll('.leaflet-overlay-pane path.gt-outline').length"
    qtbot.waitUntil(lambda: run_js(qtbot, pane, dashed) == 1, timeout=5000)
    labels = run_js(
        qtbot, pane, "Array.from(document.querySelectorAll('.gt-cand')).map(e => e.textContent).join()"
    )
    assert labels == "1,2"


def test_bridge_carries_clicks_drags_and_picks(qtbot, pane) -> None:
    clicks, drags, picks = [], [], []
    pane.bridge.clicked.connect(lambda lat, lon: clicks.append((lat, lon)))
    pane.bridge.dragged.connect(lambda pid, lat, lon: drags.append((pid, lat, lon)))
    pane.bridge.candidate_picked.connect(picks.append)
    run_js(
        qtbot,
        pane,
        "geotagger.bridge.mapClicked(46.25, 7.5); geotagger.bridge.markerDragged(5, -33.9, 151.2);"
        "geotagger.bridge.candidatePicked(2); geotagger.bridge.mapClicked(123, 7); 1",
    )
    qtbot.waitUntil(lambda: bool(clicks and drags and picks), timeout=5000)
    assert clicks == [(46.25, 7.5)]  # the out-of-range click was refused by the bridge
    assert drags == [(5, -33.9, 151.2)]
    assert picks == [2]


def test_real_click_on_the_map_reaches_python(qtbot, pane) -> None:
    clicks = []
    pane.bridge.clicked.connect(lambda lat, lon: clicks.append((lat, lon)))
    # A synthetic Leaflet click at a known pixel: the page converts it to a coordinate.
    run_js(
        qtbot,
        pane,
        "var m = geotagger.bridge && Object.values(window).find(v => v instanceof L.Map);"
        "m.fire('click', {latlng: m.containerPointToLatLng([350, 250])}); 1",
    )
    qtbot.waitUntil(lambda: bool(clicks), timeout=5000)
    lat, lon = clicks[0]
    assert -90 <= lat <= 90 and -180 <= lon <= 180


def test_only_whitelisted_functions_and_console_to_logging(qtbot, pane, caplog) -> None:
    with pytest.raises(ValueError):
        pane.call("eval", "alert(1)")
    with caplog.at_level(logging.INFO, logger="geotagger.gui.map.js"):
        run_js(qtbot, pane, "console.warn('hello from the page'); geotagger.bridge.jsLog('error', 'boom'); 1")
        qtbot.waitUntil(lambda: "boom" in caplog.text and "hello from the page" in caplog.text, timeout=5000)
    levels = {r.getMessage().split(" (")[0]: r.levelno for r in caplog.records}
    assert levels["boom"] == logging.ERROR and levels["hello from the page"] == logging.WARNING
