"""The index / status / list commands, run in-process through the real entry point."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from geotagger.cli.main import main
from tests.factories import make_jpeg


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "pics"
    make_jpeg(root / "with.jpg", lat=45.0, lon=7.5, taken=datetime(2020, 1, 2, 3, 4, 5))
    make_jpeg(root / "without.jpg", color=(1, 2, 3))
    (root / "broken.jpg").write_text("not a jpeg")
    return root


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_index_status_list(capsys, tmp_path: Path, folder: Path) -> None:
    lib = str(tmp_path / "lib" / "library.sqlite")
    code, out, err = _run(capsys, "--library", lib, "index", "--workers", "0", str(folder))
    assert code == 0
    assert out.strip().startswith("3 files scanned") and "3 added" in out and "1 errors" in out
    assert "list --filter error" in err

    code, out, _ = _run(capsys, "--library", lib, "index", str(folder))
    assert code == 0 and "3 unchanged" in out

    code, out, _ = _run(capsys, "--library", lib, "status", "--json")
    counts = json.loads(out)
    assert code == 0 and counts["photos"] == 3 and counts["with_gps"] == 1 and counts["errors"] == 1

    code, out, _ = _run(capsys, "--library", lib, "status")
    assert code == 0 and "with gps" in out and "without gps" in out

    code, out, _ = _run(capsys, "--library", lib, "list", "--filter", "has-gps", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [Path(r["path"]).name for r in rows] == ["with.jpg"]
    assert rows[0]["gps_lat"] == pytest.approx(45.0) and rows[0]["taken_at"] == "2020-01-02T03:04:05"

    code, out, _ = _run(capsys, "--library", lib, "list", "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and sorted(Path(r["path"]).name for r in parsed) == [
        "broken.jpg",
        "with.jpg",
        "without.jpg",
    ]

    code, out, _ = _run(capsys, "--library", lib, "list", "--filter", "error")
    lines = out.strip().splitlines()
    assert (
        code == 0 and lines[0].split()[:2] == ["id", "path"] and len(lines) == 2 and "broken.jpg" in lines[1]
    )


def test_table_keeps_one_line_per_photo_for_odd_names(capsys, tmp_path: Path) -> None:
    make_jpeg(tmp_path / "odd" / "two\nlines.jpg")
    lib = str(tmp_path / "l.sqlite")
    assert _run(capsys, "--library", lib, "index", str(tmp_path / "odd"))[0] == 0
    code, out, _ = _run(capsys, "--library", lib, "list")
    assert code == 0 and len(out.strip().splitlines()) == 2 and "two\\nlines.jpg" in out
    code, out, _ = _run(capsys, "--library", lib, "list", "--format", "json")
    assert json.loads(out)[0]["filename"] == "two\nlines.jpg"


def test_missing_path_is_one_line_error_exit_1(capsys, tmp_path: Path) -> None:
    code, out, err = _run(capsys, "--library", str(tmp_path / "l.sqlite"), "index", str(tmp_path / "nope"))
    assert code == 1 and out == ""
    assert err.startswith("error: no such file or folder") and err.count("\n") == 1
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys, tmp_path: Path) -> None:
    for argv in (["list", "--filter", "bogus"], ["index"], ["status", "--nope"]):
        with pytest.raises(SystemExit) as exc:
            main(["--library", str(tmp_path / "l.sqlite"), *argv])
        assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_quiet_index_prints_only_the_summary(capsys, tmp_path: Path, folder: Path) -> None:
    code, out, err = _run(capsys, "-q", "--library", str(tmp_path / "l.sqlite"), "index", str(folder))
    assert code == 0 and err == "" and out.count("\n") == 1


def test_module_help_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "geotagger", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "index" in result.stdout and "status" in result.stdout and "list" in result.stdout


def test_list_filter_error_says_what_is_wrong_in_the_status_column(capsys, tmp_path: Path) -> None:
    """A readable photo whose EXIF is broken is not "ok" beside its error (issue 10, item 21), in
    every format, and the index summary counts it among the errors it points to."""
    photo = make_jpeg(tmp_path / "pics" / "typeerr.jpg", taken=datetime(2020, 1, 1))
    data = photo.read_bytes()
    at = data.find(b"\x87\x69\x00\x04")  # the ExifIFD pointer (big-endian TIFF): LONG -> ASCII
    assert at > 0
    photo.write_bytes(data[:at] + b"\x87\x69\x00\x02" + data[at + 4 :])
    make_jpeg(tmp_path / "pics" / "fine.jpg", color=(5, 5, 5))
    (tmp_path / "pics" / "broken.jpg").write_text("not a jpeg")
    lib = str(tmp_path / "l.sqlite")
    code, out, err = _run(capsys, "--library", lib, "index", str(tmp_path / "pics"))
    assert code == 0 and "2 errors" in out and "list --filter error" in err

    code, out, _ = _run(capsys, "--library", lib, "list", "--filter", "error", "--format", "json")
    rows = {Path(r["path"]).name: r for r in json.loads(out)}
    assert rows["typeerr.jpg"]["status"] == "metadata-error" and "ExifIFD" in rows["typeerr.jpg"]["error"]
    assert rows["broken.jpg"]["status"] == "error" and "fine.jpg" not in rows
    code, out, _ = _run(capsys, "--library", lib, "list", "--filter", "error")
    line = next(x for x in out.splitlines() if "typeerr.jpg" in x)
    assert " metadata-error " in line and " ok " not in line
    code, out, _ = _run(capsys, "--library", lib, "list", "--format", "csv")
    fine = next(r for r in csv.DictReader(io.StringIO(out)) if r["filename"] == "fine.jpg")
    assert fine["status"] == "ok"
