"""GPS tracks: reading GPX / KML / NMEA, placing photos on them by time, and locate + tag end to end."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from geotagger.errors import MetadataError
from geotagger.geo.metrics import haversine_km
from geotagger.locate.tracks import (
    MAX_GAP_S,
    photo_utc_seconds,
    read_track,
    to_arrays,
    track_position,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)  # 14:00 in Zurich (CEST, +2)


def _walk(n: int = 31, step_s: int = 60, lat0: float = 47.3769, lon0: float = 8.5417):
    """A walk through Zurich: one point a minute, ~80 m north-east each minute."""
    return [
        (T0 + timedelta(seconds=i * step_s), lat0 + i * 0.0005, lon0 + i * 0.0007, 400.0 + i)
        for i in range(n)
    ]


def write_gpx(path: Path, points, *, as_route: bool = False) -> Path:
    body = "".join(
        f'<{"rtept" if as_route else "trkpt"} lat="{la}" lon="{lo}">{"" if e is None else f"<ele>{e}</ele>"}'
        f"<time>{t.strftime('%Y-%m-%dT%H:%M:%SZ')}</time></{'rtept' if as_route else 'trkpt'}>\n"
        for t, la, lo, e in points
    )
    wrapped = f"<rte>{body}</rte>" if as_route else f"<trk><name>walk</name><trkseg>{body}</trkseg></trk>"
    path.write_text(
        '<?xml version="1.0"?>\n<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"{wrapped}</gpx>\n",
        encoding="utf-8",
    )
    return path


def write_kml(path: Path, points) -> Path:
    whens = "".join(f"<when>{t.strftime('%Y-%m-%dT%H:%M:%SZ')}</when>" for t, *_ in points)
    coords = "".join(f"<gx:coord>{lo} {la} {e}</gx:coord>" for _, la, lo, e in points)
    stamp = points[0][0] - timedelta(minutes=5)
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document>'
        f"<Placemark><gx:Track>{whens}{coords}</gx:Track></Placemark>"
        f"<Placemark><TimeStamp><when>{stamp.strftime('%Y-%m-%dT%H:%M:%SZ')}</when></TimeStamp>"
        f"<Point><coordinates>{points[0][2]},{points[0][1] - 0.01},0</coordinates></Point></Placemark>"
        "</Document></kml>\n",
        encoding="utf-8",
    )
    return path


def _nmea(body: str) -> str:
    value = 0
    for ch in body:
        value ^= ord(ch)
    return f"${body}*{value:02X}"


def _dm(value: float, deg_digits: int, pos: str, neg: str) -> tuple[str, str]:
    a = abs(value)
    d = int(a)
    return f"{d:0{deg_digits}d}{(a - d) * 60:07.4f}", pos if value >= 0 else neg


def write_nmea(path: Path, points) -> Path:
    lines = []
    for t, la, lo, e in points:
        lat, ns = _dm(la, 2, "N", "S")
        lon, ew = _dm(lo, 3, "E", "W")
        hms = t.strftime("%H%M%S.00")
        lines.append(_nmea(f"GPRMC,{hms},A,{lat},{ns},{lon},{ew},1.0,45.0,{t.strftime('%d%m%y')},,,A"))
        g = t + timedelta(seconds=30)  # a GGA half-way to the next RMC, dated by the last RMC
        glat, gns = _dm(la + 0.00025, 2, "N", "S")
        glon, gew = _dm(lo + 0.00035, 3, "E", "W")
        lines.append(
            _nmea(f"GPGGA,{g.strftime('%H%M%S.00')},{glat},{gns},{glon},{gew},1,08,0.9,{e + 0.5},M,47.0,M,,")
        )
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


# -- reading ------------------------------------------------------------------------------------------------


def test_gpx_track_route_and_kml_and_nmea_read_the_same_walk(tmp_path: Path) -> None:
    walk = _walk()
    gpx = read_track(write_gpx(tmp_path / "walk.gpx", walk))
    route = read_track(write_gpx(tmp_path / "route.gpx", walk, as_route=True))
    kml = read_track(write_kml(tmp_path / "walk.kml", walk))
    nmea = read_track(write_nmea(tmp_path / "walk.nmea", walk))
    assert len(gpx) == len(route) == 31
    assert gpx.name == "walk"
    assert gpx.t[0] == T0.timestamp() and np.all(np.diff(gpx.t) > 0)
    assert gpx.ele[3] == pytest.approx(403.0)
    np.testing.assert_allclose(route.lat, gpx.lat)
    assert len(kml) == 32  # the track + one time-stamped placemark five minutes before
    assert kml.t[0] == T0.timestamp() - 300 and kml.lat[1] == pytest.approx(walk[0][1])
    assert kml.lon[5] == pytest.approx(walk[4][2]) and kml.ele[5] == pytest.approx(404.0)
    assert len(nmea) == 62  # RMC + GGA per minute
    assert nmea.t[1] - nmea.t[0] == 30.0
    assert nmea.lat[0] == pytest.approx(walk[0][1], abs=1e-6) and nmea.lon[2] == pytest.approx(
        walk[1][2], abs=1e-6
    )
    assert math.isnan(nmea.ele[0]) and nmea.ele[1] == pytest.approx(400.5)


def test_nmea_southern_western_hemisphere_and_gga_after_midnight(tmp_path: Path) -> None:
    late = datetime(2024, 5, 1, 23, 59, 50, tzinfo=UTC)
    lines = [
        _nmea("GPRMC,235950.00,A,3351.0000,S,15112.0000,W,0.0,0.0,010524,,,A"),
        _nmea("GPGGA,000010.00,3351.0100,S,15112.0100,W,1,08,0.9,12.0,M,0,M,,"),
        "$GPRMC,garbled*00",  # wrong checksum: a logger cut it off, skipped
    ]
    track = read_track(_write(tmp_path / "log.nmea", "\n".join(lines)))
    assert track.t.tolist() == [late.timestamp(), late.timestamp() + 20]
    assert track.lat[0] == pytest.approx(-33.85) and track.lon[0] == pytest.approx(-151.2)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.gpx", "<gpx><trk><trkseg><trkpt lat='1' lon='2'>", "bad.gpx: not a valid GPX file"),
        ("bad.kml", "<kml>\n<Document>\n<Placemark></Document></kml>", "bad.kml:3: not valid KML"),
        (
            "bad.nmea",
            _nmea("GPRMC,120000.00,A,47xx.00,N,00832.5,E,0,0,010524,,,A") + "\n",
            "bad.nmea:1: malformed RMC",
        ),
        ("notes.nmea", "$GPGSV,1\nhello\n", "notes.nmea:2: not an NMEA sentence"),
        (
            "empty.gpx",
            '<gpx version="1.1"><trk><trkseg></trkseg></trk></gpx>',
            "empty.gpx: the track has no points",
        ),
        ("photo.jpg", "\xff\xd8 not a track", "photo.jpg: not a GPX, KML or NMEA track"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_file(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    with pytest.raises(MetadataError) as info:
        read_track(_write(tmp_path / name, text))
    message = str(info.value)
    assert expected in message and "\n" not in message


# -- placing photos -----------------------------------------------------------------------------------------


def test_interpolation_between_bracketing_points_and_the_gap_limits() -> None:
    track = to_arrays("t", [(0.0, 10.0, 20.0, None), (100.0, 10.0, 20.01, None), (2000.0, 11.0, 21.0, None)])
    lat, lon, gap, speed = track_position(
        [50.0, 100.0, -MAX_GAP_S + 1, -MAX_GAP_S - 1, 1000.0, 2000.0 + MAX_GAP_S - 1, 2000.0 + MAX_GAP_S + 1],
        track,
    )
    assert lat[0] == pytest.approx(10.0) and lon[0] == pytest.approx(20.005)
    assert gap[0] == 50.0
    expected_speed = haversine_km(10.0, 20.0, 10.0, 20.01) * 1000.0 / 100.0
    assert speed[0] == pytest.approx(expected_speed) and 10 < speed[0] < 12  # ~1.1 km in 100 s
    assert (lat[1], lon[1], gap[1]) == (10.0, 20.01, 0.0)
    assert lat[2] == 10.0 and gap[2] == MAX_GAP_S - 1  # just before the start: the first point
    assert math.isnan(lat[3])  # too long before the start
    assert math.isnan(lat[4])  # in a 1900 s hole of the track
    assert lat[5] == 11.0 and math.isnan(lat[6])


def test_interpolation_across_the_date_line_goes_the_short_way() -> None:
    track = to_arrays("pacific", [(0.0, -17.0, 179.9, None), (60.0, -17.0, -179.9, None)])
    lat, lon, gap, speed = track_position([15.0, 45.0], track)
    assert lon[0] == pytest.approx(179.95) and lon[1] == pytest.approx(-179.95)
    assert gap.tolist() == [15.0, 15.0]
    assert speed[0] == pytest.approx(haversine_km(-17, 179.9, -17, -179.9) * 1000 / 60)
    assert speed[0] < 400  # ~21 km in a minute, not half the planet


def test_time_zone_of_the_track_when_the_photo_has_no_offset(tmp_path: Path) -> None:
    track = read_track(write_gpx(tmp_path / "walk.gpx", _walk()))
    local_14h = datetime(2024, 5, 1, 14, 10, 0, tzinfo=UTC).timestamp()  # wall clock 14:10, no offset
    utc = photo_utc_seconds(local_14h, None, [track])
    assert utc == (T0 + timedelta(minutes=10)).timestamp()  # Zurich is UTC+2 in May
    lat, lon, gap, _ = track_position([utc], track)
    assert lat[0] == pytest.approx(_walk()[10][1]) and gap[0] == 0.0
    # a recorded offset wins, and the camera-clock correction is added to the photo time
    assert photo_utc_seconds(local_14h, local_14h - 7200, [track], clock_offset_s=-90) == utc - 90
    assert photo_utc_seconds(local_14h + 3600, None, [track], clock_offset_s=-3600) == utc


def test_clock_offset_moves_the_photo_along_the_track(tmp_path: Path) -> None:
    track = read_track(write_gpx(tmp_path / "walk.gpx", _walk()))
    camera = (T0 + timedelta(minutes=5, seconds=30)).timestamp()  # camera 5 min 30 s slow
    true = photo_utc_seconds(camera, camera, [track], clock_offset_s=330)
    lat, _, gap, _ = track_position([true], track)
    assert true == (T0 + timedelta(minutes=11)).timestamp()
    assert lat[0] == pytest.approx(_walk()[11][1]) and gap[0] == 0.0


# -- library: import, list, remove --------------------------------------------------------------------------


def test_import_is_idempotent_by_content_and_remove_forgets(library, tmp_path: Path) -> None:
    from geotagger.services import tracks

    gpx = write_gpx(tmp_path / "walk.gpx", _walk())
    report = tracks.import_tracks(library, [gpx])
    assert [t["points"] for t in report.imported] == [31]
    assert tracks.tracks_digest(library) != ""
    copy = tmp_path / "copy.gpx"
    copy.write_bytes(gpx.read_bytes())
    again = tracks.import_tracks(library, [gpx, copy])
    assert again.imported == [] and len(again.already) == 2
    listed = tracks.list_tracks(library)
    assert len(listed) == 1 and listed[0]["start_utc"] == "2024-05-01 12:00:00"
    loaded = tracks.load_tracks(library)
    assert loaded[0].t[0] == T0.timestamp() and loaded[0].lat[30] == pytest.approx(_walk()[30][1])
    assert tracks.remove_track(library, listed[0]["id"]) == "walk"
    assert tracks.list_tracks(library) == [] and tracks.load_tracks(library) == []
    assert tracks.tracks_digest(library) == ""


def test_tracks_cli(tmp_path: Path, capsys) -> None:
    from geotagger.cli.main import main

    location = str(tmp_path / "lib" / "library.sqlite")
    folder = tmp_path / "logs"
    folder.mkdir()
    write_gpx(folder / "walk.gpx", _walk())
    write_nmea(folder / "walk.nmea", _walk(step_s=120))
    _write(folder / "broken.kml", "<kml><Document>")
    assert main(["--library", location, "tracks", "import", str(folder)]) == 0
    out = capsys.readouterr()
    assert "2 track(s) imported (93 points), 1 could not be read" in out.out
    assert "broken.kml" in out.err
    assert main(["--library", location, "tracks", "import", str(folder / "broken.kml")]) == 1
    assert "broken.kml:1: not valid KML" in capsys.readouterr().err
    assert main(["--library", location, "tracks", "list", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "id,name,points,start_utc,end_utc,path" and len(lines) == 3
    assert main(["--library", location, "tracks", "remove", "1"]) == 0
    assert main(["--library", location, "tracks", "remove", "1"]) == 1
    assert "no track with id 1" in capsys.readouterr().err


# -- end to end: index photos without GPS, import a track, locate, tag --------------------------------------


@pytest.mark.skipif(__import__("shutil").which("exiftool") is None, reason="exiftool not installed")
def test_locate_and_tag_from_a_track_alone(tmp_path: Path, capsys) -> None:
    import json

    from geotagger.cli.main import main
    from tests.exiftool import exiftool_gps
    from tests.factories import make_jpeg

    walk = _walk()
    photos = tmp_path / "photos"
    photos.mkdir()
    make_jpeg(photos / "a.jpg", taken=datetime(2024, 5, 1, 14, 5, 20), offset="+02:00", color=(200, 40, 40))
    make_jpeg(photos / "b.jpg", taken=datetime(2024, 5, 1, 14, 12, 40), color=(40, 200, 40))  # no offset
    make_jpeg(photos / "c.jpg", taken=datetime(2024, 5, 1, 16, 0, 0), offset="+02:00", color=(40, 40, 200))
    truth = {
        "a.jpg": (walk[0][1] + (5 + 1 / 3) * 0.0005, walk[0][2] + (5 + 1 / 3) * 0.0007),
        "b.jpg": (walk[0][1] + (12 + 2 / 3) * 0.0005, walk[0][2] + (12 + 2 / 3) * 0.0007),
    }
    location = str(tmp_path / "lib" / "library.sqlite")
    lib = ["--library", location]
    assert main([*lib, "index", str(photos)]) == 0
    assert main([*lib, "locate"]) == 1  # no geotagged photo and no track: nothing to learn from
    assert "geotagger tracks import" in capsys.readouterr().err
    assert main([*lib, "tracks", "import", str(write_gpx(tmp_path / "walk.gpx", walk))]) == 0
    assert main([*lib, "locate"]) == 0
    assert "2 photos located" in capsys.readouterr().out
    assert main([*lib, "suggestions", "--format", "json"]) == 0
    rows = {Path(r["file"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"a.jpg", "b.jpg"}  # c.jpg was taken 90 min after the track ended
    for name, (lat, lon) in truth.items():
        best = rows[name]
        assert best["source"] == "track" and best["level"] == "exact" and best["confidence"] == 0.97
        assert haversine_km(best["lat"], best["lon"], lat, lon) < 0.1
        assert best["evidence"]["track"] == "walk" and best["evidence"]["gap_s"] == 20.0
        assert "Zürich" in best["address"] or "Zurich" in best["address"]
    assert main([*lib, "locate"]) == 0
    assert "0 photos located, 2 unchanged" in capsys.readouterr().out
    assert main([*lib, "locate", "--clock-offset", "-30"]) == 0  # another correction: recomputed
    assert "2 photos located" in capsys.readouterr().out
    assert main([*lib, "locate"]) == 0
    capsys.readouterr()

    assert main([*lib, "tag", str(photos), "--min-confidence", "0.9"]) == 0
    gps = exiftool_gps(*(photos / n for n in sorted(truth)))
    for name, (lat, lon) in truth.items():
        assert haversine_km(gps[name][0], gps[name][1], lat, lon) < 0.1
    assert exiftool_gps(photos / "c.jpg")["c.jpg"] == (None, None)


def test_track_candidate_confidence_and_evidence_text() -> None:
    from geotagger.locate.tracks import track_candidate, track_confidence
    from geotagger.services.browse import evidence_text

    assert track_confidence(0) == track_confidence(60) == 0.97
    assert track_confidence(MAX_GAP_S) == pytest.approx(0.6)
    assert 0.6 < track_confidence(300) < 0.97
    track = to_arrays("ride", [(0.0, 45.0, 7.0, None), (600.0, 45.0, 7.1, None)])  # ~7.9 km in 10 min
    far = track_candidate(300.0, [track])
    assert far is not None and far.level == "city" and far.radius_km == pytest.approx(3.93, abs=0.05)
    assert far.evidence["text"] == "on track ride, 5 min from the nearest point"
    assert (
        evidence_text({"track": "ride", "gap_s": 42.0, "points": 2})
        == "on track ride, 42 s from the nearest point"
    )
    assert track_candidate(5000.0, [track]) is None and track_candidate(None, [track]) is None


def test_track_candidate_comes_first_then_the_fused_ones(tmp_path: Path, capsys, monkeypatch) -> None:
    import json

    from geotagger.cli.main import main
    from tests.model_fixtures import lite0_pack_dir
    from tests.test_locate_cli import make_library

    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))
    truth = make_library(tmp_path / "photos")  # Paris photos from 09:00 local (07:00 UTC), no offset
    start = datetime(2023, 5, 1, 6, 55, tzinfo=UTC)
    points = [
        (start + timedelta(minutes=m), 48.8566 + 0.0001 * (m - 5), 2.3522 + 0.0001 * (m - 5), None)
        for m in range(0, 100)
    ]
    lib = ["--library", str(tmp_path / "cat.sqlite")]
    assert main([*lib, "index", str(tmp_path / "photos")]) == 0
    assert main([*lib, "tracks", "import", str(write_gpx(tmp_path / "paris.gpx", points))]) == 0
    assert main([*lib, "locate"]) == 0
    assert "10 photos located" in capsys.readouterr().out
    assert main([*lib, "suggestions", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    paris = [r for r in rows if "/paris/" in r["file"]]
    rome = [r for r in rows if "/rome/" in r["file"]]
    assert len(paris) == len(rome) == 5
    for row in paris:
        assert row["source"] == "track" and row["evidence"]["gap_s"] == 0.0
        assert haversine_km(row["lat"], row["lon"], *truth[row["file"]]) < 0.1
        assert all(a["source"] != "track" for a in row["alternatives"])
        assert len(row["alternatives"]) <= 4
        for a in row["alternatives"]:  # a fused place the track already names is not listed again
            assert haversine_km(a["lat"], a["lon"], row["lat"], row["lon"]) > a["radius_km"], a
    # Without the track the same photos' fused candidates are there (they only repeated the track's place).
    assert main([*lib, "tracks", "remove", "1"]) == 0
    assert main([*lib, "locate"]) == 0
    capsys.readouterr()
    assert main([*lib, "suggestions", "--format", "json"]) == 0
    again = {r["file"]: r for r in json.loads(capsys.readouterr().out)}
    for row in paris:
        fused = again[row["file"]]
        assert (
            fused["source"] != "track"
            and haversine_km(fused["lat"], fused["lon"], row["lat"], row["lon"]) < 1
        )
    assert all(r["source"] != "track" for r in rome)


def test_a_track_is_named_by_its_own_name_not_its_file_name(tmp_path: Path, capsys) -> None:
    """GPX <trk><name> (else <rte> or <metadata> name) and KML placemark/document <name> win over the
    file name (issue 10, item 21); a file without one keeps its file name."""
    from geotagger.cli.main import main

    walk = _walk()
    gpx = write_gpx(tmp_path / "20210601_0900.gpx", walk)
    gpx.write_text(gpx.read_text().replace("<name>walk</name>", "<name>  Lake\n walk </name>"))
    route = write_gpx(tmp_path / "route_export.gpx", _walk(step_s=90), as_route=True)
    route.write_text(
        route.read_text().replace("<rte>", "<metadata><name>Evening loop</name></metadata><rte>")
    )
    kml = write_kml(tmp_path / "doc.kml", _walk(step_s=30))
    kml.write_text(
        kml.read_text().replace("<Placemark><gx:Track>", "<Placemark><name>Ridge</name><gx:Track>")
    )
    unnamed = write_kml(tmp_path / "unnamed.kml", _walk(step_s=45))
    assert read_track(gpx).name == "Lake walk"
    assert read_track(route).name == "Evening loop"
    assert read_track(kml).name == "Ridge"
    assert read_track(unnamed).name == "unnamed"

    location = str(tmp_path / "lib" / "library.sqlite")
    assert main(["--library", location, "tracks", "import", str(gpx), str(kml)]) == 0
    capsys.readouterr()
    assert main(["--library", location, "tracks", "list", "--format", "json"]) == 0
    assert sorted(t["name"] for t in json.loads(capsys.readouterr().out)) == ["Lake walk", "Ridge"]
