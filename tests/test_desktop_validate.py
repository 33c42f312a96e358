"""The shipped launcher and metainfo pass the freedesktop validators (skipped where they are not
installed; .ci/run installs them), and every PNG icon matches its folder's size."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from geotagger.services import desktop

APP = desktop.APP_ID
SRC = desktop.source_dir()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def test_desktop_file_validates() -> None:
    result = subprocess.run(
        [_tool("desktop-file-validate"), str(SRC / f"{APP}.desktop")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


def test_installed_desktop_file_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry install rewrites (absolute Exec and TryExec) is still valid."""
    tool = _tool("desktop-file-validate")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    desktop.install(refresh=False)
    result = subprocess.run([tool, str(tmp_path / "applications" / f"{APP}.desktop")], capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_validates() -> None:
    result = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(SRC / f"{APP}.metainfo.xml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_names_the_launcher_licence_and_a_release() -> None:
    root = ET.parse(SRC / f"{APP}.metainfo.xml").getroot()
    assert root.findtext("id") == APP
    assert root.findtext("launchable") == f"{APP}.desktop"
    assert root.findtext("project_license") == "MIT"
    assert root.find("releases/release/description") is not None
    assert root.find("screenshots/screenshot/image") is not None
    assert root.find("content_rating") is not None


def test_png_icons_match_their_folder_size() -> None:
    pngs = sorted((SRC / "icons").glob(f"*/{APP}.png"))
    assert {p.parent.name for p in pngs} >= {"16x16", "32x32", "48x48", "128x128", "256x256", "512x512"}
    for png in pngs:
        with Image.open(png) as image:
            assert f"{image.width}x{image.height}" == png.parent.name
            assert image.mode == "RGBA"
