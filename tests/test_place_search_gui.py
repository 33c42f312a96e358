"""The place search box, standalone, against a real map page: type, pick, the map centre moves there."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, Qt  # noqa: E402

if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from geotagger.geo.place_search import PlaceSearch  # noqa: E402
from geotagger.gui.mappane import MapPane  # noqa: E402
from geotagger.gui.place_search import PlaceSearchBox  # noqa: E402
from tests.web_page import run_js  # noqa: E402


def map_view(qtbot, pane) -> dict:
    return json.loads(run_js(qtbot, pane, "JSON.stringify(geotagger.view())"))


@pytest.fixture
def pane(qtbot):
    view = MapPane()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    yield view
    view.close()
    view.deleteLater()
    qtbot.wait(10)


def test_typing_and_picking_a_place_centres_the_map(qtbot, pane) -> None:
    box = PlaceSearchBox(index=PlaceSearch.default())
    qtbot.addWidget(box)
    box.show()
    box.connect_map(pane)
    chosen = []
    box.placeChosen.connect(lambda lat, lon, name, zoom: chosen.append((lat, lon, name, zoom)))
    before = map_view(qtbot, pane)
    qtbot.keyClicks(box.edit, "lauterbr")
    qtbot.waitUntil(lambda: box.completer.popup().isVisible(), timeout=5000)
    assert [h.name for h in box.hits()] == ["Lauterbrunnen"]
    assert box.model.stringList() == ["Lauterbrunnen, Berne, Switzerland"]
    popup = box.completer.popup()
    popup.setCurrentIndex(box.completer.completionModel().index(0, 0))
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(chosen), timeout=5000)
    lat, lon, name, zoom = chosen[0]
    assert name == "Lauterbrunnen" and zoom == 13 and abs(lat - 46.593) < 0.01
    assert box.edit.text() == "Lauterbrunnen"

    def moved() -> bool:
        view = map_view(qtbot, pane)
        return abs(view["lat"] - 46.593) < 0.01 and abs(view["lon"] - 7.909) < 0.01 and view["zoom"] == 13

    qtbot.waitUntil(moved, timeout=5000)
    assert abs(before["lat"] - 46.593) > 1 and before["zoom"] < 13  # it really moved


def test_enter_takes_the_best_hit_accents_ignored_and_nothing_for_nonsense(qtbot, pane) -> None:
    box = PlaceSearchBox(index=PlaceSearch.default())
    qtbot.addWidget(box)
    box.show()
    box.connect_map(pane)
    chosen = []
    box.placeChosen.connect(lambda *args: chosen.append(args))
    box.edit.setText("zurich")  # typed without the umlaut, no popup row chosen: Enter takes the first
    qtbot.keyClick(box.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(chosen), timeout=5000)
    assert chosen[0][2] == "Zürich"
    qtbot.waitUntil(lambda: abs(map_view(qtbot, pane)["lat"] - chosen[0][0]) < 0.01, timeout=5000)
    box.edit.clear()
    qtbot.keyClicks(box.edit, "qqqxxzz")
    assert box.hits() == [] and not box.completer.popup().isVisible()
    qtbot.keyClick(box.edit, Qt.Key.Key_Return)
    assert len(chosen) == 1  # nothing found: nothing emitted, the map stays
