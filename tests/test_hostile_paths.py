"""File names that are not UTF-8 (issue 10, item 15): every command that takes a path answers with one
``error:`` line, or does its work, and never a traceback; printing never crashes.

The names are made from bytes (``bad\\xff\\xfename.jpg``), as a camera card or an old archive has them,
and every command runs as a real process on them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from geotagger.cli.main import PRINTABLE
from tests.factories import make_jpeg
from tests.hostile_catalogs import run_cli, verdict

REPO = Path(__file__).resolve().parents[1]
BAD = b"bad\xff\xfename"
SHOWN = "bad\\xff\\xfename"  # how the messages print it

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX byte file names")

GPX = b"""<?xml version="1.0"?>
<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">
<trk><name>Walk to the lake</name><trkseg>
<trkpt lat="46.5" lon="7.9"><time>2021-06-01T10:00:00Z</time></trkpt>
<trkpt lat="46.6" lon="7.91"><time>2021-06-01T10:10:00Z</time></trkpt>
</trkseg></trk></gpx>
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GEOTAGGER_LIBRARY": str(tmp_path / "lib" / "library.sqlite"),
    }


def _geotagger(tmp_path: Path, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geotagger", *args],
        capture_output=True,
        text=True,
        errors="backslashreplace",
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    pics = tmp_path / "pics"
    make_jpeg(pics / "good.jpg", taken=datetime(2021, 6, 1, 10, 5))
    make_jpeg(Path(os.fsdecode(bytes(pics) + b"/" + BAD + b".jpg")), color=(9, 9, 9))
    Path(os.fsdecode(bytes(pics) + b"/" + BAD + b".gpx")).write_bytes(GPX)
    return pics


def test_index_of_a_folder_names_the_skipped_file_and_keeps_the_rest(tmp_path: Path, folder: Path) -> None:
    run = _geotagger(tmp_path, "index", str(folder))
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert f"{SHOWN}.jpg: skipped: the name is not valid UTF-8" in run.stderr
    # no "list --filter error" hint: the skipped file has no row there, the warning is the report
    assert "list --filter error" not in run.stderr
    listed = _geotagger(tmp_path, "list", "--format", "csv")
    assert listed.returncode == 0 and "good.jpg" in listed.stdout and "bad" not in listed.stdout


@pytest.mark.slow  # six real processes, as the issue asks
def test_every_command_given_the_name_answers_in_one_line(tmp_path: Path, folder: Path) -> None:
    assert _geotagger(tmp_path, "index", str(folder)).returncode == 0
    assert _geotagger(tmp_path, "album", "create", "A").returncode == 0
    bad = bytes(folder) + b"/" + BAD + b".jpg"
    commands: list[list[str | bytes]] = [
        ["explain", bad],
        ["accept", bad, "--lat", "46.5", "--lon", "7.9"],
        ["reject", bad],
        ["album", "add", "A", bad],
        ["locate", bad],
        ["index", bad],
    ]
    env = _env(tmp_path)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "geotagger", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        for args in commands
    ]
    failures = []
    for args, proc in zip(commands, runs, strict=True):
        out, err = proc.communicate(timeout=120)
        text = err.decode("utf-8", "backslashreplace")
        lines = text.strip().splitlines()
        if proc.returncode != 1 or len(lines) != 1 or not lines[0].startswith("error: "):
            failures.append(f"{args[0]} {args[1]!r}: exit {proc.returncode}: {text[-300:]}")
        elif "\\x" not in lines[0] or "\\udc" in lines[0]:
            failures.append(f"{args[0]}: the name is not shown as its bytes: {lines[0]}")
    assert not failures, "\n".join(failures)


def test_the_same_in_process_for_the_other_commands_that_take_names(tmp_path: Path, folder: Path) -> None:
    """album remove, tag, album create/delete/add with a non-UTF-8 album name (cheaper in-process)."""
    library = str(tmp_path / "lib" / "library.sqlite")
    assert run_cli(["--library", library, "index", "--workers", "0", str(folder)])[0] == 0
    bad = os.fsdecode(bytes(folder) + b"/" + BAD + b".jpg")
    album = os.fsdecode(b"Trip\xff")
    good = str(folder / "good.jpg")
    for args in (
        ["album", "remove", "A", bad],
        ["tag", "--dry-run", bad],
        ["album", "create", album],
        ["album", "delete", album],
        ["album", "add", album, good],
    ):
        code, err = run_cli(["--library", library, *args])
        assert verdict(code, err) is None and "\\x" in err, (args, err)


def test_a_track_file_with_such_a_name_imports_under_its_own_name(tmp_path: Path, folder: Path) -> None:
    run = _geotagger(tmp_path, "tracks", "import", os.fsencode(folder) + b"/" + BAD + b".gpx")
    assert run.returncode == 0 and "1 track(s) imported" in run.stdout, run.stderr
    listed = _geotagger(tmp_path, "tracks", "list", "--format", "csv")
    assert listed.returncode == 0 and "Walk to the lake" in listed.stdout
    assert f"{SHOWN}.gpx" in listed.stdout  # the stored path is text that shows the bytes


def test_printing_never_crashes_on_what_the_terminal_cannot_encode(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "geotagger", "geocode", "47.37,8.54"],
        capture_output=True,
        env={**_env(tmp_path), "PYTHONIOENCODING": "ascii"},
        timeout=120,
    )
    assert run.returncode == 0 and b"Traceback" not in run.stderr, run.stderr
    assert b"Z\\xfcrich" in run.stdout
    # a surrogate escape prints as the byte it stood for, not as \udcff
    assert "bad\udcff.jpg".encode("utf-8", PRINTABLE) == b"bad\\xff.jpg"
