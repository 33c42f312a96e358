"""Broken catalogs (issue 10, item 17): every command exits 1 with exactly one ``error:`` line, no
traceback, and the damaged file is left exactly as it was (never repaired, never overwritten).

The damaged copies come from tests/hostile_catalogs.py (seeded); GEOTAGGER_TRIALS sets how many
byte flips of each kind (default 2 in CI; 10 or more locally).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from geotagger.catalog import Catalog
from geotagger.catalog.db import catalog_error
from geotagger.errors import CatalogError
from tests.hostile_catalogs import COMMANDS, build_base, hostile_catalogs, run_cli, verdict

TRIALS = int(os.environ.get("GEOTAGGER_TRIALS", "2"))


@pytest.mark.slow  # ~26 catalogs x 14 commands (about 3 s on an idle machine)
def test_every_command_refuses_every_hostile_catalog_in_one_line(tmp_path: Path) -> None:
    base = build_base(tmp_path)
    failures = []
    tries = 0
    for label, catalog in hostile_catalogs(base.catalog, tmp_path / "hostile", TRIALS):
        for command in COMMANDS:
            before = catalog.read_bytes() if catalog.is_file() else None
            args = [a.format(photo=base.photo, folder=base.folder, dest=tmp_path / "out") for a in command]
            code, err = run_cli(["--library", str(catalog), *args])
            tries += 1
            problem = verdict(code, err)
            if label == "garbage-rows":
                # only the photos table is noise: a command that never reads it may succeed (no
                # quick_check on open, see catalog/db.py); one that reads it must fail in one line
                reads_photos = command[0] not in ("suggestions", "undo", "tracks") and command[:2] != (
                    "album",
                    "list",
                )
                if code == 0 and not reads_photos and "Traceback" not in err:
                    problem = None
            if problem is None and before is not None and catalog.read_bytes() != before:
                problem = "the damaged catalog was changed"
            if problem is None and code == 1 and "damaged" not in err and label not in ("folder", "photo"):
                problem = f"the message does not say the catalog is damaged: {err.strip()}"
            if problem:
                failures.append(f"{label} / {command[0]}: {problem}")
    assert tries >= 14 * len(COMMANDS)
    assert not failures, "\n".join(failures)


def test_the_intact_base_library_still_works(tmp_path: Path) -> None:
    base = build_base(tmp_path)
    code, err = run_cli(["--library", str(base.catalog), "status"])
    assert code == 0, err


def test_a_zero_byte_catalog_is_not_turned_into_a_new_library(tmp_path: Path) -> None:
    catalog = tmp_path / "library.sqlite"
    catalog.write_bytes(b"")
    (tmp_path / "pics").mkdir()
    code, err = run_cli(["--library", str(catalog), "index", str(tmp_path / "pics")])
    assert code == 1 and "is damaged: the file is empty (0 bytes)" in err and "backup" in err
    assert catalog.read_bytes() == b""


def test_a_missing_writes_table_is_found_on_open(tmp_path: Path) -> None:
    base = build_base(tmp_path)
    with sqlite3.connect(base.catalog) as con:
        con.execute("DROP TABLE writes")
    con.close()
    with pytest.raises(CatalogError, match="damaged: table writes is missing"):
        Catalog(base.catalog)


@pytest.mark.slow  # three real processes
def test_real_processes_print_one_line(tmp_path: Path) -> None:
    """The same through the installed entry point: nothing but the one line reaches stderr."""
    base = build_base(tmp_path)
    hostile = dict(hostile_catalogs(base.catalog, tmp_path / "hostile", 1))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for label, command in (("flip-highbit-0", "status"), ("dropped-writes", "undo"), ("zero-byte", "list")):
        run = subprocess.run(
            [sys.executable, "-m", "geotagger", "--library", str(hostile[label]), command],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert run.returncode == 1, (label, run.stderr)
        assert run.stderr.startswith("error: the catalog ") and run.stderr.count("\n") == 1, run.stderr


def _operational(message: str, name: str) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorname = name
    return exc


@pytest.mark.parametrize(
    ("message", "name", "expected"),
    [
        ("database or disk is full", "SQLITE_FULL", "is full"),
        ("disk I/O error", "SQLITE_IOERR_WRITE", "disk I/O error"),
        ("database disk image is malformed", "SQLITE_CORRUPT", "is damaged"),
        ("no such table: writes", "SQLITE_ERROR", "is damaged: no such table: writes"),
        ("database is locked", "SQLITE_BUSY", "is busy"),
    ],
)
def test_database_errors_become_one_line_catalog_errors(message: str, name: str, expected: str) -> None:
    error = catalog_error(_operational(message, name), "lib.sqlite")
    assert isinstance(error, CatalogError) and expected in str(error) and "\n" not in str(error)


def test_a_full_disk_while_writing_is_a_catalog_error(tmp_path: Path) -> None:
    """writer() turns a database error raised in the transaction into a CatalogError (rolled back)."""
    base = build_base(tmp_path)
    catalog = Catalog(base.catalog)
    try:
        with pytest.raises(CatalogError, match="is full"), catalog.writer() as session:
            session.connection().exec_driver_sql("UPDATE albums SET name = 'B'")
            raise _operational("database or disk is full", "SQLITE_FULL")
        with catalog.reader() as session:
            assert session.connection().exec_driver_sql("SELECT name FROM albums").scalar() == "A"
    finally:
        catalog.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file size limit")
def test_a_file_size_limit_while_indexing_is_one_line_and_the_catalog_still_opens(tmp_path: Path) -> None:
    """``ulimit -f`` hit while the catalog grows: SQLite's "disk I/O error" becomes one CatalogError
    line (it was an OperationalError traceback), and what was committed before stays readable."""
    import resource

    from tests.factories import make_jpeg

    for i in range(150):
        make_jpeg(tmp_path / "pics" / f"{i:03d}_{'x' * 150}.jpg", size=(16, 16), color=(i % 250, 1, 1))
    catalog = tmp_path / "lib" / "library.sqlite"
    (tmp_path / "empty").mkdir()
    assert run_cli(["--library", str(catalog), "-q", "index", str(tmp_path / "empty")])[0] == 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    size = catalog.stat().st_size

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 48 * 1024, resource.RLIM_INFINITY))

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "geotagger",
            "--library",
            str(catalog),
            "-q",
            "index",
            "--workers",
            "0",
            str(tmp_path / "pics"),
        ],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limit,
        timeout=120,
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("error: cannot read or write the catalog") and "disk I/O error" in run.stderr
    code, err = run_cli(["--library", str(catalog), "status"])
    assert code == 0, err
