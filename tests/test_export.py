"""Album export end to end: copies carry locations at the chosen precision, originals stay untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import gpxpy
import pytest

from geotagger.cli.main import main
from geotagger.errors import NotFoundError, UserInputError
from geotagger.export.formats import KML_NS
from geotagger.maps.page import page_data
from geotagger.services import albums, decisions, exporting, indexing
from tests.exiftool import exiftool_gps
from tests.factories import make_photo

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
EVIL = "<img src=x onerror=alert(1)>"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def trip(library, tmp_path: Path):
    photos = tmp_path / "photos"
    when = datetime(2023, 7, 1, 12)
    files = {
        "lauterbrunnen": make_photo(photos / "lauterbrunnen.jpg", lat=46.593, lon=7.909, taken=when),
        "evil": make_photo(photos / f"{EVIL}.jpg", lat=41.4036, lon=2.1744, taken=when),
        "nogps": make_photo(photos / "nogps.jpg", taken=when),
        "png": make_photo(photos / "budapest.png", lat=47.4966, lon=19.0345, taken=when),
    }
    indexing.index(library, [photos], workers=0)
    decisions.accept(library, str(files["nogps"]), lat=47.37, lon=8.54, level="exact")
    albums.create_album(library, "Trip ../../escape")
    albums.add_photos(library, "Trip ../../escape", [str(p) for p in files.values()])
    before = {name: _sha(path) for name, path in files.items()}
    yield files
    assert {name: _sha(path) for name, path in files.items()} == before, "an original was changed"


def test_keep_exports_everything_with_maps(library, trip, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    report = exporting.export(
        library, dest, album="Trip ../../escape", kml=True, gpx=True, geojson=True, html_map=True
    )
    folder = report.folder
    assert folder.parent == dest.resolve() and folder.name == "Trip .._.._escape"
    assert len(report.items) == 4 and report.located == 4 and report.skipped == []
    gps = exiftool_gps(*(folder / i.dest_name for i in report.items if i.dest_name.endswith(".jpg")))
    assert gps["lauterbrunnen.jpg"] == pytest.approx((46.593, 7.909), abs=1e-5)
    assert gps["nogps.jpg"] == pytest.approx((47.37, 8.54), abs=1e-5)  # accepted, written into the copy
    kml = ET.parse(report.files["kml"]).getroot()
    assert len(kml.findall(f".//{{{KML_NS}}}Placemark")) == 4
    gpx = gpxpy.parse(report.files["gpx"].read_text(encoding="utf-8"))
    assert {w.name for w in gpx.waypoints} >= {"lauterbrunnen.jpg", f"{EVIL}.jpg"}
    geo = json.loads(report.files["geojson"].read_text(encoding="utf-8"))
    assert len(geo["features"]) == 4
    page = report.files["html"].read_text(encoding="utf-8")
    assert EVIL not in page  # user text only inside the script-safe JSON data block
    points = page_data(page)["points"]
    assert any("&lt;img src=x" in p["popup"] for p in points)  # escaped in the popup HTML
    # raw only as JSON data for the marker's title attribute, which Leaflet sets as text
    assert f"{EVIL}.jpg" in {p["title"] for p in points}
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert (folder / "thumbnails").is_dir() and len(list((folder / "thumbnails").glob("*.jpg"))) == 4


def test_city_and_region_coarsen_copies(library, trip, tmp_path: Path) -> None:
    city = exporting.export(library, tmp_path / "city", album="Trip ../../escape", location="city")
    region = exporting.export(library, tmp_path / "region", album="Trip ../../escape", location="region")
    evil_copy = next(i.dest_name for i in city.items if i.title.startswith(EVIL))
    assert evil_copy == "_img src=x onerror=alert(1)_.jpg"  # no markup characters in exported names
    gps_city = exiftool_gps(city.folder / evil_copy)[evil_copy]
    gps_region = exiftool_gps(region.folder / "lauterbrunnen.jpg")["lauterbrunnen.jpg"]
    # Sagrada Familia -> a Barcelona district centre, not the monument itself
    assert gps_city != pytest.approx((41.4036, 2.1744), abs=1e-3)
    assert gps_city == pytest.approx((41.39, 2.16), abs=0.05)
    # Lauterbrunnen -> the centre of canton Bern
    assert gps_region == pytest.approx((46.8, 7.6), abs=0.4)
    assert {i.address.get("admin1") for i in region.items if i.located} >= {"Bern", "Catalunya"}
    sidecar = region.folder / "budapest.png.xmp"
    assert sidecar.exists() and "GPSLatitude" in sidecar.read_text(encoding="utf-8")


def test_strip_removes_gps_from_every_copy(library, trip, tmp_path: Path) -> None:
    report = exporting.export(
        library, tmp_path / "strip", album="Trip ../../escape", location="strip", kml=True
    )
    copies = [report.folder / i.dest_name for i in report.items]
    assert all(value == (None, None) for value in exiftool_gps(*copies).values())
    assert report.located == 0
    assert ET.parse(report.files["kml"]).getroot().findall(f".//{{{KML_NS}}}Placemark") == []


def test_errors_and_cli(library, trip, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(NotFoundError):
        exporting.export(library, tmp_path / "x", album="missing")
    with pytest.raises(UserInputError):
        exporting.export(library, tmp_path / "x", location="fuzzy")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserInputError, match="cannot create the export folder"):
        exporting.export(library, blocker / "sub", filter="has-gps")
    code = main(
        [
            "--library",
            str(library.catalog.path),
            "export",
            str(tmp_path / "cli"),
            "--filter",
            "has-gps",
            "--gpx",
        ]
    )
    assert code == 0
    assert "exported 3 photo(s)" in capsys.readouterr().out
    assert (tmp_path / "cli" / "has-gps" / "has-gps.gpx").is_file()


def test_exporting_again_into_a_filled_folder_is_refused(library, trip, tmp_path: Path) -> None:
    first = exporting.export(library, tmp_path / "again", album="Trip ../../escape", kml=True)
    before = sorted(p.name for p in first.folder.iterdir())
    with pytest.raises(UserInputError, match="already exists and is not empty"):
        exporting.export(library, tmp_path / "again", album="Trip ../../escape")
    assert sorted(p.name for p in first.folder.iterdir()) == before  # no "name (2).jpg" copies
    other = exporting.export(library, tmp_path / "again", album="Trip ../../escape", name="Trip v2")
    assert other.folder.name == "Trip v2" and len(other.items) == 4


def test_dest_that_is_a_file_is_named_as_such(library, trip, tmp_path: Path) -> None:
    dest = tmp_path / "notes.csv"
    dest.write_text("x")
    with pytest.raises(UserInputError, match="is a file; DEST must be a folder"):
        exporting.export(library, dest, album="Trip ../../escape")


def test_read_only_original_and_country_level_acceptance(library, trip, tmp_path: Path) -> None:
    import stat

    trip["lauterbrunnen"].chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    nogps = trip["nogps"]
    decisions.accept(library, str(nogps), lat=47.37, lon=8.54, level="country")
    report = exporting.export(library, tmp_path / "ro", album="Trip ../../escape", location="city")
    copies = {i.title: report.folder / i.dest_name for i in report.items}
    assert copies["lauterbrunnen.jpg"].stat().st_mode & stat.S_IWUSR  # mode bits: root ignores os.access
    assert exiftool_gps(copies["lauterbrunnen.jpg"])["lauterbrunnen.jpg"][0] is not None
    # country level: no coordinate in the copy, only the country's name beside it
    assert exiftool_gps(copies["nogps.jpg"])["nogps.jpg"] == (None, None)
    sidecar = (report.folder / "nogps.jpg.xmp").read_text(encoding="utf-8")
    assert "Switzerland" in sidecar and "GPSLatitude" not in sidecar
    assert not next(i for i in report.items if i.title == "nogps.jpg").located
