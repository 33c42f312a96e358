"""Global options work where users type them: before or after the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geotagger.cli.main import build_parser, main
from tests.factories import make_jpeg


def test_options_after_the_command_are_accepted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    make_jpeg(tmp_path / "pics" / "a.jpg", lat=45.0, lon=7.5)
    lib = str(tmp_path / "lib.sqlite")
    assert main(["index", str(tmp_path / "pics"), "--workers", "0", "--library", lib, "-q"]) == 0
    captured = capsys.readouterr()
    assert "1 added" in captured.out and captured.err == ""
    assert main(["status", "--json", "--library", lib]) == 0
    assert json.loads(capsys.readouterr().out)["with_gps"] == 1


def test_after_overrides_before_and_absent_keeps_before() -> None:
    parser = build_parser()
    args = parser.parse_args(["--library", "a.sqlite", "-q", "status"])
    assert args.library == "a.sqlite" and args.quiet is True and args.verbose == 0
    args = parser.parse_args(["--library", "a.sqlite", "status", "--library", "b.sqlite", "-vv"])
    assert args.library == "b.sqlite" and args.quiet is False and args.verbose == 2
    args = parser.parse_args(["album", "list", "-q"])
    assert args.quiet is True
