"""First start (issue 14): ``geotagger gui`` with no folder, or with one that does not exist, opens the
window on an "Add a folder to start" page and reports the missing folder there instead of exiting."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, Qt  # noqa: E402

if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from geotagger.gui import app as gui_app  # noqa: E402
from geotagger.gui import window as window_module  # noqa: E402
from geotagger.gui.emptystate import TITLE  # noqa: E402
from geotagger.gui.settings import AppSettings  # noqa: E402
from geotagger.gui.window import MainWindow  # noqa: E402
from tests.factories import make_jpeg  # noqa: E402


def _window(qtbot, lib, tmp_path: Path) -> MainWindow:
    window = MainWindow(lib, AppSettings(str(tmp_path / "settings.ini")), check_tiles=False)
    qtbot.addWidget(window)
    window.show()
    return window


def test_missing_folder_opens_window_on_the_empty_state(qtbot, library, tmp_path: Path) -> None:
    window = _window(qtbot, library, tmp_path)
    assert window.center.currentWidget() is window.empty_state
    assert window.empty_state.title.text() == TITLE == "Add a folder to start"
    assert window.empty_state.problem.isHidden()

    missing = tmp_path / "Pictures"
    window.add_folder(str(missing))
    assert window.tasks.long_task is None  # no indexing was started for a folder that is not there
    problem = window.empty_state.problem
    assert not problem.isHidden() and problem.text() == f"{missing} does not exist: choose a folder of photos"
    assert "does not exist" in window.statusBar().currentMessage()
    assert window.isVisible()

    shot = Path(os.environ.get("GEOTAGGER_SCREENSHOT_DIR", tmp_path)) / "first_start.png"
    assert window.grab().save(str(shot)) and shot.stat().st_size > 1000


def test_empty_state_button_chooses_a_folder(qtbot, library, tmp_path: Path, monkeypatch) -> None:
    window = _window(qtbot, library, tmp_path)
    asked: list[str | None] = []
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: asked.append(args[1]) or "")
    qtbot.mouseClick(window.empty_state.button, Qt.MouseButton.LeftButton)
    assert asked == ["Add a folder of photos"]  # no folder given: the action opens the folder dialog
    assert window.tasks.long_task is None  # cancelled dialog: nothing indexed


def test_adding_a_real_folder_replaces_the_empty_state_with_the_grid(qtbot, library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        make_jpeg(photos / f"IMG_{i}.jpg")
    window = _window(qtbot, library, tmp_path)
    window.add_folder(str(tmp_path / "missing"))
    window.add_folder(str(photos))
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=60000)
    assert window.center.currentWidget() is window.grid
    assert window.empty_state.problem.isHidden()  # the earlier complaint is gone


def test_cli_gui_with_missing_folder_opens_the_app(qtbot, tmp_path: Path, monkeypatch) -> None:
    """The CLI hands a missing folder on to the window (no ``error: ... does not exist``, exit 0)."""
    from geotagger.cli.main import main

    shown: list[MainWindow] = []

    class TestWindow(MainWindow):
        def __init__(self, lib) -> None:
            super().__init__(lib, AppSettings(str(tmp_path / "settings.ini")), check_tiles=False)
            qtbot.addWidget(self)
            shown.append(self)

    monkeypatch.setattr(window_module, "MainWindow", TestWindow)
    app = gui_app.create_application()
    monkeypatch.setattr(type(app), "exec", lambda *_: 0)
    missing = tmp_path / "Pictures"
    assert main(["--library", str(tmp_path / "l.sqlite"), "gui", str(missing)]) == 0
    assert len(shown) == 1
    window = shown[0]
    assert window.isVisible() and window.center.currentWidget() is window.empty_state
    assert str(missing) in window.empty_state.problem.text()


def test_gui_command_accepts_no_path() -> None:
    from geotagger.cli.commands import gui

    parser = argparse.ArgumentParser()
    gui.register(parser.add_subparsers())
    assert parser.parse_args(["gui"]).path is None
