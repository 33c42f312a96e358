"""The main window end to end (offscreen): browsing a library, filters, details, keyboard review,
accepting through the UI, placing through the map bridge, writing and checking the file with exiftool."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, Qt  # noqa: E402

if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from sqlalchemy import select  # noqa: E402

from geotagger.catalog import Decision, Photo, Suggestion  # noqa: E402
from geotagger.gui.settings import AppSettings  # noqa: E402
from geotagger.gui.window import MainWindow  # noqa: E402
from tests.factories import make_jpeg  # noqa: E402
from tests.test_gui_browse import fill_catalog  # noqa: E402
from tests.web_page import run_js  # noqa: E402


def open_window(qtbot, lib, tmp_path: Path) -> MainWindow:
    window = MainWindow(lib, AppSettings(str(tmp_path / "settings.ini")), check_tiles=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.map.is_ready, timeout=20000)
    return window


def wait_idle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.tasks.is_busy(), timeout=90000)


@pytest.fixture
def filled_window(qtbot, library, tmp_path: Path):
    ids = fill_catalog(library, tmp_path / "photos")
    return open_window(qtbot, library, tmp_path), ids


def test_window_shows_library_filters_and_details(qtbot, filled_window, tmp_path: Path) -> None:
    window, ids = filled_window
    assert window.model.rowCount() == 22
    assert window.sidebar.filter_count_text("no-gps") == "No GPS  (9)"
    assert window.sidebar.filter_count_text("error") == "Errors  (1)"
    window.sidebar.set_filter("suggested")
    assert window.model.rowCount() == 6
    window.sidebar.set_filter("error")
    assert window.model.ids() == ids["error"]
    # A folder narrows the grid and the counts.
    window.sidebar.set_filter("all")
    assert window.sidebar.select_folder(str(tmp_path / "photos" / "home"))
    assert window.model.rowCount() == 7
    assert window.sidebar.filter_count_text("all") == "All  (7)"
    # Only the visible page of rows is materialised.
    assert window.model.materialised() <= 200
    # Selecting a photo shows its ranked candidates with evidence, and puts them on the map.
    window.sidebar.tree.setCurrentItem(window.sidebar.tree.topLevelItem(0))
    assert window.select_photo(ids["nogps"][5])
    details = window.details
    assert details.candidates.topLevelItemCount() == 3
    assert details.candidates.topLevelItem(0).text(1) == "Place0, Bern, Switzerland"
    assert details.candidates.topLevelItem(0).text(3) == "82%"
    # Numbered from 1, as `suggestions --format json` and `accept --candidate N` number them.
    assert [details.candidates.topLevelItem(i).text(0) for i in range(3)] == ["1", "2", "3"]
    assert "taken 12 min after IMG_0000.jpg (GPS)" in details.evidence.text()
    qtbot.waitUntil(
        lambda: (
            run_js(qtbot, window.map, "JSON.stringify(geotagger.counts())") == '{"library":13,"candidates":3}'
        ),
        timeout=10000,
    )
    # Keyboard: 2 picks the second candidate, whose concept bars show.
    qtbot.keyClick(window.grid, Qt.Key.Key_2)
    assert details.current_candidate() == 1
    assert details.concepts.concepts[0][0] == "Mountain"
    # Next photo moves the selection.
    before = window.current_id
    qtbot.keyClick(window.grid, Qt.Key.Key_J)
    assert window.current_id != before
    window.grab().save(str(tmp_path / "window.png"))
    assert (tmp_path / "window.png").stat().st_size > 10000


def test_accept_reject_and_place_through_the_ui(qtbot, filled_window, library) -> None:
    window, ids = filled_window
    target = ids["nogps"][4]
    window.select_photo(target)
    qtbot.keyClick(window.grid, Qt.Key.Key_2)  # second candidate
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)  # Enter accepts
    wait_idle(qtbot, window)
    with library.catalog.reader() as session:
        decision = session.scalars(select(Decision).where(Decision.photo_id == target)).one()
        second = session.scalars(
            select(Suggestion).where(Suggestion.photo_id == target, Suggestion.rank == 1)
        ).one()
        assert decision.action == "accept"
        assert (decision.lat, decision.lon) == pytest.approx((second.lat, second.lon))
        assert session.get(Photo, target).review_state == "accepted"
    assert window.sidebar.filter_count_text("accepted") == "Accepted  (3)"
    assert window.current_id != target  # review moves on to the next photo

    # Del rejects.
    other = ids["nogps"][6]
    window.select_photo(other)
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    wait_idle(qtbot, window)
    with library.catalog.reader() as session:
        assert session.get(Photo, other).review_state == "rejected"

    # A refused decision stays on the photo (details) and in the log, and nothing crashes.
    gps_photo = ids["gps"][0]
    window.select_photo(gps_photo)
    window.place([gps_photo], 10.0, 10.0)
    wait_idle(qtbot, window)
    assert "already has GPS" in window.details.problem.text()
    assert "already has GPS" in window.logview.messages()

    # Place manually: switch the mode on, then a click arrives through the map bridge.
    placed = ids["nogps"][7]
    window.select_photo(placed)
    window.act_place.setChecked(True)
    run_js(qtbot, window.map, "geotagger.bridge.mapClicked(-33.8568, 151.2153); 1")
    qtbot.waitUntil(lambda: not window.act_place.isChecked(), timeout=5000)
    wait_idle(qtbot, window)
    with library.catalog.reader() as session:
        decision = session.scalars(
            select(Decision).where(Decision.photo_id == placed).order_by(Decision.id.desc())
        ).first()
        assert (decision.lat, decision.lon) == pytest.approx((-33.8568, 151.2153))
        assert decision.level == "exact"


def test_errors_go_to_the_log_not_a_crash(qtbot, filled_window) -> None:
    window, ids = filled_window

    def boom():
        from geotagger.errors import MetadataError

        raise MetadataError("cannot write IMG_1.jpg: read-only file system")

    failures = []
    window.tasks.submit("write", boom, on_failure=failures.append)
    wait_idle(qtbot, window)
    assert failures and "read-only" in str(failures[0])
    assert "write: cannot write IMG_1.jpg: read-only file system" in window.logview.messages()
    assert window.errors_button.isVisibleTo(window)


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
def test_index_accept_write_end_to_end(qtbot, library, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "shoot"
    start = datetime(2024, 7, 14, 10, 0, 0)
    make_jpeg(folder / "IMG_0001.jpg", taken=start, lat=45.8326, lon=6.8652)
    make_jpeg(folder / "IMG_0002.jpg", taken=start + timedelta(minutes=12), color=(200, 60, 60))
    make_jpeg(folder / "IMG_0003.jpg", taken=start + timedelta(minutes=30), lat=45.8330, lon=6.8660)
    window = open_window(qtbot, library, tmp_path)
    window.add_folder(str(folder))
    wait_idle(qtbot, window)
    assert window.model.rowCount() == 3
    assert window.sidebar.filter_count_text("no-gps") == "No GPS  (1)"
    with library.catalog.writer() as session:
        photo = session.scalars(select(Photo).where(Photo.filename == "IMG_0002.jpg")).one()
        target = photo.id
    import functools

    from geotagger.services import locating

    # Time evidence only: the image models are exercised by their own tests.
    monkeypatch.setattr(locating, "locate", functools.partial(locating.locate, sources=["time"]))
    window.locate()
    wait_idle(qtbot, window)
    with library.catalog.writer() as session:
        if not session.scalars(select(Suggestion).where(Suggestion.photo_id == target)).first():
            # Without a locating service, the suggestion the time evidence would give.
            session.add(
                Suggestion(
                    photo_id=target,
                    rank=0,
                    source="time",
                    lat=45.8326,
                    lon=6.8652,
                    radius_km=1.0,
                    level="exact",
                    confidence=0.9,
                    address={"display": "Chamonix"},
                    evidence={"text": "taken 12 min after IMG_0001.jpg (GPS)"},
                    created_at=start,
                )
            )
            session.get(Photo, target).review_state = "suggested"
    window.reload()
    window.select_photo(target)
    assert window.details.candidates.topLevelItemCount() >= 1
    best = window.current_details.candidates[0]
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    original = (folder / "IMG_0002.jpg").read_bytes()
    window.act_write.trigger()
    wait_idle(qtbot, window)
    out = subprocess.run(
        ["exiftool", "-n", "-s3", "-GPSLatitude", "-GPSLongitude", str(folder / "IMG_0002.jpg")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [float(v) for v in out] == pytest.approx([best.lat, best.lon], abs=1e-5)
    assert window.sidebar.filter_count_text("written") == "Written  (1)"

    # Ctrl+Z restores the exact bytes through the journaled, locked undo.
    qtbot.waitUntil(lambda: window.act_undo.text() == "Undo write of IMG_0002.jpg", timeout=10000)
    window.undo()
    wait_idle(qtbot, window)
    assert (folder / "IMG_0002.jpg").read_bytes() == original
    assert window.sidebar.filter_count_text("written") == "Written  (0)"
    assert window.statusBar().currentMessage() == "Undone write of IMG_0002.jpg"

    # A photo changed by another program after the write is not undone: the reason goes to the log.
    window.act_write.trigger()
    wait_idle(qtbot, window)
    with (folder / "IMG_0002.jpg").open("ab") as fh:
        fh.write(b"edited elsewhere")
    qtbot.waitUntil(lambda: window.act_undo.text() == "Undo write of IMG_0002.jpg", timeout=10000)
    window.undo()
    wait_idle(qtbot, window)
    assert "changed after geotagger wrote it" in window.logview.messages()
    assert (folder / "IMG_0002.jpg").read_bytes().endswith(b"edited elsewhere")


def test_map_follows_a_dark_palette(qtbot, filled_window) -> None:
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from geotagger.gui.mappane import palette_colors

    window, _ = filled_window
    app = QApplication.instance()
    original = app.palette()
    dark = QPalette(original)
    for role, color in ((QPalette.ColorRole.Window, "#2b2b2d"), (QPalette.ColorRole.Base, "#1f1f21")):
        dark.setColor(role, QColor(color))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: not window.map.is_ready, timeout=5000)
        qtbot.waitUntil(lambda: window.map.is_ready, timeout=20000)
        from geotagger.maps.page import map_colors

        # The theme's colours, unless they would blur land and sea (then the page's own dark ones).
        water = QColor(map_colors(True, palette_colors())["water"])
        css = run_js(
            qtbot, window.map, "getComputedStyle(document.querySelector('.folium-map')).backgroundColor"
        )
        assert css == f"rgb({water.red()}, {water.green()}, {water.blue()})"
        assert water.lightness() < 80  # dark water under a dark theme
    finally:
        app.setPalette(original)


def test_online_tiles_only_when_enabled_and_reachable(qtbot, library, tmp_path: Path, monkeypatch) -> None:
    import geotagger.gui.mapsync as mapsync_module

    probes = []
    monkeypatch.setattr(mapsync_module, "tiles_reachable", lambda source: probes.append(source) or True)
    window = open_window(qtbot, library, tmp_path)
    assert window.map.tiles is None and probes == []  # default: offline, nothing fetched
    window.check_tiles = True
    window.settings.set("map/tiles", "osm")
    window.apply_tile_setting()
    qtbot.waitUntil(lambda: window.map.tiles is not None, timeout=10000)
    assert probes and window.map.tiles.name == "OpenStreetMap"
    qtbot.waitUntil(lambda: window.map.is_ready, timeout=20000)
    assert "tile.openstreetmap.org" in run_js(qtbot, window.map, "document.documentElement.outerHTML")
