"""The GUI shows names and metadata from photos as text: a file name or an EXIF Make that looks like
HTML must not render as HTML (no local image loaded, no red headline) in labels or tool tips."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PIL import Image  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QImage, QTextDocument  # noqa: E402
from PySide6.QtGui import Qt as GuiQt  # noqa: E402

from geotagger.gui.details import DetailsPane  # noqa: E402
from geotagger.gui.grid import PhotoGridModel  # noqa: E402
from geotagger.gui.plain import tooltip  # noqa: E402
from geotagger.gui.thumbnails import ThumbnailLoader  # noqa: E402
from geotagger.services import browse, indexing  # noqa: E402
from tests.factories import make_photo  # noqa: E402

IMG_NAME = "<img src=red.png width=300 height=200>.jpg"
FAKE_MAKE = "<h1><font color=red>FAKE WARNING</font></h1>"


def red_pixels(widget) -> int:
    """Strongly red pixels in what the widget paints (nothing in the app's own palette is pure red)."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    pixels = data[:, : image.width() * 4].reshape(image.height(), image.width(), 4)
    b, g, r = pixels[..., 0].astype(int), pixels[..., 1].astype(int), pixels[..., 2].astype(int)
    return int(np.count_nonzero((r > 200) & (g < 80) & (b < 80)))


def shown_as(text: str) -> str:
    """What Qt displays for a tool tip or AutoText string: rich text when Qt guesses so."""
    if not GuiQt.mightBeRichText(text):
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


@pytest.fixture
def hostile_photo(library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(tmp_path)  # where a rich-text label would look for red.png
    Image.new("RGB", (300, 200), (255, 0, 0)).save(tmp_path / "red.png")
    folder = tmp_path / "<b>folder</b>"
    make_photo(folder / IMG_NAME, taken=datetime(2024, 5, 1, 12), make=FAKE_MAKE, model="<i>M</i>")
    indexing.index(library, [folder], workers=0)
    (photo_id,) = browse.photo_ids(library)
    return photo_id


def test_details_show_file_names_and_exif_as_text(qtbot, library, hostile_photo: int) -> None:
    details = browse.photo_details(library, hostile_photo)
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.resize(900, 500)
    pane.show()
    pane.show_details(details)
    qtbot.wait(50)
    assert pane.title.text() == IMG_NAME
    assert FAKE_MAKE in pane.camera.text()
    for label in (pane.title, pane.state, pane.taken, pane.camera, pane.location, pane.problem):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    assert red_pixels(pane) == 0, "HTML from the photo was rendered (image loaded or red text)"
    assert shown_as(pane.title.toolTip()) == details.path


def test_tooltips_show_the_literal_text(qtbot, library, hostile_photo: int) -> None:
    rows = browse.photo_rows(library, [hostile_photo])
    model = PhotoGridModel(lambda ids: rows, ThumbnailLoader(lambda pid: Path("missing.jpg")))
    model.set_ids([hostile_photo])
    tip = model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert shown_as(tip).splitlines()[0] == rows[hostile_photo].path
    for text in ["<b>x</b>", "a < b", "<!--", "line1\nline2 <i>", "&amp; &lt;", "  two  spaces <p>"]:
        assert shown_as(tooltip(text)) == text


def test_candidate_label_and_evidence_stay_text(qtbot, library, hostile_photo: int) -> None:
    """The evidence line is rich text on purpose (a bold heading); place names and the evidence text,
    which quotes file names, are escaped in it and in the candidate's tool tip."""
    hostile = "<font color=red>████ RED ████</font>"
    candidate = browse.CandidateView(
        0,
        0,
        46.5,
        7.9,
        25.0,
        "city",
        0.8,
        "time",
        {},
        hostile,
        f"between {IMG_NAME} and <b>b.jpg</b>",
        [],
        {},
    )
    details = replace(browse.photo_details(library, hostile_photo), candidates=[candidate])
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.resize(900, 500)
    pane.show()
    pane.show_details(details)
    qtbot.wait(50)
    assert pane.evidence.textFormat() == Qt.TextFormat.RichText
    assert hostile in shown_as(pane.evidence.text()) and IMG_NAME in shown_as(pane.evidence.text())
    assert red_pixels(pane) == 0
    tip = pane.candidates.topLevelItem(0).toolTip(1)
    assert shown_as(tip).splitlines()[:2] == [hostile, f"between {IMG_NAME} and <b>b.jpg</b>"]


def test_gui_thumbnailer_reports_an_undecodable_heic_once(qtbot, library, tmp_path: Path, caplog) -> None:
    from tests.test_security_export import _heic_with_cut_bitstream

    _heic_with_cut_bitstream(tmp_path / "h" / "cut.heic")
    indexing.index(library, [tmp_path / "h"], workers=0)
    (photo_id,) = browse.photo_ids(library)
    loader = ThumbnailLoader(lambda pid: indexing.thumbnail(library, pid))
    with caplog.at_level("WARNING", logger="geotagger.gui.thumbnails"):
        assert loader.pixmap(photo_id) is None
        qtbot.waitUntil(lambda: bool(caplog.records), timeout=10000)
        assert loader.wait()
        assert loader.pixmap(photo_id) is None  # the placeholder stays; not retried
    (record,) = caplog.records
    assert "cut.heic: cannot decode the image (EOFError" in record.getMessage()
