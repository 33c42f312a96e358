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
from tests.web_page import run_js  # noqa: E402


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


def view_of(qtbot, pane) -> dict:
    return json.loads(run_js(qtbot, pane, "JSON.stringify(geotagger.view())"))


def labels_at(qtbot, pane, lat: float, lon: float, zoom: int) -> list[dict]:
    """The place labels on screen once the map sits at (lat, lon, zoom) and its lazy layers arrived."""
    pane.call("focus", lat, lon, zoom)
    qtbot.waitUntil(lambda: view_of(qtbot, pane)["zoom"] == zoom, timeout=5000)
    found: list = []

    def some() -> bool:
        found[:] = json.loads(run_js(qtbot, pane, "JSON.stringify(geotagger.labels())"))
        return bool(found) and all(x["zoom"] == zoom for x in found)

    qtbot.waitUntil(some, timeout=10000)
    return found


def test_offline_map_labels_places_by_zoom(qtbot, pane) -> None:
    """Over Bern at zoom 5, 9 and 12: the big cities first, towns as the map zooms in; all offline."""
    z5 = labels_at(qtbot, pane, 46.948, 7.447, 5)
    names5 = {x["name"] for x in z5}
    assert {"Paris", "Milan"} & names5 and "Switzerland" in names5
    assert "Köniz" not in names5  # a town of 40k is not drawn at country scale
    z9 = {x["name"] for x in labels_at(qtbot, pane, 46.948, 7.447, 9)}
    assert {"Bern", "Thun", "Fribourg"} <= z9
    z12 = labels_at(qtbot, pane, 46.948, 7.447, 12)
    names12 = {x["name"] for x in z12}
    assert {"Bern", "Köniz", "Ittigen", "Muri"} <= names12 and len(names12) >= 10
    # The DOM holds them as labels; none overlaps another (thinning by screen box).
    dom = json.loads(
        run_js(
            qtbot,
            pane,
            "JSON.stringify(Array.from(document.querySelectorAll('.gt-place .gt-place-name'))"
            ".map(e => e.textContent))",
        )
    )
    assert set(dom) == names12
    boxes = json.loads(
        run_js(
            qtbot,
            pane,
            "JSON.stringify(Array.from(document.querySelectorAll('.gt-place-name')).map(e => {"
            "const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }))",
        )
    )
    overlaps = [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1
    ]
    assert not overlaps
    # Detail layers came from local files: lakes, rivers and admin-1 borders are loaded at this zoom.
    layers = run_js(qtbot, pane, "geotaggerLayers.loadedLayers().join()")
    assert {"admin1", "lakes", "rivers", "rivers-more", "places-6"} <= set(layers.split(","))
    attribution = run_js(qtbot, pane, "document.querySelector('.leaflet-control-attribution').textContent")
    assert "Natural Earth" in attribution and "GeoNames" in attribution and "OSM" in attribution


def _candidates(spread: float, far: bool = True) -> dict:
    cands = [
        {
            "index": i,
            "lat": 46.95 + spread * i,
            "lon": 7.45,
            "radius_km": 2,
            "label": f"C{i}",
            "level": "city",
            "confidence": c,
            "source": "time",
        }
        for i, c in enumerate([0.5, 0.3, 0.1])
    ]
    if far:
        cands.append(
            {
                "index": 3,
                "lat": 43.3,
                "lon": 5.4,
                "radius_km": 20,
                "label": "Marseille",
                "level": "region",
                "confidence": 0.04,
                "source": "library",
            }
        )
    return {"photo": {"id": 7, "title": "x.jpg", "lat": None, "lon": None}, "candidates": cands, "fit": True}


def layout(qtbot, pane) -> list[dict]:
    return json.loads(run_js(qtbot, pane, "JSON.stringify(geotagger.candidateLayout())"))


