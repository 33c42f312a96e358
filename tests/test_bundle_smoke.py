"""The self-contained bundle runs from a copy of its folder, with no Python environment around it.

GEOTAGGER_BUNDLE names the built folder (packaging/build_bundle.py; .ci/steps/50-bundle.sh exports
it in CI), else dist/geotagger is used; without either the tests skip and say how to build one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.factories import make_jpeg

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = Path(os.environ.get("GEOTAGGER_BUNDLE") or ROOT / "dist" / "geotagger")
EXE_NAME = "geotagger"

pytestmark = pytest.mark.skipif(
    not (BUNDLE / EXE_NAME).is_file(),
    reason=f"no bundle at {BUNDLE}: build one with 'python packaging/build_bundle.py' "
    "or point GEOTAGGER_BUNDLE at one",
)

START = datetime(2024, 6, 1, 10, 0, 0)
# Geotagged photos around Lauterbrunnen, one every 10 minutes; the photos without GPS fall in between.
GPS_TRACK = [(46.5935 + 0.001 * i, 7.9091 + 0.001 * i) for i in range(4)]
NO_GPS = ["IMG_0102.jpg", "IMG_0104.jpg"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the bundle folder: it must not depend on where it was built."""
    copy = tmp_path_factory.mktemp("bundle") / "geotagger"
    shutil.copytree(BUNDLE, copy, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for i, (lat, lon) in enumerate(GPS_TRACK):
        make_jpeg(
            folder / f"IMG_01{i * 2 + 1:02d}.jpg",
            taken=START + timedelta(minutes=10 * i),
            lat=lat,
            lon=lon,
            make="Phone",
            model="P1",
            color=(60 + 30 * i, 120, 90),
        )
    for j, name in enumerate(NO_GPS):
        make_jpeg(
            folder / name,
            taken=START + timedelta(minutes=5 + 10 * j),
            make="Phone",
            model="P1",
            color=(200, 80 + 40 * j, 60),
        )
    return folder


def _env(tmp: Path) -> dict[str, str]:
    """A bare environment: no Python variables, a PATH without the interpreter that built the bundle."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYENV"))}
    env.pop("GEOTAGGER_MODELS_DIR", None)  # the bundle's own models must be found
    env["PATH"] = "/usr/local/sbin:/usr/sbin:/sbin:/bin:/usr/bin"
    if shutil.which("exiftool"):
        env["PATH"] += ":" + str(Path(shutil.which("exiftool")).parent)
    env["GEOTAGGER_DATA_DIR"] = str(tmp / "data")
    env["GEOTAGGER_LIBRARY"] = str(tmp / "library.sqlite")
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    return env


def _run(
    bundle: Path, tmp: Path, *args: str, timeout: float = 300, **extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bundle / EXE_NAME), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**_env(tmp), **extra},
        cwd=tmp,
    )


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bundle_leaves_torch_out_and_ships_the_models(bundle: Path) -> None:
    inside = bundle / "_internal"
    assert not (inside / "torch").exists()
    assert (inside / "models" / "efficientnet-lite0" / "model.json").is_file()
    assert sorted(p.name for p in (inside / "models" / "ocr").glob("*.onnx")) == [
        "ch_PP-OCRv4_det_infer.onnx",
        "ch_PP-OCRv4_rec_infer.onnx",
    ]


def test_version_and_what_needs_torch(bundle: Path, tmp_path: Path) -> None:
    from geotagger import __version__

    started = time.monotonic()
    assert _ok(_run(bundle, tmp_path, "--version")).strip() == f"geotagger {__version__}"
    print(f"bundle --version: {time.monotonic() - started:.2f} s")
    listed = json.loads(_ok(_run(bundle, tmp_path, "models", "list", "--format", "json")))
    assert [(r["id"], r["status"]) for r in listed] == [("efficientnet-lite0", "ok")]
    refused = _run(bundle, tmp_path, "models", "build")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "PyTorch" in lines[0], refused.stderr
    assert "Traceback" not in refused.stderr


def test_index_locate_write_undo(bundle: Path, photos: Path, tmp_path: Path) -> None:
    from tests.exiftool import exiftool_gps

    if not shutil.which("exiftool"):
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    work = tmp_path / "photos"
    shutil.copytree(photos, work)
    before = {p.name: _sha(p) for p in work.iterdir()}
    _ok(_run(bundle, tmp_path, "index", str(work)))
    status = json.loads(_ok(_run(bundle, tmp_path, "status", "--json")))
    assert (status["photos"], status["with_gps"], status["without_gps"]) == (6, 4, 2), status
    located = _run(bundle, tmp_path, "locate")
    _ok(located)
    # Every stage runs: the bundled model pack embeds, OCR and the place names are found.
    assert "not installed" not in located.stdout + located.stderr, located.stdout + located.stderr
    assert "2 photos located" in located.stdout + located.stderr
    rows = json.loads(_ok(_run(bundle, tmp_path, "suggestions", "--format", "json")))
    by_name = {Path(r["file"]).name: r for r in rows}
    assert sorted(by_name) == NO_GPS
    for row in by_name.values():  # taken minutes from a geotagged photo of the same phone
        assert abs(row["lat"] - 46.594) < 0.05 and abs(row["lon"] - 7.910) < 0.05, row
    target = work / NO_GPS[0]
    _ok(_run(bundle, tmp_path, "accept", str(target), "--candidate", "1"))
    _ok(_run(bundle, tmp_path, "write"))
    lat, lon = exiftool_gps(target)[target.name]
    assert lat is not None and abs(lat - by_name[target.name]["lat"]) < 1e-4
    assert abs(lon - by_name[target.name]["lon"]) < 1e-4
    _ok(_run(bundle, tmp_path, "undo"))
    assert exiftool_gps(target)[target.name] == (None, None)
    assert {p.name: _sha(p) for p in work.iterdir()} == before


def test_gui_paints_its_first_window(bundle: Path, photos: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    shot = tmp_path / "first-window.png"
    started = time.monotonic()
    result = _run(bundle, tmp_path, "gui", str(photos), timeout=180, GEOTAGGER_GUI_SCREENSHOT=str(shot))
    _ok(result)
    print(f"bundle gui to first painted window and quit: {time.monotonic() - started:.2f} s")
    assert "first window painted after" in result.stderr
    assert "map ready after" in result.stderr, result.stderr  # QtWebEngine loaded the map page
    with Image.open(shot) as image:
        assert image.width >= 640 and image.height >= 400
        grey = image.convert("L")
        assert len(grey.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20  # text, icons, frames
        assert ImageStat.Stat(grey).stddev[0] > 5


def test_desktop_install_points_the_launcher_at_the_bundle(bundle: Path, tmp_path: Path) -> None:
    from geotagger.services.desktop import APP_ID

    home = tmp_path / "xdg"
    _ok(_run(bundle, tmp_path, "desktop", "install", XDG_DATA_HOME=str(home)))
    entry = (home / "applications" / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    execs = [line for line in entry.splitlines() if line.startswith("Exec=")]
    assert execs == [f"Exec={(bundle / EXE_NAME).resolve()} gui %f"], entry
    _ok(_run(bundle, tmp_path, "desktop", "uninstall", XDG_DATA_HOME=str(home)))
    assert not (home / "applications" / f"{APP_ID}.desktop").exists()
