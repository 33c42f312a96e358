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
def library(catalog_location: str):
    from geotagger.services import Library

    lib = Library(catalog_location)
    yield lib
    lib.close()


# --- catalog backends: SQLite always, PostgreSQL when a server is given ------------------------------
# A module marked ``pytestmark = pytest.mark.catalog_backends`` runs every test that uses ``library`` or
# ``catalog_location`` once per backend; each PostgreSQL run gets a fresh schema on the server that
# GEOTAGGER_TEST_POSTGRES names (.ci/steps/30-postgres.sh starts one and sets it).
POSTGRES_ENV = "GEOTAGGER_TEST_POSTGRES"
CATALOG_BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "catalog_backends: run on an SQLite and a PostgreSQL catalog")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if (
        metafunc.definition.get_closest_marker("catalog_backends")
        and "catalog_location" in metafunc.fixturenames
    ):
        metafunc.parametrize("catalog_location", CATALOG_BACKENDS, indirect=True)


@pytest.fixture
def catalog_location(request: pytest.FixtureRequest, tmp_path: Path):
    """Where the test's catalog lives: an SQLite file (default) or a fresh PostgreSQL schema (URL)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield str(tmp_path / "catalog" / "library.sqlite")
        return
    from tests.postgres import fresh_schema

    with fresh_schema(os.environ.get(POSTGRES_ENV)) as url:
        yield url


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
