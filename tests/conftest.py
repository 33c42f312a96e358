from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if hasattr(os, "geteuid") and os.geteuid() == 0:
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the real user data folder."""
    data = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("GEOTAGGER_DATA_DIR", str(data))
    monkeypatch.delenv("GEOTAGGER_LIBRARY", raising=False)


@pytest.fixture
def library(tmp_path: Path):
    from geotagger.services import Library

    lib = Library(tmp_path / "catalog" / "library.sqlite")
    yield lib
    lib.close()


@pytest.fixture(autouse=True)
def _delete_qt_windows():
    """Delete every window a test left behind while the QApplication is alive: a QWebEnginePage that
    outlives the application's web profile crashes the interpreter at exit."""
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in app.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
