"""Property-based hostile text through every export format, the HTML map in a real browser engine, and
the GUI's labels: whatever a file name, album name, title or metadata string holds, KML and GPX parse
and give it back, GeoJSON round-trips it, the map shows it literally with every marker, and nothing in it
is evaluated (an SSTI payload that would create a folder, an onerror handler that would set a flag).

Example counts are small for CI; GEOTAGGER_TRIALS multiplies them (e.g. GEOTAGGER_TRIALS=10 locally).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from geotagger.export.formats import GPX_NS, KML_NS, write_geojson, write_gpx, write_kml
from geotagger.export.items import ExportItem
from geotagger.maps.page import MapPoint, build_map_page, page_data, point_popup
from geotagger.textsafe import xml_text

with contextlib.suppress(ImportError):  # QtWebEngine needs this before the QApplication exists
    from PySide6.QtCore import QCoreApplication, Qt

    if QCoreApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

TRIALS = max(1, int(os.environ.get("GEOTAGGER_TRIALS", "1")))
CANARY = "generate_lorem_ipsum"  # the folder the SSTI payload below creates if a template evaluates it
TOKENS = [
    "{{7*7}}",
    "{{lipsum.__globals__.os.mkdir(lipsum.__name__)}}",
    "{% raw %}",
    "{%",
    "{#",
    "#}",
    "}}",
    "</script>",
    "<!--<script>",
    "<!--",
    "-->",
    "<script>",
    "]]>",
    "<![CDATA[",
    '"',
    "'",
    "`${window.pwned=1}`",
    "&amp;",
    "&lt;",
    "<img src=x onerror=window.pwned=1>",
    "<b>",
    "\\u003c",
    "%",
    "_",
    "\\",
    "\u2028",
    "\u2029",
    "\u202e",
    "\u200f",
    "\u0645\u0635\u0631",
    "\U0001f600",
    "\x01",
    "\x1b",
    "\x7f",
    "\t",
    "\r",
    "\n",
    " ",
    "x" * 120,
]
_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
TEXT = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(_CHARS, max_size=6)), min_size=1, max_size=5).map(
    "".join
)


def file_stem(text: str, index: int) -> str:
    """A file name stem from hostile text: no '/', at most ~200 bytes, never hidden or empty."""
    stem = f"{index}-" + text.replace("/", "\u2215")
    while len(stem.encode("utf-8")) > 200:
        stem = stem[:-1]
    return stem


def _doc_title(text: str) -> str:
    """What Chromium's document.title gives for a <title> holding ``text``: runs of ASCII whitespace
    and control characters (U+0000-U+0020, U+007F) collapsed to one space, then stripped; except
    U+000B (vertical tab), which Chromium keeps as it is (measured on Qt WebEngine 6)."""
    return re.sub("[\x00-\x0a\x0c-\x20\x7f]+", " ", text).strip(" ")


# --------------------------------------------------------------------------- the writers, no browser


@settings(max_examples=150 * TRIALS, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(titles=st.lists(TEXT, min_size=1, max_size=4), name=TEXT)
def test_kml_gpx_geojson_and_page_data_give_back_the_text(tmp_path_factory, titles, name) -> None:
    folder = tmp_path_factory.getbasetemp() / "writers"  # one folder: the map assets are copied once
    folder.mkdir(exist_ok=True)
    items = [
        ExportItem(i, f"/p/{i}.jpg", t, 10.0 + i, 20.0, datetime(2024, 5, 1, 12), {"display": t}, f"{i}.jpg")
        for i, t in enumerate(titles)
    ]
    write_kml(items, folder / "a.kml", name)
    write_gpx(items, folder / "a.gpx", name)
    write_geojson(items, folder / "a.geojson", name)
    kml = ET.parse(folder / "a.kml").getroot()  # a real XML parser: raises on anything malformed
    marks = list(kml.iter(f"{{{KML_NS}}}Placemark"))
    assert [m.findtext(f"{{{KML_NS}}}name") for m in marks] == [xml_text(t) for t in titles]
    assert kml.findtext(f"{{{KML_NS}}}Document/{{{KML_NS}}}name") == xml_text(name)
    gpx = ET.parse(folder / "a.gpx").getroot()
    assert [w.findtext(f"{{{GPX_NS}}}name") for w in gpx.iter(f"{{{GPX_NS}}}wpt")] == [
        xml_text(t) for t in titles
    ]
    for w, t in zip(gpx.iter(f"{{{GPX_NS}}}wpt"), titles, strict=True):
        expected = " | ".join(x for x in (xml_text(t), "2024-05-01 12:00:00 (local time)") if x)
        assert w.findtext(f"{{{GPX_NS}}}desc") == expected
    geo = json.loads((folder / "a.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["title"] for f in geo["features"]] == titles and geo["name"] == name

    points = [MapPoint(i.lat, i.lon, i.title, i.photo_id, point_popup(i.title, [i.place])) for i in items]
    page = build_map_page(folder / "map.html", points, title=name).read_text(encoding="utf-8")
    block = page.split('id="geotagger-data">', 1)[1].split("</script>", 1)[0]
    assert not set(block) & set("<>&\u2028\u2029")  # nothing can end the element or open a comment
    assert [p["title"] for p in page_data(page)["points"]] == titles
    assert page_data(page)["points"][0]["popup"] == points[0].popup
    assert not list(Path.cwd().glob(CANARY))


# --------------------------------------------------------------------------- export + the browser engine


@pytest.fixture
def browser(qtbot):
    """One plain browser view for all examples of a test (the page is an exported file, no Qt bridge)."""
    pytest.importorskip("PySide6.QtWebEngineWidgets")
    from PySide6.QtWebEngineWidgets import QWebEngineView

    view = QWebEngineView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    yield view
    view.close()
    view.deleteLater()  # the page must go before the app tears down its web profile
    qtbot.wait(10)


def _load(qtbot, view, page: Path) -> None:
    from PySide6.QtCore import QUrl

    with qtbot.waitSignal(view.loadFinished, timeout=30000) as loaded:
        view.load(QUrl.fromLocalFile(str(page)))
    assert loaded.args == [True]


def _js(qtbot, view, script: str):
    box: list = []
    view.page().runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10000)
    return box[0]


@settings(
    max_examples=15 * TRIALS,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each example takes a second
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(TEXT, min_size=1, max_size=3),
    title=st.one_of(st.none(), TEXT),
    album=TEXT,
    make=TEXT,
)
def test_export_in_every_format_shows_the_literal_text(
    qtbot, browser, tmp_path_factory, texts, title, album, make
) -> None:
    from geotagger.errors import UserInputError
    from geotagger.services import Library, albums, exporting, indexing
    from tests.factories import make_photo

    base = tmp_path_factory.mktemp("fuzz", numbered=True)
    names = [file_stem(t, i) + ".jpg" for i, t in enumerate(texts)]
    for i, name in enumerate(names):
        make_photo(
            base / "photos" / name, lat=40.0 + i, lon=5.0 + i, taken=datetime(2024, 5, 1, 12), make=make
        )
    lib = Library(base / "lib" / "library.sqlite")
    try:
        with contextlib.chdir(base):  # where an evaluated payload would create its folder
            indexing.index(lib, [base / "photos"], workers=0)
            try:
                album = albums.create_album(lib, album).name  # as the catalog keeps it (stripped, NFC)
                albums.add_photos(lib, album, [str(base / "photos" / n) for n in names])
                which = {"album": album}
                label = title or album
            except UserInputError:  # an album name the catalog refuses (control characters, blank)
                which = {"filter": "all"}
                label = title or "all"
            report = exporting.export(
                lib, base / "out", name=title, kml=True, gpx=True, geojson=True, html_map=True, **which
            )
        assert not list(base.rglob(CANARY))
        kml = ET.parse(report.files["kml"]).getroot()
        got = sorted(m.findtext(f"{{{KML_NS}}}name") for m in kml.iter(f"{{{KML_NS}}}Placemark"))
        assert got == sorted(xml_text(n) for n in names)
        assert kml.findtext(f"{{{KML_NS}}}Document/{{{KML_NS}}}name") == xml_text(label)
        gpx = ET.parse(report.files["gpx"]).getroot()
        got = sorted(w.findtext(f"{{{GPX_NS}}}name") for w in gpx.iter(f"{{{GPX_NS}}}wpt"))
        assert got == sorted(xml_text(n) for n in names)
        geo = json.loads(report.files["geojson"].read_text(encoding="utf-8"))
        assert sorted(f["properties"]["title"] for f in geo["features"]) == sorted(names)
        assert all(f["properties"]["thumbnail"] for f in geo["features"])

        _load(qtbot, browser, report.files["html"])
        qtbot.waitUntil(lambda: _js(qtbot, browser, "typeof geotagger === 'object'"), timeout=10000)
        markers = _js(qtbot, browser, "JSON.stringify(geotagger.libraryMarkers())")
        markers = json.loads(markers)
        assert sorted(m["title"] for m in markers) == sorted(names)  # every marker, literal title
        assert sorted(m["popupTitle"] for m in markers) == sorted(names)
        for marker in markers:  # the popup holds only the markup the app made
            elements = marker["elements"]
            assert set(elements) <= {"a href", "b", "br", "img class src alt"}, marker
            assert [elements.count(e) for e in ("a href", "b", "img class src alt")] == [1, 1, 1], marker
        links = sorted(unquote(urlparse(m["link"]).path) for m in markers)  # "open photo" finds the copy
        assert links == sorted(str(report.folder / item.dest_name) for item in report.items)
        assert _js(qtbot, browser, "document.title") == _doc_title(label)
        assert _js(qtbot, browser, "String(window.pwned)") == "undefined"
    finally:
        lib.close()


# --------------------------------------------------------------------------- the GUI's labels


def lines(text: str) -> str:
    """Text as rich text shows it: CR, CRLF, U+2028 and U+2029 end a line; U+00A0 is a space."""
    return re.sub("\r\n|[\r\u2028\u2029]", "\n", text).replace("\xa0", " ")


@settings(
    max_examples=60 * TRIALS,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(filename=TEXT, camera=TEXT, folder=TEXT, error=TEXT, label=TEXT)
def test_details_labels_and_tooltips_show_the_literal_text(
    qtbot, filename, camera, folder, error, label
) -> None:
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import Qt

    from geotagger.gui.details import DetailsPane
    from geotagger.services.browse import CandidateView, PhotoDetails
    from tests.test_security_gui import red_pixels, shown_as

    path = f"/{folder}/{filename}"
    candidate = CandidateView(
        0, 0, 1.0, 2.0, 25.0, "city", 0.5, "time", {}, label, f"near {filename}", [], {}
    )
    details = PhotoDetails(
        1, path, filename, folder, None, None, camera, 10, 10, None, None, None, None,
        "suggested", "ok", error, "0" * 40, [candidate], [], [],
    )  # fmt: skip
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.show_details(details)
    assert pane.title.text() == filename and pane.camera.text() == (camera or "unknown")
    assert pane.problem.text() == (f"Error: {error}" if error else "")
    for widget in (pane.title, pane.state, pane.taken, pane.camera, pane.location, pane.problem):
        assert widget.textFormat() == Qt.TextFormat.PlainText
    assert lines(shown_as(pane.title.toolTip())) == lines(path)
    assert lines(shown_as(pane.evidence.text())).startswith(lines(f"1. {label} ±25 km"))
    assert lines(shown_as(pane.candidates.topLevelItem(0).toolTip(1))).startswith(lines(label))
    assert red_pixels(pane) == 0 or "<" not in filename + camera + error + label + folder
    pane.close()
    pane.deleteLater()
