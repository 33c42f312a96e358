"""The desktop window on a PostgreSQL catalog (offscreen): it browses, filters and accepts through the
keyboard as on SQLite (tests/test_gui_window.py holds the same checks on the default catalog)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from sqlalchemy import select  # noqa: E402

from geotagger.catalog import Decision, Photo  # noqa: E402
from geotagger.services import Library  # noqa: E402
from tests.postgres import fresh_schema  # noqa: E402
from tests.test_gui_browse import fill_catalog  # noqa: E402
from tests.test_gui_window import open_window, wait_idle  # noqa: E402


def test_window_on_a_server_catalog(qtbot, tmp_path: Path) -> None:
    with fresh_schema(os.environ.get("GEOTAGGER_TEST_POSTGRES")) as url:
        lib = Library(url)
        window = None
        try:
            ids = fill_catalog(lib, tmp_path / "photos")
            window = open_window(qtbot, lib, tmp_path)
            assert window.model.rowCount() == 22
            assert window.sidebar.filter_count_text("no-gps") == "No GPS  (9)"
            target = ids["nogps"][4]
            window.select_photo(target)
            qtbot.keyClick(window.grid, Qt.Key.Key_Return)  # Enter accepts the best candidate
            wait_idle(qtbot, window)
            with lib.catalog.reader() as session:
                assert (
                    session.scalars(select(Decision.action).where(Decision.photo_id == target)).one()
                    == "accept"
                )
                assert session.get(Photo, target).review_state == "accepted"
            assert window.sidebar.select_folder(str(tmp_path / "photos" / "home"))
            assert window.model.rowCount() == 7
        finally:
            if window is not None:  # closed before its schema is dropped (it would repaint from it)
                window.close()
            lib.close()
