"""End to end: a phone (GPS) and a camera one hour ahead in one folder; locate finds the camera's clock,
its suggestions use it, and `clocks set` recomputes exactly the photos it moves."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geotagger.cli.main import main
from tests.factories import make_exif
from tests.model_fixtures import lite0_pack_dir

# Scenes at irregular intervals (so no wrong offset lines up several of them), 30+ km apart.
GAPS_MIN = [0, 95, 130, 100, 175, 110]
CAMERA_AHEAD_S = 3600


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))


def _scene_image(scene: int, shot: int) -> Image.Image:
    """Each scene its own random blocks; shots of one scene differ by a little noise."""
    base = np.random.default_rng(scene).integers(0, 255, size=(6, 8, 3)).astype(np.float64)
    noise = np.random.default_rng(1000 * scene + shot).normal(0, 6, size=base.shape)
    small = np.clip(base + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(small).resize((320, 240), Image.NEAREST)


def _shoot(path: Path, scene: int, shot: int, **exif) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _scene_image(scene, shot).save(path, "JPEG", quality=90, exif=make_exif(**exif))


def make_trip(root: Path) -> dict[str, tuple[float, float]]:
    """Per scene: 2 phone photos with GPS, 2 camera photos without (clock +1 h); plus 2 phone photos
    without GPS. Returns the true position of each photo without GPS."""
    truth: dict[str, tuple[float, float]] = {}
    when = datetime(2023, 7, 1, 8, 0, 0)
    for k, gap in enumerate(GAPS_MIN):
        when += timedelta(minutes=gap)
        lat, lon = 44.0 + 0.3 * k, 6.0 + 0.3 * k
        for s in range(2):
            _shoot(
                root / f"P{k}{s}.jpg",
                k,
                s,
                taken=when + timedelta(seconds=30 * s),
                make="Google",
                model="Pixel 7",
                lat=lat,
                lon=lon,
            )
            cam = root / f"DSCF{k}{s}.jpg"
            true_time = when + timedelta(seconds=15 + 30 * s)
            _shoot(
                cam,
                k,
                10 + s,
                taken=true_time + timedelta(seconds=CAMERA_AHEAD_S),
                make="FUJIFILM",
                model="X100V",
            )
            truth[str(cam.resolve())] = (lat, lon)
        if k in (1, 4):
            phone = root / f"P{k}9.jpg"
            _shoot(phone, k, 9, taken=when + timedelta(seconds=45), make="Google", model="Pixel 7")
            truth[str(phone.resolve())] = (lat, lon)
    return truth


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _located(out: str) -> tuple[int, int]:
    m = re.search(r"(\d+) photos located, (\d+) unchanged", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def test_locate_finds_the_camera_clock_and_uses_it(tmp_path: Path, models: None, capsys) -> None:
    truth = make_trip(tmp_path / "trip")
    lib = ["--library", str(tmp_path / "cat.sqlite")]
    assert run(capsys, *lib, "index", str(tmp_path / "trip"))[0] == 0
    code, out, err = run(capsys, *lib, "locate")
    assert code == 0, err
    assert _located(out) == (len(truth), 0)

    code, out, _ = run(capsys, *lib, "clocks", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["device"] for r in rows] == ["FUJIFILM X100V"]  # the phone is the reference, not listed
    camera = rows[0]
    assert camera["status"] == "confident" and camera["source"] == "estimated"
    assert abs(float(camera["offset_s"]) - CAMERA_AHEAD_S) <= 120
    assert int(camera["support"]) >= 6

    code, out, _ = run(capsys, *lib, "suggestions", "--format", "csv")
    sugg = {r["file"]: r for r in csv.DictReader(io.StringIO(out))}
    for path, (lat, lon) in truth.items():  # the camera's photos sit with their own scene
        assert abs(float(sugg[path]["lat"]) - lat) < 0.05 and abs(float(sugg[path]["lon"]) - lon) < 0.05, path

    # Nothing changed: nothing recomputed. Setting the clock by hand moves the camera photos only.
    assert _located(run(capsys, *lib, "locate")[1]) == (0, len(truth))
    assert run(capsys, *lib, "clocks", "set", "X100V", "+3610")[0] == 0
    code, out, err = run(capsys, *lib, "locate")
    cameras = sum("DSCF" in p for p in truth)
    assert code == 0 and _located(out) == (cameras, len(truth) - cameras), err
    code, out, _ = run(capsys, *lib, "clocks", "--format", "csv")
    assert {(r["source"], r["offset_s"]) for r in csv.DictReader(io.StringIO(out))} >= {("manual", "3610")}

    # Clearing it brings the estimate back: the camera photos are recomputed once more.
    assert run(capsys, *lib, "clocks", "clear", "X100V")[0] == 0
    assert _located(run(capsys, *lib, "locate")[1]) == (cameras, len(truth) - cameras)
