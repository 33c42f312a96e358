"""The command line's one error path and its library handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from geotagger.cli.main import main
from tests.factories import make_jpeg


def test_a_mistyped_library_is_an_error_not_a_new_empty_catalog(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "typo" / "library.sqlite"
    for command in (["status"], ["list"], ["suggestions"], ["write", "--dry-run"]):
        assert main(["--library", str(missing), *command]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: no library at ")
    assert not missing.parent.exists()


def test_index_creates_the_library_then_other_commands_use_it(tmp_path: Path, capsys) -> None:
    library = tmp_path / "new" / "library.sqlite"
    make_jpeg(tmp_path / "photos" / "a.jpg", lat=46.5, lon=7.9)
    assert main(["--library", str(library), "index", str(tmp_path / "photos")]) == 0
    assert library.exists()
    assert main(["--library", str(library), "status", "--json"]) == 0
    assert '"with_gps": 1' in capsys.readouterr().out


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
