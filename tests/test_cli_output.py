"""Listings keep the precision a user needs: CSV must round-trip coordinates exactly."""

from __future__ import annotations

import csv
import io
import json

from geotagger.cli.output import print_rows


def _render(fmt: str, rows: list[dict]) -> str:
    out = io.StringIO()
    print_rows(rows, ["lat", "lon", "confidence"], fmt, out)
    return out.getvalue()


def test_csv_keeps_full_coordinate_precision() -> None:
    rows = [{"lat": 47.919412345, "lon": 106.917123, "confidence": 0.855}]
    parsed = list(csv.DictReader(io.StringIO(_render("csv", rows))))
    assert float(parsed[0]["lat"]) == 47.919412345
    assert float(parsed[0]["lon"]) == 106.917123
    assert float(parsed[0]["confidence"]) == 0.855


def test_table_shows_six_decimals_not_six_digits() -> None:
    text = _render("table", [{"lat": 47.919412345, "lon": 106.917123, "confidence": 0.0001234}])
    line = text.splitlines()[1].split()
    assert line[0] == "47.919412"
    assert line[1] == "106.917123"
    assert line[2] == "0.000123"


def test_table_trims_trailing_zeros_and_keeps_none_empty() -> None:
    text = _render("table", [{"lat": 25.0, "lon": None, "confidence": 0.0}])
    assert text.splitlines()[1].split() == ["25", "0"]


def test_table_columns_line_up_after_wide_characters() -> None:
    out = io.StringIO()
    rows = [{"path": "/p/東京.jpg", "status": "ok"}, {"path": "/p/tokyo.jpg", "status": "ok"}]
    print_rows(rows, ["path", "status"], "table", out)
    lines = out.getvalue().splitlines()
    # "東京" is 4 terminal columns: the status column starts at the same screen column on each line
    starts = [len(line) + line.count("東") + line.count("京") - len("ok") for line in lines[1:]]
    assert starts[0] == starts[1]


def test_table_escapes_control_characters_but_csv_and_json_keep_the_name() -> None:
    """A file name is attacker text: ESC sequences or a line break would rewrite the user's terminal or
    forge rows in a table; CSV and JSON are data formats and keep the exact name."""
    name = "a\x1b[2J\x1b[31mFAKE\nb.jpg"
    table, data = io.StringIO(), io.StringIO()
    print_rows([{"file": name}], ["file"], "table", out=table)
    assert "\x1b" not in table.getvalue() and table.getvalue().count("\n") == 2
    assert "\\x1b[2J" in table.getvalue() and "\\n" in table.getvalue()
    print_rows([{"file": name}], ["file"], "json", out=data)
    assert json.loads(data.getvalue()) == [{"file": name}]


def test_error_line_is_one_line_without_escape_sequences(tmp_path, capsys) -> None:
    from geotagger.cli.main import main

    missing = tmp_path / "x\x1b[31m\ny.jpg"
    assert main(["--library", str(tmp_path / "lib.sqlite"), "explain", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "\x1b" not in err
