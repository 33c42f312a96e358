"""Tracks through the real window and map page (offscreen): import a GPX file written here (and a broken
one: one error line in the Log), the track drawn on the map, the selected photos placed on it, the
camera clock panel moving them live, "Use estimate", Apply storing the clock as `geotagger clocks set`
does, and Remove."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, QItemSelectionModel, Qt  # noqa: E402

if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from sqlalchemy import select  # noqa: E402

from geotagger.catalog.schema import Clock  # noqa: E402
from geotagger.cli.main import main  # noqa: E402
from geotagger.gui.settings import AppSettings  # noqa: E402
from geotagger.gui.window import MainWindow  # noqa: E402
from geotagger.services import clocks, indexing  # noqa: E402
from tests.factories import make_jpeg  # noqa: E402
from tests.web_page import run_js  # noqa: E402

START = datetime(2024, 6, 1, 10, 0)  # UTC; 12:00 on the photos' clocks (Zurich, CEST)
POINTS = 361  # one hour, a point every 10 s, 0.0005 degrees north each
DEVICE = "testcam|t1|"


def write_gpx(path: Path) -> Path:
    """A GPX walk north along 8.0 E from 46.0 N (Bernese Oberland), as a logger writes it."""
    rows = "\n".join(
        f'<trkpt lat="{46.0 + 0.0005 * i:.4f}" lon="8.0000"><ele>{800 + i}</ele>'
        f"<time>{(START + timedelta(seconds=10 * i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i in range(POINTS)
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>Lauterbrunnen walk</name><trkseg>\n'
        f"{rows}\n</trkseg></trk></gpx>\n",
        encoding="utf-8",
    )
    return path


def shoot(root: Path) -> Path:
    """Three photos without GPS and without a UTC offset, 12:05, 12:10 and 12:20 on the camera."""
    for minute in (5, 10, 20):
        make_jpeg(root / f"IMG_12{minute:02d}.jpg", taken=datetime(2024, 6, 1, 12, minute))
    # Another camera in the same folder, its clock 10 min ahead (estimated): truly 12:20, 46.06 N.
    make_jpeg(root / "DSC_1230.jpg", taken=datetime(2024, 6, 1, 12, 30), make="OtherCam", model="X")
    return root


@pytest.fixture
def window(qtbot, library, tmp_path: Path):
    photos = shoot(tmp_path / "photos" / "walk")
    indexing.index(library, [photos])
    folder = str(photos.resolve())
    with library.catalog.writer() as session:  # what locate stores when it estimated this camera's clock
        session.add(
            Clock(
                device="othercam|x|",
                folder=folder,
                offset_s=600.0,
                support=9,
                confidence=0.9,
                status="confident",
                source="estimated",
                updated_at=datetime(2024, 6, 2),
            )
        )
        session.add(
            Clock(
                device=DEVICE,
                folder=folder,
                offset_s=120.0,
                support=7,
                confidence=0.86,
                status="confident",
                source="estimated",
                updated_at=datetime(2024, 6, 2),
            )
        )
    win = MainWindow(library, AppSettings(str(tmp_path / "settings.ini")), check_tiles=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.map.is_ready, timeout=20000)
    win.folder = folder
    return win


def _idle(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: not win.tasks.is_busy(), timeout=30000)


def track_state(qtbot, win: MainWindow) -> dict:
    return json.loads(run_js(qtbot, win.map, "JSON.stringify(geotagger.trackState())"))


def _lats(qtbot, win: MainWindow) -> list[float]:
    return sorted(round(m["lat"], 4) for m in track_state(qtbot, win)["matches"])


def _select_all(win: MainWindow) -> list[int]:
    ids = [
        win.model.data(win.model.index(r), Qt.ItemDataRole.UserRole + 1) for r in range(win.model.rowCount())
    ]
    selection = win.grid.selectionModel()
    win.grid.setCurrentIndex(win.model.index(0))
    for r in range(win.model.rowCount()):
        selection.select(win.model.index(r), QItemSelectionModel.SelectionFlag.Select)
    return ids


def import_walk(qtbot, win: MainWindow, tmp_path: Path) -> None:
    good = write_gpx(tmp_path / "walk.gpx")
    bad = tmp_path / "broken.gpx"
    bad.write_text("<gpx><trk><trkseg><trkpt lat='x'", encoding="utf-8")
    win.tracks.import_files([str(good), str(bad)])
    qtbot.waitUntil(lambda: win.tracks.panel.names() == ["Lauterbrunnen walk"], timeout=30000)
    _idle(qtbot, win)


def test_import_draw_preview_apply_and_remove(
    qtbot, window, library, catalog_location, tmp_path: Path, capsys
) -> None:
    win = window
    photos = sorted((tmp_path / "photos" / "walk").glob("*.jpg"))
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in photos}
    assert win.tracks.act_import.text() == "Import track…" and win.act_clock.text() == "Camera clock…"
    import_walk(qtbot, win, tmp_path)

    # One line in the log for the broken file; the good one listed and drawn.
    errors = [line for line in win.logview.messages().splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "broken.gpx" in errors[0]
    item = win.tracks.panel.list.topLevelItem(0)
    assert item.text(1) == str(POINTS) and item.text(2) == "2024-06-01 10:00:00 – 11:00:00"
    qtbot.waitUntil(lambda: len(track_state(qtbot, win)["tracks"]) == 1, timeout=10000)
    (drawn,) = track_state(qtbot, win)["tracks"]
    assert drawn["name"] == "Lauterbrunnen walk" and drawn["points"] == POINTS

    # The selection on the track: the camera's time read in the zone where the track was (Zurich).
    win.clock_dock.show()
    _select_all(win)
    qtbot.waitUntil(lambda: len(track_state(qtbot, win)["matches"]) == 4, timeout=10000)
    # It starts from the clock locate applies: the confident estimate, 2 min ahead.
    assert _lats(qtbot, win) == [46.009, 46.024, 46.054, 46.06]
    panel = win.clock_panel
    assert "<b>TestCam T1</b>" in panel.unit.text() and win.folder in panel.unit.text()
    assert "2 min" in panel.estimate.text() or "0:02:00" in panel.estimate.text()
    assert "7 supporting pairs" in panel.estimate.text() and panel.use_estimate.isEnabled()
    assert panel.matched.text() == (
        "4 of 4 selected photo(s) on a track; the nearest track point is 0 s from the photo time"
    )

    # Camera 5 min ahead: every photo was truly taken 5 min earlier, 30 points further south.
    panel.minutes.setValue(5)
    assert panel.offset_s() == 300
    qtbot.waitUntil(lambda: _lats(qtbot, win) == [46.0, 46.015, 46.045, 46.06], timeout=10000)
    panel.direction.setCurrentIndex(1)  # behind by 5 min: later, further north
    qtbot.waitUntil(lambda: _lats(qtbot, win) == [46.03, 46.045, 46.06, 46.075], timeout=10000)
    panel.use_estimate.click()  # locate's estimate: 2 min ahead
    assert panel.offset_s() == 120 and panel.direction.currentIndex() == 0
    qtbot.waitUntil(lambda: _lats(qtbot, win) == [46.009, 46.024, 46.054, 46.06], timeout=10000)
    panel.zone.setCurrentIndex(panel.zone.findText("UTC"))  # read as UTC: after the track ended
    qtbot.waitUntil(lambda: track_state(qtbot, win)["matches"] == [], timeout=10000)
    assert panel.matched.text().startswith("0 of 4")
    panel.set_zone(None)
    qtbot.waitUntil(lambda: len(track_state(qtbot, win)["matches"]) == 4, timeout=10000)

    # Apply: the clock stored as `geotagger clocks set` stores it, for this folder.
    panel.apply_button.click()
    with library.catalog.reader() as session:
        (row,) = session.scalars(select(Clock).where(Clock.source == "manual")).all()
    assert (row.device, row.folder, row.offset_s) == (DEVICE, win.folder, 120.0)
    listed = [r for r in clocks.list_clocks(library) if r["source"] == "manual"]
    assert listed == [
        {
            "device": "TestCam T1",
            "folder": win.folder,
            "offset": listed[0]["offset"],
            "offset_s": 120,
            "period": "",
            "support": 0,
            "confidence": 1.0,
            "status": "confident",
            "source": "manual",
        }
    ]
    assert "2" in listed[0]["offset"]
    assert "clock" in win.statusBar().currentMessage() and "Locate" in win.statusBar().currentMessage()
    assert clocks.applied_clocks(library)[(DEVICE, win.folder)][0].offset_s == 120.0
    capsys.readouterr()
    assert main(["--library", catalog_location, "clocks", "list", "--format", "json"]) == 0
    cli_rows = json.loads(capsys.readouterr().out)
    assert [(r["device"], r["offset_s"], r["source"]) for r in cli_rows if r["source"] == "manual"] == [
        ("TestCam T1", 120, "manual")
    ]

    # Back to estimate: the manual row goes (as `geotagger clocks clear`), the estimate stays.
    assert panel.clear_button.isEnabled()
    panel.clear_button.click()
    with library.catalog.reader() as session:
        assert [r.source for r in session.scalars(select(Clock).where(Clock.device == DEVICE))] == [
            "estimated"
        ]
    assert not panel.clear_button.isEnabled() and panel.offset_s() == 120

    # Remove: the panel and the map are empty again.
    win.tracks.panel.list.setCurrentItem(item)
    win.tracks.panel.remove_button.click()
    qtbot.waitUntil(lambda: win.tracks.panel.names() == [], timeout=10000)
    qtbot.waitUntil(lambda: track_state(qtbot, win) == {"tracks": [], "matches": []}, timeout=10000)
    # Nothing here touches a photo: import, preview and Apply only read the files and write the catalog.
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in photos} == before


def test_tracks_are_drawn_again_after_a_theme_change(qtbot, window, tmp_path: Path) -> None:
    """A palette change rebuilds the page; the tracks and matches come back, in the dark colours."""
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    win = window
    _select_all(win)  # no track yet: the clock panel says what is missing
    qtbot.waitUntil(lambda: win.clock_panel.matched.text().startswith("Import a track"), timeout=10000)
    import_walk(qtbot, win, tmp_path)
    qtbot.waitUntil(lambda: len(track_state(qtbot, win)["matches"]) == 4, timeout=10000)
    light = track_state(qtbot, win)["tracks"][0]["color"]
    shots = os.environ.get("GEOTAGGER_TRACK_SHOTS")  # screenshots to look at: a folder
    if shots:
        win.clock_dock.show()
        qtbot.wait(500)
        run_js(qtbot, win.map, "geotagger.fitTracks(); 1")
        qtbot.wait(1500)
        win.grab().save(str(Path(shots) / "tracks-light.png"))
    app = QApplication.instance()
    before = app.palette()
    dark = QPalette(before)
    roles = {"Window": "#2b2b2d", "WindowText": "#e6e6e6", "Base": "#1f1f21", "AlternateBase": "#29292b"}
    roles |= {"Text": "#e6e6e6", "Button": "#353538", "ButtonText": "#e6e6e6", "Highlight": "#3d7fd9"}
    for role, color in roles.items():
        dark.setColor(getattr(QPalette.ColorRole, role), QColor(color))
    try:
        app.setPalette(dark)
        # The page is rebuilt after the event (asynchronously): wait for the dark track colour.
        qtbot.waitUntil(
            lambda: (
                win.map.is_ready
                and [t["color"] for t in track_state(qtbot, win)["tracks"]] not in ([], [light])
            ),
            timeout=20000,
        )
        assert len(track_state(qtbot, win)["matches"]) == 4
        if shots:
            run_js(qtbot, win.map, "geotagger.fitTracks(); 1")
            qtbot.wait(1500)
            win.grab().save(str(Path(shots) / "tracks-dark.png"))
    finally:
        app.setPalette(before)
