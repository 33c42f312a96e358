"""Hostile names through `export`: no template engine ever sees user text, the HTML map keeps its
markers, a photo that cannot be decoded is a note rather than a traceback, and times say their zone."""

from __future__ import annotations

import html
import json
import re
import struct
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from geotagger.cli.main import main
from geotagger.export.formats import GPX_NS, KML_NS
from geotagger.maps.page import page_data
from geotagger.services import exporting, indexing
from tests.factories import make_photo

SSTI_MKDIR = "{{lipsum.__globals__.os.mkdir(lipsum.__name__)}}"  # creates ./generate_lorem_ipsum if evaluated
HOSTILE = [SSTI_MKDIR, "{{7*7}}", "Party {#1}", "{% raw %}", "<!--<script>", "x<script>y", "]]>"]


def _cli(library, *args: str) -> int:
    return main(["--library", str(library.catalog.path), *args])


@pytest.fixture
def hostile(library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)  # where an evaluated SSTI payload would create its folder
    names = [f"{stem}.jpg" for stem in HOSTILE]
    for i, name in enumerate(names):
        make_photo(tmp_path / "photos" / name, lat=46.5 + i / 10, lon=7.9, taken=datetime(2022, 2, 16, 12))
    indexing.index(library, [tmp_path / "photos"], workers=0)
    return names


def test_names_never_reach_a_template_engine(library, hostile, tmp_path: Path, capsys) -> None:
    code = _cli(library, "export", str(tmp_path / "out"), "--html", "--kml", "--name", "{{7*7}} {#")
    assert code == 0, capsys.readouterr().err
    assert not list(tmp_path.rglob("generate_lorem_ipsum")), "a file name was executed as a template"
    (folder,) = (tmp_path / "out").iterdir()
    page = (folder / "map.html").read_text(encoding="utf-8")
    assert "<title>{{7*7}} {#</title>" in page  # the literal title, not 49
    data = page_data(page)
    assert sorted(p["title"] for p in data["points"]) == sorted(hostile)
    marks = ET.parse(next(folder.glob("*.kml"))).getroot().iter(f"{{{KML_NS}}}Placemark")
    assert sorted(m.findtext(f"{{{KML_NS}}}name") for m in marks) == sorted(hostile)


def test_the_page_data_cannot_leave_its_script_element(library, hostile, tmp_path: Path) -> None:
    """`<!--<script>` in an inline script switches the HTML parser to "double escaped" script data:
    the rest of the page, markers included, would be swallowed. Script-embedded JSON escapes < > &."""
    report = exporting.export(library, tmp_path / "out", filter="all", html_map=True)
    page = report.files["html"].read_text(encoding="utf-8")
    body = page.split('id="geotagger-data">', 1)[1].split("</script>", 1)[0]
    assert not set(body) & {"<", ">", "&", "\u2028", "\u2029"}
    assert len(page_data(page)["points"]) == len(hostile)


def test_open_photo_links_reach_the_copy(library, tmp_path: Path) -> None:
    """'#', '?' and '%' are URL syntax: unencoded, 'Party {#1}.jpg' linked to 'Party {' (a fragment)."""
    for i, stem in enumerate(["Party {#1}", "a%41b", "what?", "sp ace"]):
        make_photo(tmp_path / "p" / f"{stem}.jpg", lat=46.5 + i, lon=7.9)
    indexing.index(library, [tmp_path / "p"], workers=0)
    report = exporting.export(library, tmp_path / "out", filter="all", html_map=True)
    hrefs = [
        re.search(r'<a href="([^"]*)"', p["popup"]).group(1)
        for p in page_data(report.files["html"].read_text("utf-8"))["points"]
    ]
    resolved = sorted(unquote(urlsplit(html.unescape(href)).path) for href in hrefs)
    assert resolved == sorted(item.dest_name for item in report.items)
    assert all((report.folder / name).is_file() for name in resolved)


def _heic_with_cut_bitstream(path: Path) -> Path:
    """A HEIC whose first NAL unit claims 1000 bytes more than it has: it indexes (headers are fine)
    but libheif fails while decoding (pillow_heif raises EOFError, which is not an OSError)."""
    make_photo(path, lat=46.5, lon=7.9, taken=datetime(2022, 2, 16, 12, 55, 41), offset="+01:00")
    data = bytearray(path.read_bytes())
    at = data.find(b"mdat") + 4
    data[at : at + 4] = struct.pack(">I", struct.unpack(">I", data[at : at + 4])[0] + 1000)
    path.write_bytes(bytes(data))
    return path


def test_undecodable_heic_is_a_note_not_a_traceback(library, tmp_path: Path, capsys) -> None:
    _heic_with_cut_bitstream(tmp_path / "photos" / "cut.heic")
    make_photo(tmp_path / "photos" / "fine.jpg", lat=47.0, lon=8.0, taken=datetime(2022, 2, 16, 13))
    indexing.index(library, [tmp_path / "photos"], workers=0)
    code = _cli(library, "export", str(tmp_path / "out"), "--html", "--geojson")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err and "cut.heic" in out + err and "cannot decode" in out + err
    (folder,) = (tmp_path / "out").iterdir()
    features = json.loads(next(folder.glob("*.geojson")).read_text(encoding="utf-8"))["features"]
    thumbs = {f["properties"]["file"]: f["properties"]["thumbnail"] for f in features}
    assert thumbs["cut.heic"] is None  # the popup shows the title only
    assert thumbs["fine.jpg"] and (folder / thumbs["fine.jpg"]).is_file()


def test_cli_prints_no_terminal_control_sequences(library, tmp_path: Path, capsys) -> None:
    """A file name holding ESC sequences (retitle the terminal, clear it) is printed escaped."""
    _heic_with_cut_bitstream(tmp_path / "photos" / "\x1b]0;owned\x07\x1b[2J.heic")  # gets a note
    indexing.index(library, [tmp_path / "photos"], workers=0)
    assert _cli(library, "export", str(tmp_path / "out"), "--html") == 0
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\\x1b]0;owned\\x07\\x1b[2J.heic" in out + err


def test_geojson_names_the_exported_thumbnails(library, hostile, tmp_path: Path) -> None:
    report = exporting.export(library, tmp_path / "out", filter="all", geojson=True, html_map=True)
    features = json.loads(report.files["geojson"].read_text(encoding="utf-8"))["features"]
    names = [f["properties"]["thumbnail"] for f in features]
    assert len(names) == len(hostile) and all(names)
    assert all((report.folder / name).is_file() for name in names)


def test_gpx_time_is_utc_from_the_photo_offset(library, tmp_path: Path) -> None:
    taken = datetime(2022, 2, 16, 12, 55, 41)
    make_photo(tmp_path / "p" / "paris.jpg", lat=48.85, lon=2.35, taken=taken, offset="+01:00")
    make_photo(tmp_path / "p" / "nozone.jpg", lat=48.86, lon=2.35, taken=taken)
    indexing.index(library, [tmp_path / "p"], workers=0)
    report = exporting.export(library, tmp_path / "out", filter="all", gpx=True, kml=True)
    gpx = ET.parse(report.files["gpx"]).getroot()
    times = {
        w.findtext(f"{{{GPX_NS}}}name"): w.findtext(f"{{{GPX_NS}}}time") for w in gpx.iter(f"{{{GPX_NS}}}wpt")
    }
    assert times == {"paris.jpg": "2022-02-16T11:55:41Z", "nozone.jpg": None}
    kml = ET.parse(report.files["kml"]).getroot()
    whens = [w.text for w in kml.iter(f"{{{KML_NS}}}when")]
    assert whens == ["2022-02-16T11:55:41Z"]
