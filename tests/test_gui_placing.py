"""Placing through the real window and map page (offscreen): drop the grid's selection on the map,
copy/paste a location, place the selection like the current photo; each is a journaled decision that
Ctrl+Z takes back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, QItemSelectionModel, QPoint, QPointF, Qt  # noqa: E402

if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import select  # noqa: E402

from geotagger.catalog import Decision, Photo  # noqa: E402
from geotagger.gui.dnd import PHOTO_MIME, photo_ids  # noqa: E402
from geotagger.gui.placing import parse_location  # noqa: E402
from geotagger.gui.settings import AppSettings  # noqa: E402
from geotagger.gui.window import MainWindow  # noqa: E402
from tests.test_gui_browse import fill_catalog  # noqa: E402
from tests.web_page import run_js  # noqa: E402


@pytest.fixture
def window(qtbot, library, tmp_path: Path):
    ids = fill_catalog(library, tmp_path / "photos")
    win = MainWindow(library, AppSettings(str(tmp_path / "settings.ini")), check_tiles=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.map.is_ready, timeout=20000)
    win.ids = ids
    return win


def _idle(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: not win.tasks.is_busy(), timeout=30000)


def _live_decision(lib, photo_id: int) -> Decision | None:
    with lib.catalog.reader() as session:
        return session.scalars(
            select(Decision)
            .where(Decision.photo_id == photo_id, Decision.undone_at.is_(None))
            .order_by(Decision.id.desc())
        ).first()


def _select(win: MainWindow, photo_ids_: list[int]) -> None:
    selection = win.grid.selectionModel()
    win.select_photo(photo_ids_[0])
    for pid in photo_ids_[1:]:
        selection.select(win.model.index(win.model.row_of(pid)), QItemSelectionModel.SelectionFlag.Select)


def test_drop_the_selection_on_the_map_places_it(qtbot, window, library) -> None:
    targets = window.ids["nogps"][2:4]
    _select(window, targets)
    assert sorted(window.browser.selected_ids()) == sorted(targets)
    indexes = window.grid.selectionModel().selectedIndexes()
    mime = window.model.mimeData(indexes)
    assert mime.hasFormat(PHOTO_MIME) and sorted(photo_ids(mime)) == sorted(targets)

    run_js(qtbot, window.map, "geotagger.focus(46.8, 8.2, 9); 1")
    point = QPoint(window.map.width() // 3, window.map.height() // 2)
    expected = json.loads(
        run_js(qtbot, window.map, f"JSON.stringify(geotagger.latLngAt({point.x()}, {point.y()}))")
    )
    target = window.map.focusProxy() or window.map
    pos = QPointF(target.mapFrom(window.map, point))
    action = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), action, mime, buttons, mods)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(target, QDragMoveEvent(pos.toPoint(), action, mime, buttons, mods))
    drop = QDropEvent(pos, action, mime, buttons, mods)
    QApplication.sendEvent(target, drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: all(_live_decision(library, t) is not None for t in targets), timeout=15000)
    _idle(qtbot, window)
    for pid in targets:
        decision = _live_decision(library, pid)
        assert decision.level == "exact" and decision.source == "manual"
        assert (decision.lat, decision.lon) == pytest.approx(tuple(expected), abs=1e-9)
    with library.catalog.reader() as session:
        assert {session.get(Photo, t).review_state for t in targets} == {"accepted"}

    # One drop is one history entry; Ctrl+Z takes it back.
    qtbot.waitUntil(lambda: window.act_undo.text() == "Undo placing of 2 photos", timeout=10000)
    window.undo()
    _idle(qtbot, window)
    qtbot.waitUntil(lambda: window.act_undo.text() == "Undo", timeout=10000)
    assert all(_live_decision(library, t) is None for t in targets)


def test_copy_paste_and_place_like(qtbot, window, library) -> None:
    source = window.ids["gps"][1]
    window.select_photo(source)
    qtbot.keyClick(
        window.grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    copied = QGuiApplication.clipboard().text()
    lat, lon = parse_location(copied)
    assert (lat, lon) == pytest.approx(
        (window.current_details.gps_lat, window.current_details.gps_lon), abs=1e-6
    )

    target = window.ids["nogps"][5]
    window.select_photo(target)
    qtbot.keyClick(
        window.grid, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    _idle(qtbot, window)
    decision = _live_decision(library, target)
    assert decision.level == "exact" and decision.source == "manual"
    assert decision.lat == pytest.approx(lat, abs=1e-6) and decision.lon == pytest.approx(lon, abs=1e-6)

    # A coordinate pair from elsewhere (a map site) pastes too.
    QGuiApplication.clipboard().setText("-33.8568, 151.2153")
    other = window.ids["nogps"][6]
    window.select_photo(other)
    window.placing.act_paste.trigger()
    _idle(qtbot, window)
    assert (_live_decision(library, other).lat, _live_decision(library, other).lon) == pytest.approx(
        (-33.8568, 151.2153)
    )

    # Place like: the other selected photos go where the current (last chosen) photo is.
    followers = window.ids["nogps"][7:9]
    _select(window, [*followers, target])
    selection = window.grid.selectionModel()
    selection.setCurrentIndex(
        window.model.index(window.model.row_of(target)), QItemSelectionModel.SelectionFlag.Select
    )
    _idle(qtbot, window)
    assert window.placing.act_like.isEnabled()
    assert window.placing.act_like.text() == f"Place like {window.current_details.filename}"
    window.placing.act_like.trigger()
    _idle(qtbot, window)
    for pid in followers:
        placed = _live_decision(library, pid)
        assert (placed.lat, placed.lon) == pytest.approx((lat, lon), abs=1e-6)


def test_drop_of_anything_else_is_not_taken(qtbot, window) -> None:
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setText("[1, 2]")
    assert photo_ids(mime) == []
    bad = QMimeData()
    bad.setData(PHOTO_MIME, b'["1", true]')
    assert photo_ids(bad) == []
    assert parse_location("not a place") is None and parse_location("95, 10") is None


def test_a_placed_photo_shows_on_the_map_and_its_marker_moves_it(qtbot, window, library) -> None:
    target = window.ids["nogps"][3]
    window.select_photo(target)
    shown = len(window.current_details.candidates)
    window.place([target], 46.6, 7.9)
    _idle(qtbot, window)
    window.select_photo(target)
    # The candidates, and the photo where it was placed.
    counts = json.dumps({"library": 13, "candidates": shown + 1}, separators=(",", ":"))
    qtbot.waitUntil(
        lambda: run_js(qtbot, window.map, "JSON.stringify(geotagger.counts())") == counts, timeout=10000
    )
    run_js(qtbot, window.map, f"geotagger.bridge.markerDragged({target}, 46.7, 8.1); 1")  # the user drags it
    qtbot.waitUntil(lambda: _live_decision(library, target).lat == pytest.approx(46.7), timeout=10000)
    _idle(qtbot, window)
    assert _live_decision(library, target).lon == pytest.approx(8.1)
    qtbot.waitUntil(
        lambda: window.act_undo.text() == f"Undo placing of {window.current_details.filename}", timeout=10000
    )


def test_place_search_in_the_toolbar_keeps_its_keys(qtbot, window, library) -> None:
    """Typing a place name (letters J, K, M, digits, Enter) must not review, pick or accept photos."""
    target = window.ids["nogps"][5]
    window.select_photo(target)
    before = window.current_id
    edit = window.place_search.edit
    edit.setFocus()
    qtbot.keyClicks(edit, "Jungfrau km 1")  # J, K, M and 1 are review shortcuts outside the box
    window.place_search.completer.popup().hide()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)  # Backspace rejects outside the box
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # Enter accepts outside the box
    _idle(qtbot, window)
    assert edit.text() == "Jungfrau km " and window.current_id == before
    assert _live_decision(library, target) is None  # Enter in the box chose a place, it accepted nothing
    chosen = []
    window.place_search.placeChosen.connect(lambda *args: chosen.append(args))
    window.place_search.completer.popup().hide()
    edit.setText("Bern")  # no popup row chosen: Enter takes the best hit
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(chosen), timeout=20000)
    assert chosen[0][2].startswith("Bern")
    assert "Ctrl+Shift+H places the selected photos there" in window.statusBar().currentMessage()


def test_place_the_selection_at_a_searched_place(qtbot, window, library) -> None:
    """Search "Lauterbrunnen", Enter: the map centres there and Ctrl+Shift+H places the selected photos
    at it, as precise as a town is (city level); one history entry takes both back."""
    targets = window.ids["nogps"][2:4]
    assert not window.placing.act_here.isEnabled()  # nothing searched yet
    edit = window.place_search.edit
    edit.setFocus()
    edit.setText("lauterbrunnen")  # case and accents do not matter
    window.place_search.completer.popup().hide()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.place_search.chosen is not None, timeout=20000)
    hit = window.place_search.chosen
    assert hit.name == "Lauterbrunnen" and hit.country == "Switzerland"

    def centred() -> bool:
        view = json.loads(run_js(qtbot, window.map, "JSON.stringify(geotagger.view())"))
        return abs(view["lat"] - hit.lat) < 0.01 and abs(view["lon"] - hit.lon) < 0.01

    qtbot.waitUntil(centred, timeout=5000)

    _select(window, targets)
    _idle(qtbot, window)
    assert window.placing.act_here.isEnabled() and window.placing.act_here.text() == "Place at Lauterbrunnen"
    window.grid.setFocus()
    qtbot.keyClick(
        window.grid, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    _idle(qtbot, window)
    for pid in targets:
        placed = _live_decision(library, pid)
        assert placed is not None and placed.level == "city" and placed.source == "manual"
        assert (placed.lat, placed.lon) == pytest.approx((hit.lat, hit.lon), abs=1e-6)
    qtbot.waitUntil(lambda: window.act_undo.text() == "Undo placing of 2 photos", timeout=10000)
    window.undo()
    _idle(qtbot, window)
    assert all(_live_decision(library, pid) is None for pid in targets)
