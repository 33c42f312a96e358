"""A --library that is not a catalog is a one-line error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from geotagger.catalog import Catalog
from geotagger.cli.main import main
from geotagger.errors import CatalogError


def test_a_file_that_is_not_a_database_is_a_catalog_error(tmp_path: Path) -> None:
    bogus = tmp_path / "points.csv"
    bogus.write_text("lat,lon\n" + "1,2\n" * 200)
    with pytest.raises(CatalogError, match="not a database"):
        Catalog(bogus)


def test_cli_reports_it_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "photo.jpg"
    bogus.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 4096)
    assert main(["--library", str(bogus), "status"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("error: the catalog ") and "not an SQLite database" in err and "Traceback" not in err
    )
    assert len(err.strip().splitlines()) == 1
