"""History through the real window (offscreen): accept, write, accept, then Ctrl+Z across a restart
undoes them newest first, the Undo action says what it will undo before it does, the History panel
lists the journal, and the files are checked with exiftool."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, Qt  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402

if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from geotagger.catalog import Photo, Suggestion  # noqa: E402
from geotagger.catalog.library import Library  # noqa: E402
from geotagger.gui.settings import AppSettings  # noqa: E402
from geotagger.gui.window import MainWindow  # noqa: E402
from geotagger.services import indexing  # noqa: E402
from tests.factories import make_jpeg  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")


def _gps(path: Path) -> list[float]:
    out = subprocess.run(
        ["exiftool", "-n", "-s3", "-GPSLatitude", "-GPSLongitude", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [float(v) for v in out]


def _state(lib: Library, photo_id: int) -> str:
    with lib.catalog.reader() as session:
        return session.get(Photo, photo_id).review_state


@pytest.fixture
def shoot(library: Library, tmp_path: Path) -> dict[str, int]:
    folder = tmp_path / "shoot"
    start = datetime(2024, 7, 14, 10, 0, 0)
    for n in range(2):
        make_jpeg(
            folder / f"IMG_00{n + 1}2.jpg", taken=start + timedelta(minutes=n), color=(60 + 90 * n, 90, 120)
        )
    indexing.index(library, [folder], workers=0)
    ids = {Path(r["path"]).name: r["id"] for r in indexing.list_photos(library)}
    with library.catalog.writer() as session:
        for n, pid in enumerate(ids.values()):
            for rank in range(2):
                session.add(
                    Suggestion(
                        photo_id=pid,
                        rank=rank,
                        source="time",
                        lat=46.59 + n * 0.01 + rank * 0.5,
                        lon=7.90,
                        radius_km=1.0,
                        level="exact",
                        confidence=0.9 - 0.3 * rank,
                        address={"display": f"Place{n}", "country": "Switzerland"},
                        evidence={},
                        created_at=start,
                    )
                )
            session.get(Photo, pid).review_state = "suggested"
    return ids


def _open(qtbot, lib: Library, tmp_path: Path) -> MainWindow:
    window = MainWindow(lib, AppSettings(str(tmp_path / "settings.ini")), check_tiles=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.map.is_ready, timeout=20000)
    return window


def _idle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.tasks.is_busy(), timeout=60000)


def _undo_says(qtbot, window: MainWindow, text: str) -> None:
    qtbot.waitUntil(lambda: window.act_undo.text() == text, timeout=10000)
    assert window.act_undo.isEnabled()
    assert text in window.act_undo.toolTip()


def test_ctrl_z_undoes_newest_first_across_a_restart(qtbot, library: Library, shoot, tmp_path: Path) -> None:
    first, second = shoot["IMG_0012.jpg"], shoot["IMG_0022.jpg"]
    folder = tmp_path / "shoot"
    original = (folder / "IMG_0012.jpg").read_bytes()
    window = _open(qtbot, library, tmp_path)
    assert window.act_undo.text() == "Undo" and not window.act_undo.isEnabled()  # nothing done yet

    window.select_photo(first)
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)  # accept the best candidate
    _idle(qtbot, window)
    _undo_says(qtbot, window, "Undo accept of IMG_0012.jpg")
    window.act_write.trigger()
    _idle(qtbot, window)
    assert _gps(folder / "IMG_0012.jpg") == pytest.approx([46.59, 7.90], abs=1e-5)
    _undo_says(qtbot, window, "Undo write of IMG_0012.jpg")

    # The reported bug: 2, Enter on another photo, then Ctrl+Z.
    window.select_photo(second)
    qtbot.keyClick(window.grid, Qt.Key.Key_2)
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    _idle(qtbot, window)
    assert _state(library, second) == "accepted"
    _undo_says(qtbot, window, "Undo accept of IMG_0022.jpg")
    window.history_dock.show()
    assert window.history.panel.texts() == [
        "accept of IMG_0022.jpg",
        "write of IMG_0012.jpg",
        "accept of IMG_0012.jpg",
    ]
    window.close()

    # A new window on the same catalog (a restart): the same history, the same order.
    with Library(library.location) as reopened:
        window = _open(qtbot, reopened, tmp_path)
        _undo_says(qtbot, window, "Undo accept of IMG_0022.jpg")
        qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        _idle(qtbot, window)
        assert _state(reopened, second) == "suggested"  # the accept is undone ...
        assert _state(reopened, first) == "written"  # ... and the earlier write is untouched
        assert _gps(folder / "IMG_0012.jpg") == pytest.approx([46.59, 7.90], abs=1e-5)
        assert window.statusBar().currentMessage() == "Undone accept of IMG_0022.jpg"

        _undo_says(qtbot, window, "Undo write of IMG_0012.jpg")
        qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        _idle(qtbot, window)
        assert (folder / "IMG_0012.jpg").read_bytes() == original
        assert _gps(folder / "IMG_0012.jpg") == []
        assert _state(reopened, first) == "accepted"

        _undo_says(qtbot, window, "Undo accept of IMG_0012.jpg")
        qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        _idle(qtbot, window)
        assert _state(reopened, first) == "suggested"
        qtbot.waitUntil(lambda: not window.act_undo.isEnabled(), timeout=10000)
        assert window.act_undo.text() == "Undo"
        assert window.history.panel.texts() == [
            "accept of IMG_0022.jpg  (undone)",
            "write of IMG_0012.jpg  (undone)",
            "accept of IMG_0012.jpg  (undone)",
        ]
        window.close()


def test_a_written_photo_offers_no_accept(qtbot, library: Library, shoot, tmp_path: Path) -> None:
    window = _open(qtbot, library, tmp_path)
    window.select_photo(shoot["IMG_0012.jpg"])
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    _idle(qtbot, window)
    window.act_write.trigger()
    _idle(qtbot, window)
    window.select_photo(shoot["IMG_0012.jpg"])
    assert window.current_details.review_state == "written"
    for action in (
        window.decisions.act_accept,
        window.decisions.act_accept_region,
        window.decisions.act_accept_country,
    ):
        assert not action.isEnabled()
    assert "undo the write" in window.decisions.act_accept.toolTip()
    assert "46.59000° N" in window.details.location.text()  # the written location is shown
    window.select_photo(shoot["IMG_0022.jpg"])
    assert window.decisions.act_accept.isEnabled()


def test_every_shortcut_is_unambiguous_and_esc_leaves_place_mode(
    qtbot, library: Library, shoot, tmp_path
) -> None:
    from collections import Counter

    window = _open(qtbot, library, tmp_path)
    keys = Counter(
        seq.toString()
        for action in window.findChildren(QAction)
        for seq in action.shortcuts()
        if not seq.isEmpty()
    )
    assert [k for k, n in keys.items() if n > 1] == []  # Qt fires neither of two actions sharing a key
    window.select_photo(shoot["IMG_0012.jpg"])
    qtbot.keyClick(window.grid, Qt.Key.Key_M)
    assert window.decisions.act_place.isChecked()
    qtbot.keyClick(window.grid, Qt.Key.Key_Escape)
    assert not window.decisions.act_place.isChecked()
