"""`geotagger geocode`: points (negative ones too), CSV input, formats, one-line errors."""

from __future__ import annotations

import csv
import io
import json

from geotagger.cli.main import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_points_table_with_negative_coordinates(capsys) -> None:
    code, out, err = _run(capsys, "geocode", "46.593,7.909", "-33.9249,18.4241", "48.97,-97.24")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["lat", "lon", "display"]
    assert "Lauterbrunnen, Bern, Switzerland" in lines[1]
    assert "South Africa" in lines[2] and "ZA-WC" in lines[2]
    assert "North Dakota" in lines[3]


def test_double_dash_and_json(capsys) -> None:
    code, out, _ = _run(capsys, "geocode", "--format", "json", "--", "-16.88,-179.99", "30,-40")
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["country_code"] == "FJ" and rows[0]["ids"]["country"] == "FJ"
    assert rows[1]["country_code"] is None and rows[1]["display"] == "open sea"


def test_csv_in_csv_out(tmp_path, capsys) -> None:
    src = tmp_path / "points.csv"
    src.write_text("name,Lat,Lon\nsagrada,41.4036,2.1744\nbuda,47.4966,19.0345\n", encoding="utf-8")
    code, out, _ = _run(capsys, "geocode", "--csv", str(src), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["country_code"] for r in rows] == ["ES", "HU"]
    assert rows[0]["admin1_code"] == "ES-CT" and rows[1]["admin1_code"] == "HU-BU"
    assert list(rows[0]) == [
        "lat", "lon", "display", "country_code", "country", "admin1", "admin1_code", "admin2", "locality", "locality_km",
    ]  # fmt: skip


def test_bad_input_is_one_line_exit_1(tmp_path, capsys) -> None:
    for argv, needle in [
        (["geocode", "91,0"], "latitude 91"),
        (["geocode", "10,200"], "longitude 200"),
        (["geocode", "abc"], "not LAT,LON"),
        (["geocode"], "no points"),
        (["geocode", "--csv", str(tmp_path / "missing.csv")], "no such CSV file"),
    ]:
        code, out, err = _run(capsys, *argv)
        assert code == 1 and out == ""
        assert err.startswith("error: ") and needle in err and err.count("\n") == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("lat,lon\n1,2\n3,x\n", encoding="utf-8")
    code, _, err = _run(capsys, "geocode", "--csv", str(bad))
    assert code == 1 and "line 3" in err and "'x'" in err
    nohdr = tmp_path / "nohdr.csv"
    nohdr.write_text("a,b\n1,2\n", encoding="utf-8")
    code, _, err = _run(capsys, "geocode", "--csv", str(nohdr))
    assert code == 1 and "'lat' and 'lon'" in err


def test_semicolon_and_tab_csv_from_spreadsheets(tmp_path, capsys) -> None:
    for name, text in [
        ("semi.csv", "\ufeffName;Lat;Lon\r\nbuda;47.4966;19.0345\r\n"),
        ("tab.tsv", "lat\tlon\n47.4966\t19.0345\n"),
    ]:
        src = tmp_path / name
        src.write_text(text, encoding="utf-8")
        code, out, err = _run(capsys, "geocode", "--csv", str(src), "--format", "json")
        assert code == 0, err
        assert [r["country_code"] for r in json.loads(out)] == ["HU"]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("x;y\n1;2\n", encoding="utf-8")
    code, _, err = _run(capsys, "geocode", "--csv", str(wrong))
    assert code == 1 and "(found 'x', 'y')" in err