def test_close_candidates_are_moved_aside_with_best_on_top(qtbot, pane) -> None:
    pane.call("showCandidates", _candidates(0.0005))  # about 50 m apart: one pixel spot at any fit
    qtbot.waitUntil(lambda: len(layout(qtbot, pane)) == 4, timeout=5000)
    placed = {c["index"]: c for c in layout(qtbot, pane)}
    assert placed[0]["offset"] == [0, 0]  # the best stays on its point
    assert placed[1]["offset"] != [0, 0] and placed[2]["offset"] != [0, 0]
    assert placed[1]["offset"] != placed[2]["offset"]
    assert placed[0]["zIndex"] > placed[1]["zIndex"] and placed[0]["zIndex"] > placed[2]["zIndex"]
    boxes = json.loads(
        run_js(
            qtbot,
            pane,
            "JSON.stringify(Array.from(document.querySelectorAll('.gt-cand')).map(e => {"
            "const r = e.getBoundingClientRect(); return [e.textContent, r.left, r.top]; }))",
        )
    )
    near = [b for b in boxes if b[0] in "123"]
    for i, a in enumerate(near):
        for b in near[i + 1 :]:
            assert abs(a[1] - b[1]) >= 20 or abs(a[2] - b[2]) >= 20, (a, b)  # none hides another
    assert run_js(qtbot, pane, "document.querySelectorAll('path.gt-cand-leader').length") == 2


def test_fit_shows_comparable_candidates_not_a_far_unlikely_one(qtbot, pane) -> None:
    pane.call("showCandidates", _candidates(0.02))
    qtbot.waitUntil(lambda: len(layout(qtbot, pane)) == 4, timeout=5000)
    placed = {c["index"]: c for c in layout(qtbot, pane)}
    assert placed[0]["inView"] and placed[1]["inView"]  # 0.3 is comparable to 0.5
    assert not placed[3]["inView"]  # 4% in Marseille is drawn but not fitted
    assert view_of(qtbot, pane)["zoom"] >= 10  # the best one is not a dot at country scale


def test_outline_is_cleared_when_the_next_photo_has_no_candidates(qtbot, pane) -> None:
    pane.call("showCandidates", _candidates(0.02, far=False))
    square = {"type": "Polygon", "coordinates": [[[7, 46], [8, 46], [8, 47], [7, 47], [7, 46]]]}
    pane.call("showOutline", square)
    dashed = "document.querySelectorAll('path.gt-outline').length"
    qtbot.waitUntil(lambda: run_js(qtbot, pane, dashed) == 1, timeout=5000)
    pane.call(
        "showCandidates",
        {"photo": {"id": 8, "title": "y.jpg", "lat": 46.9, "lon": 7.4}, "candidates": [], "fit": False},
    )
    qtbot.waitUntil(lambda: run_js(qtbot, pane, dashed) == 0, timeout=5000)
    assert view_of(qtbot, pane)["outline"] is False
    assert layout(qtbot, pane) == []


def test_exported_album_page_draws_the_same_labels_offline(qtbot, tmp_path) -> None:
    """The album export's map.html (no Qt bridge, opened from disk) loads the layers next to it."""
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from geotagger.maps import MapPoint, build_map_page

    html = build_map_page(tmp_path / "album" / "map.html", [MapPoint(46.95, 7.45, "IMG_1.jpg", id=1)])
    view = QWebEngineView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    loaded = []
    view.loadFinished.connect(loaded.append)
    view.load(QUrl.fromLocalFile(str(html)))
    view.show()
    qtbot.waitUntil(lambda: bool(loaded), timeout=20000)
    assert loaded == [True]
    run_js(qtbot, view, "geotagger.focus(46.948, 7.447, 9); 1")
    names: list = []

    def some() -> bool:
        names[:] = [x["name"] for x in json.loads(run_js(qtbot, view, "JSON.stringify(geotagger.labels())"))]
        return bool(names)

    qtbot.waitUntil(some, timeout=10000)
    assert {"Bern", "Thun"} <= set(names)
    view.close()
    view.deleteLater()
    qtbot.wait(10)
