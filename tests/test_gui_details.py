"""Details pane fixes (issue 13 item 6): a readable error colour in light and dark themes, five
candidates shown without cutting one, the preview opens large on a click, the grid greys suggestions
below the review threshold, and the camera is named once."""

from __future__ import annotations

from datetime import datetime

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QColor, QPalette, QPixmap  # noqa: E402

from geotagger.gui.colors import contrast, error_color  # noqa: E402
from geotagger.gui.details import DetailsPane  # noqa: E402
from geotagger.gui.grid import AMBER, GREY, confidence_color, gps_badge  # noqa: E402
from geotagger.services.browse import CandidateView, PhotoDetails, PhotoRow  # noqa: E402


def _details(candidates: int = 5, state: str = "suggested", error: str | None = None) -> PhotoDetails:
    return PhotoDetails(
        id=1,
        path="/photos/IMG_0012.jpg",
        filename="IMG_0012.jpg",
        folder="/photos",
        taken_at=datetime(2024, 7, 14, 10, 0),
        taken_offset_min=None,
        camera="Canon EOS 40D",
        width=3888,
        height=2592,
        gps_lat=46.59 if state == "written" else None,
        gps_lon=7.9 if state == "written" else None,
        gps_alt=None,
        gps_source="accepted" if state == "written" else None,
        review_state=state,
        status="ok" if error is None else "error",
        error=error,
        fingerprint="f",
        candidates=[
            CandidateView(
                index=i,
                rank=i,
                lat=46.0 + i,
                lon=7.0,
                radius_km=1.0,
                level="city",
                confidence=0.9 - 0.1 * i,
                source="library",
                address={},
                label=f"Place {i + 1}, Bern, Switzerland",
                evidence_text="",
                concepts=[],
                evidence={},
            )
            for i in range(candidates)
        ],
        decisions=[],
        writes=[],
    )


def _palette(window: str, text: str) -> QPalette:
    palette = QPalette()
    for role, color in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.Base, window)):
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        palette.setColor(role, QColor(text))
    return palette


@pytest.mark.parametrize(("window", "text"), [("#efefef", "#1a1a1a"), ("#2b2b2d", "#e8e8e8")])
def test_error_text_reads_in_light_and_dark(qtbot, window: str, text: str) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.setPalette(_palette(window, text))
    pane.show_details(_details(error="cannot read EXIF: truncated file"))
    assert pane.problem.text() == "Error: cannot read EXIF: truncated file"
    shown = pane.problem.palette().color(QPalette.ColorRole.WindowText)
    assert contrast(shown, QColor(window)) >= 4.5
    assert shown.red() > shown.green() + 40  # still reads as an error, not as body text
    assert error_color(pane.palette()) == shown


def test_five_candidates_are_all_visible(qtbot) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.resize(560, 380)
    pane.show()
    pane.show_details(_details(candidates=5))
    qtbot.waitExposed(pane)
    tree = pane.candidates
    assert tree.topLevelItemCount() == 5
    viewport = tree.viewport().rect()
    for i in range(5):
        rect = tree.visualItemRect(tree.topLevelItem(i))
        assert viewport.contains(rect.topLeft()) and rect.bottom() <= viewport.bottom(), (
            f"candidate {i + 1} cut"
        )
    assert not tree.horizontalScrollBar().isVisible()


def test_preview_click_opens_it_large(qtbot) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.resize(560, 380)
    pane.show()
    pane.show_details(_details())
    overlay = QPixmap(1024, 683)
    overlay.fill(QColor("#336699"))
    pane.set_preview(overlay)
    assert pane.preview.pixmap().width() < 400  # the small preview
    qtbot.mouseClick(pane.preview, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    dialog = pane.preview_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.image.pixmap().size() == overlay.size()  # legend readable: shown at full size
    assert dialog.windowTitle() == "IMG_0012.jpg"


def test_written_photo_shows_its_location_and_locks_the_candidates(qtbot) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.show_details(_details(state="written"))
    assert pane.location.text() == "46.59000° N, 7.90000° E  (written to the file)"
    assert not pane.candidates.isEnabled()
    assert pane.camera.text() == "Canon EOS 40D"


def test_grid_greys_suggestions_below_the_review_threshold() -> None:
    row = PhotoRow(1, "/p/a.jpg", "a.jpg", None, False, None, "suggested", "ok", None, "f", 0.55, "city", "X")
    assert gps_badge(row, 0.5) == ("NO GPS", AMBER)
    assert gps_badge(row, 0.6) == ("NO GPS", GREY)
    assert confidence_color(0.55, 0.5) == AMBER
    assert confidence_color(0.55, 0.6) == GREY


def test_accepted_photo_shows_where_it_was_accepted(qtbot) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    details = _details(state="accepted")
    details.decisions.extend(
        [
            {"action": "accept", "lat": 46.6, "lon": 7.9, "level": "exact", "undone": False},
            {"action": "accept", "lat": 10.0, "lon": 10.0, "level": "exact", "undone": False},
        ]
    )
    pane.show_details(details)
    assert pane.location.text() == "46.60000° N, 7.90000° E  (accepted, not written yet)"
