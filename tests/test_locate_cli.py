"""`geotagger locate` / `suggestions` / `models train` end to end on generated photos."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from geotagger.cli.main import main
from tests.factories import make_jpeg
from tests.model_fixtures import lite0_pack_dir

TRIPS = {"paris": (48.8566, 2.3522, (200, 60, 60)), "rome": (41.9028, 12.4964, (60, 60, 200))}


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))


def make_library(root: Path, with_gps: bool = True) -> dict[str, tuple[float, float]]:
    """Two trips, ten photos each, ten minutes apart; every second photo has GPS. Returns truths."""
    truth = {}
    for t, (name, (lat, lon, color)) in enumerate(TRIPS.items()):
        start = datetime(2023, 5, 1 + 10 * t, 9, 0, 0)
        for k in range(10):
            plat, plon = lat + 0.001 * k, lon + 0.001 * k
            path = root / name / f"IMG_{t}{k:02d}.jpg"
            gps = with_gps and k % 2 == 0
            make_jpeg(
                path,
                color=tuple(min(255, c + 5 * k) for c in color),
                taken=start + timedelta(minutes=10 * k),
                lat=plat if gps else None,
                lon=plon if gps else None,
            )
            truth[str(path.resolve())] = (plat, plon)
    return truth


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_locate_suggestions_and_idempotency(tmp_path: Path, models: None, capsys) -> None:
    truth = make_library(tmp_path / "photos")
    lib = ["--library", str(tmp_path / "cat.sqlite")]
    assert run(capsys, *lib, "index", str(tmp_path / "photos"))[0] == 0
    code, out, err = run(capsys, *lib, "locate")
    assert code == 0, err
    assert "10 photos located" in out

    code, out, _ = run(capsys, *lib, "suggestions", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 10
    assert {"file", "lat", "lon", "radius_km", "confidence", "level", "address", "source"} <= set(rows[0])
    for r in rows:
        lat, lon = truth[r["file"]]
        assert abs(float(r["lat"]) - lat) < 0.01 and abs(float(r["lon"]) - lon) < 0.01
        assert r["source"] == "time" and 0 < float(r["confidence"]) <= 1
        assert ("Paris" in r["address"]) or ("Rome" in r["address"]) or ("Roma" in r["address"])

    code, out, _ = run(capsys, *lib, "suggestions", "--format", "json")
    data = json.loads(out)
    assert data[0]["evidence"]["neighbour"].endswith(".jpg") and "gap_s" in data[0]["evidence"]
    assert isinstance(data[0]["alternatives"], list)

    code, out, _ = run(capsys, *lib, "list", "--filter", "suggested", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 10

    # Nothing changed: nothing is recomputed.
    code, out, _ = run(capsys, *lib, "locate")
    assert code == 0 and "0 photos located" in out and "10 unchanged" in out

    # An accepted photo keeps its decision when locate runs again on its folder.
    target = sorted(truth)[1]
    assert run(capsys, *lib, "accept", target)[0] == 0
    code, out, _ = run(capsys, *lib, "locate", str(tmp_path / "photos" / "paris"))
    assert code == 0
    code, out, _ = run(capsys, *lib, "list", "--filter", "accepted", "--format", "csv")
    assert [r["path"] for r in csv.DictReader(io.StringIO(out))] == [target]


def test_models_train_reports_and_time_only_locate(tmp_path: Path, models: None, capsys) -> None:
    make_library(tmp_path / "photos")
    lib = ["--library", str(tmp_path / "cat.sqlite")]
    run(capsys, *lib, "index", str(tmp_path / "photos"))
    code, out, err = run(capsys, *lib, "models", "train")
    assert code == 0, err
    assert "10 geotagged photos" in out and "held-out acc@1/25/200/750/2500 km" in out
    code, out, err = run(capsys, *lib, "locate", "--sources", "time")
    assert code == 0 and "10 photos located" in out
    code, out, err = run(capsys, *lib, "locate", "--sources", "gps-track")
    assert code == 1 and err.startswith("error: unknown evidence source")


def test_library_without_gps_gets_a_clear_message(tmp_path: Path, capsys) -> None:
    make_library(tmp_path / "photos", with_gps=False)
    lib = ["--library", str(tmp_path / "cat.sqlite")]
    run(capsys, *lib, "index", str(tmp_path / "photos"))
    code, out, err = run(capsys, *lib, "locate")
    assert code == 1
    assert "no geotagged photos" in err and "import a global model" in err and "Traceback" not in err


def test_missing_path_is_an_error_and_nothing_to_locate_trains_nothing(
    tmp_path: Path, models: None, capsys
) -> None:
    make_library(tmp_path / "photos")
    only_gps = tmp_path / "gps_only"
    make_jpeg(only_gps / "a.jpg", lat=48.85, lon=2.35, taken=datetime(2023, 5, 1, 9))
    lib = ["--library", str(tmp_path / "cat.sqlite")]
    run(capsys, *lib, "index", str(tmp_path / "photos"), str(only_gps))
    code, _out, err = run(capsys, *lib, "locate", str(tmp_path / "nope"))
    assert code == 1 and err.strip() == f"error: no such file or folder: {tmp_path / 'nope'}"
    code, out, err = run(capsys, *lib, "locate", str(only_gps))
    assert code == 0 and "retrained" not in err
    assert out.startswith("0 photos located")
    assert not (tmp_path / "cat.data" / "library-model").exists()
