"""Small GUI parts without the map: settings persistence, the export dialog, background tasks with
progress and cancel, and thumbnails loaded off the GUI thread."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from geotagger.errors import CancelledError  # noqa: E402
from geotagger.gui.export_dialog import ExportDialog  # noqa: E402
from geotagger.gui.settings import AppSettings, SettingsDialog  # noqa: E402
from geotagger.gui.tasks import TaskRunner  # noqa: E402
from geotagger.gui.thumbnails import ThumbnailLoader  # noqa: E402
from tests.factories import make_jpeg  # noqa: E402


def test_settings_persist_between_sessions(qtbot, tmp_path: Path) -> None:
    path = str(tmp_path / "s.ini")
    settings = AppSettings(path)
    assert settings.get("map/tiles") == "offline"  # never online unless the user says so
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.tiles.setCurrentIndex(dialog.tiles.findData("osm"))
    dialog.threshold.setValue(0.75)
    dialog.sidecar.setCurrentIndex(dialog.sidecar.findData("xmp"))
    dialog.save()
    again = AppSettings(path)
    assert again.get("map/tiles") == "osm"
    assert again.get("review/min_confidence") == pytest.approx(0.75)
    assert again.get("write/sidecar") == "xmp"


def test_export_dialog_maps_to_service_arguments(qtbot, tmp_path: Path) -> None:
    dialog = ExportDialog(None, "accepted", albums=["Alps 2024"])
    qtbot.addWidget(dialog)
    dialog.dest.setText(str(tmp_path))
    values = dialog.values()
    assert values["filter"] == "accepted" and values["album"] is None
    assert values["html_map"] is True and values["kml"] is False
    dialog.filter.setCurrentIndex(dialog.filter.findData("album:Alps 2024"))
    dialog.formats["gpx"].setChecked(True)
    values = dialog.values()
    assert values["album"] == "Alps 2024" and values["filter"] is None and values["gpx"] is True
    assert values["dest"] == tmp_path


def test_long_task_reports_progress_and_cancels(qtbot) -> None:
    runner = TaskRunner()
    seen, finished = [], []
    runner.progress.connect(lambda name, done, total, desc: seen.append((done, total)))
    runner.long_finished.connect(lambda name, ok, msg: finished.append((ok, msg)))
    started = []

    def work(progress, cancel):
        progress.start(1000, "counting")
        for _ in range(1000):
            started.append(1)
            cancel.check()
            progress.advance()
            time.sleep(0.002)
        return "done"

    failures = []
    task = runner.submit("count", work, on_failure=failures.append, long=True)
    assert task is not None
    assert runner.submit("second", work, long=True) is None  # one long job at a time
    qtbot.waitUntil(lambda: len(started) > 20, timeout=10000)
    runner.cancel()
    qtbot.waitUntil(lambda: bool(finished), timeout=10000)
    assert isinstance(failures[0], CancelledError)
    assert finished[0][0] is False
    assert seen and seen[0] == (0, 1000)
    assert len(started) < 1000


def test_thumbnails_load_off_thread_with_lru(qtbot, tmp_path: Path) -> None:
    paths = {i: make_jpeg(tmp_path / f"{i}.jpg", size=(640, 480)) for i in range(5)}
    loader = ThumbnailLoader(lambda pid: paths[pid], capacity=3)
    ready = []
    loader.ready.connect(ready.append)
    assert loader.pixmap(0) is None  # placeholder first
    for i in range(1, 5):
        loader.pixmap(i)
    qtbot.waitUntil(lambda: len(ready) == 5, timeout=10000)
    assert len(loader._cache) == 3  # least recently used dropped
    cached = next(iter(loader._cache.values()))
    assert max(cached.width(), cached.height()) == 256
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"nope")
    paths[9] = broken
    with qtbot.assertNotEmitted(loader.ready, wait=300):
        loader.pixmap(9)
    loader.wait()
    assert loader.pixmap(9) is None and 9 in loader._failed


def test_gui_command_is_registered(capsys) -> None:
    """A missing PATH opens the window on its first-start page (tests/test_gui_first_start.py)."""
    from geotagger.cli.main import main

    with pytest.raises(SystemExit):
        main(["gui", "--help"])
    assert "PATH" in capsys.readouterr().out
