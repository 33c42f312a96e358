"""KML / GPX / GeoJSON writers, name safety, and GPS stripping of export copies."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import gpxpy
import pytest

from geotagger.export.formats import GPX_NS, KML_NS, write_geojson, write_gpx, write_kml
from geotagger.export.items import ExportItem
from geotagger.export.naming import inside, safe_component, unique_name
from geotagger.export.strip import strip_gps
from tests.exiftool import exiftool_json
from tests.factories import EXIF_SAMPLES, make_photo

EVIL = "<img src=x onerror=alert(1)>"


def _items() -> list[ExportItem]:
    return [
        ExportItem(
            1,
            "/p/a.jpg",
            EVIL,
            46.593,
            7.909,
            datetime(2023, 7, 1, 12, 30),
            {"display": "Lauterbrunnen & Co"},
        ),
        ExportItem(2, "/p/b.jpg", "b.jpg", -16.88, -179.99, None, {"display": "Fiji", "country_code": "FJ"}),
        ExportItem(3, "/p/c.jpg", "no place", None, None),
    ]


def test_kml_parses_and_escapes(tmp_path: Path) -> None:
    path = tmp_path / "a.kml"
    assert write_kml(_items(), path, "Trip <2023>") == 2
    root = ET.parse(path).getroot()
    marks = root.findall(f".//{{{KML_NS}}}Placemark")
    assert [m.findtext(f"{{{KML_NS}}}name") for m in marks] == [EVIL, "b.jpg"]
    coords = marks[0].findtext(f".//{{{KML_NS}}}coordinates")
    assert coords == "7.9090000,46.5930000,0"
    assert "<img" not in path.read_text(encoding="utf-8")


def test_gpx_is_valid_for_gpxpy(tmp_path: Path) -> None:
    path = tmp_path / "a.gpx"
    assert write_gpx(_items(), path, "Trip") == 2
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    assert [(w.name, round(w.latitude, 3), round(w.longitude, 3)) for w in gpx.waypoints] == [
        (EVIL, 46.593, 7.909),
        ("b.jpg", -16.88, -179.99),
    ]
    assert gpx.waypoints[0].time is None  # no UTC offset known: no time claimed to be UTC
    assert gpx.waypoints[0].description == "Lauterbrunnen & Co | 2023-07-01 12:30:00 (local time)"
    assert "<img" not in path.read_text(encoding="utf-8")


def _timed(offset_min: int | None) -> list[ExportItem]:
    taken = datetime(2022, 2, 16, 12, 55, 41)
    return [ExportItem(1, "/p/a.jpg", "a.jpg", 48.85, 2.35, taken, {}, "a.jpg", None, offset_min)]


@pytest.mark.parametrize(
    ("offset", "utc"),
    [(60, "2022-02-16T11:55:41Z"), (-300, "2022-02-16T17:55:41Z"), (0, "2022-02-16T12:55:41Z")],
)
def test_gpx_and_kml_times_are_utc_from_the_photo_offset(tmp_path: Path, offset: int, utc: str) -> None:
    write_gpx(_timed(offset), tmp_path / "a.gpx", "t")
    write_kml(_timed(offset), tmp_path / "a.kml", "t")
    gpx_time = ET.parse(tmp_path / "a.gpx").getroot().findtext(f".//{{{GPX_NS}}}time")
    kml_time = ET.parse(tmp_path / "a.kml").getroot().findtext(f".//{{{KML_NS}}}when")
    assert gpx_time == utc and kml_time == utc
    parsed = gpxpy.parse((tmp_path / "a.gpx").read_text(encoding="utf-8")).waypoints[0].time
    assert parsed.utcoffset().total_seconds() == 0 and parsed.isoformat().startswith(utc[:-1])
    write_geojson(_timed(offset), tmp_path / "a.geojson", "t")
    props = json.loads((tmp_path / "a.geojson").read_text(encoding="utf-8"))["features"][0]["properties"]
    assert props["taken_utc"] == utc
    assert datetime.fromisoformat(props["taken"]).utcoffset().total_seconds() == offset * 60


def test_unknown_offset_claims_no_utc_time(tmp_path: Path) -> None:
    """A wall-clock time with an unknown zone is not written as a machine time: a wrong Z is a lie."""
    write_gpx(_timed(None), tmp_path / "a.gpx", "t")
    write_kml(_timed(None), tmp_path / "a.kml", "t")
    gpx = (tmp_path / "a.gpx").read_text(encoding="utf-8")
    kml = (tmp_path / "a.kml").read_text(encoding="utf-8")
    assert "<time>" not in gpx and "TimeStamp" not in kml
    assert "2022-02-16 12:55:41 (local time)" in gpx and "2022-02-16 12:55:41 (local time)" in kml
    write_geojson(_timed(None), tmp_path / "a.geojson", "t")
    props = json.loads((tmp_path / "a.geojson").read_text(encoding="utf-8"))["features"][0]["properties"]
    assert props["taken"] == "2022-02-16T12:55:41" and props["taken_utc"] is None


def test_xml_keeps_every_character_xml_can_carry(tmp_path: Path) -> None:
    """CR, tabs, RTL marks, U+2028 and emoji come back literally; C0 controls (not representable in
    XML 1.0) and undecodable file-name bytes become U+FFFD instead of breaking the file."""
    title = "a\rb\tc\u202e\u2028\U0001f600 ]]> {{7*7}} \x01\x1f " + os.fsdecode(b"\xff.jpg")
    items = [ExportItem(1, "/p/a.jpg", title, 1.0, 2.0)]
    write_kml(items, tmp_path / "a.kml", title)
    write_gpx(items, tmp_path / "a.gpx", title)
    expected = "a\rb\tc\u202e\u2028\U0001f600 ]]> {{7*7}} \ufffd\ufffd \ufffd.jpg"
    kml = ET.parse(tmp_path / "a.kml").getroot()
    assert kml.findtext(f".//{{{KML_NS}}}Placemark/{{{KML_NS}}}name") == expected
    assert kml.findtext(f"{{{KML_NS}}}Document/{{{KML_NS}}}name") == expected
    gpx = ET.parse(tmp_path / "a.gpx").getroot()
    assert gpx.findtext(f".//{{{GPX_NS}}}wpt/{{{GPX_NS}}}name") == expected


def test_geojson_is_lon_lat(tmp_path: Path) -> None:
    path = tmp_path / "a.geojson"
    assert write_geojson(_items(), path, "Trip") == 2
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert data["features"][1]["geometry"]["coordinates"] == [-179.99, -16.88]
    assert data["features"][0]["properties"]["title"] == EVIL


@pytest.mark.parametrize(
    "name", ["../../etc", "..", "/abs/path", "a/../../b", "con\x00trol", ".hidden", "   "]
)
def test_album_names_cannot_escape(tmp_path: Path, name: str) -> None:
    target = inside(tmp_path, name)
    assert target.parent == tmp_path.resolve()
    assert "/" not in safe_component(name) and safe_component(name) != ".."


def test_unique_names_do_not_collide(tmp_path: Path) -> None:
    taken: set[str] = set()
    assert [unique_name(tmp_path, n, taken) for n in ["a.jpg", "A.jpg", "a.jpg"]] == [
        "a.jpg",
        "A (2).jpg",
        "a (3).jpg",
    ]


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_strip_removes_gps_and_keeps_the_rest(tmp_path: Path, suffix: str) -> None:
    photo = make_photo(
        tmp_path / f"p{suffix}", lat=46.5, lon=7.9, alt=800, taken=datetime(2020, 1, 2, 3, 4, 5)
    )
    before = exiftool_json("-a", "-EXIF:all", str(photo))[0]
    assert before["GPSLatitude"] == pytest.approx(46.5)
    assert strip_gps(photo) is True
    after = exiftool_json("-a", "-EXIF:all", "-warning", str(photo))[0]
    assert not any(key.startswith("GPS") for key in after)
    assert "Warning" not in after
    kept = {k: v for k, v in before.items() if not k.startswith("GPS")}
    assert {k: after.get(k) for k in kept} == kept
    assert strip_gps(photo) is False


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
def test_strip_real_camera_files(tmp_path: Path) -> None:
    folder = EXIF_SAMPLES / "jpg" / "gps"
    if not folder.is_dir():
        pytest.skip("shared exif samples absent")
    copies = [shutil.copy(f, tmp_path / f.name) for f in sorted(folder.glob("*.jpg"))]
    assert copies
    for copy in copies:
        assert strip_gps(Path(copy)) is True
    for report in exiftool_json("-validate", "-warning", "-a", "-GPS:all", *map(str, copies)):
        assert report["Validate"] in ("OK", "0 0 0"), report  # -n prints the counts
        assert not any(key.startswith("GPS") for key in report)
