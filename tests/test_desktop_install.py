"""`geotagger desktop install|uninstall` into a temporary XDG data folder: the files land where the
desktop looks, Exec runs this installation, and uninstall leaves nothing behind."""

from __future__ import annotations

import configparser
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from geotagger.cli.main import main
from geotagger.services import desktop

APP = desktop.APP_ID


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def test_install_places_launcher_metainfo_and_icons(xdg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["desktop", "install"]) == 0
    entry = _entry(xdg / "applications" / f"{APP}.desktop")
    assert entry["MimeType"] == "inode/directory;"
    assert entry["Categories"] == "Graphics;Photography;"
    assert entry["Icon"] == APP
    command = shlex.split(entry["Exec"])
    assert command[-2:] == ["gui", "%f"]
    program = Path(command[0])
    assert program.is_absolute() and program.exists()
    assert command[:-2] == shlex.split(desktop.exec_command())
    assert (xdg / "metainfo" / f"{APP}.metainfo.xml").read_bytes() == (
        desktop.source_dir() / f"{APP}.metainfo.xml"
    ).read_bytes()
    assert (xdg / "icons/hicolor/scalable/apps" / f"{APP}.svg").is_file()
    sizes = sorted(int(p.parts[-3].split("x")[0]) for p in xdg.glob(f"icons/hicolor/*/apps/{APP}.png"))
    assert sizes[0] == 16 and sizes[-1] == 512 and len(sizes) >= 6
    out = capsys.readouterr().out
    assert out.count("installed ") == len(desktop.planned_files(xdg))


def test_exec_runs_this_installation(xdg: Path) -> None:
    """The launcher's command really starts geotagger (here: --version instead of the GUI)."""
    desktop.install(refresh=False)
    command = shlex.split(_entry(xdg / "applications" / f"{APP}.desktop")["Exec"])[:-2]
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("geotagger ")


def test_uninstall_leaves_nothing(xdg: Path) -> None:
    desktop.install()
    assert (xdg / "applications" / f"{APP}.desktop").is_file()
    report = desktop.uninstall()
    assert len(report.files) == len(desktop.planned_files(xdg))
    assert not xdg.exists() or _files(xdg) == []


def test_uninstall_keeps_other_programs_files(xdg: Path) -> None:
    other = xdg / "icons/hicolor/48x48/apps/other.png"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"png")
    other_entry = xdg / "applications" / "other.desktop"
    other_entry.parent.mkdir(parents=True)
    other_entry.write_text("[Desktop Entry]\nType=Application\nName=o\nExec=o\n")
    desktop.install(refresh=False)
    desktop.uninstall(refresh=False)
    assert _files(xdg) == [
        "applications",
        "applications/other.desktop",
        "icons",
        "icons/hicolor",
        "icons/hicolor/48x48",
        "icons/hicolor/48x48/apps",
        "icons/hicolor/48x48/apps/other.png",
    ]


def test_missing_cache_tools_are_reported_not_fatal(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desktop.shutil, "which", lambda name: None)
    report = desktop.install()
    assert shlex.split(report.exec_command) == [sys.executable, "-m", "geotagger"]
    assert any("update-desktop-database not found" in note for note in report.notes)
    desktop.uninstall()
    assert not (xdg / "applications").exists()


def test_exec_quotes_paths_with_spaces() -> None:
    quoted = desktop._exec_quote("/opt/my apps/python")
    assert quoted == '"/opt/my apps/python"'
    assert desktop._exec_quote("/usr/bin/geotagger") == "/usr/bin/geotagger"


def test_uninstall_without_install_says_so(xdg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["desktop", "uninstall"]) == 0
    assert "nothing to remove" in capsys.readouterr().err
