"""`geotagger tag`: index + locate + accept confident suggestions + write, as one resumable batch."""

from __future__ import annotations

import csv
import hashlib
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from geotagger.cli.main import main
from geotagger.errors import UserInputError
from geotagger.services import tagging
from tests.exiftool import exiftool_gps
from tests.factories import make_jpeg
from tests.model_fixtures import lite0_pack_dir

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))
    photos = tmp_path / "trip"
    start = datetime(2023, 7, 1, 10, 0)
    for i in range(6):  # a walk through Lauterbrunnen, every other photo from a camera without GPS
        when = start + timedelta(minutes=10 * i)
        lat, lon = 46.59 + 0.001 * i, 7.90 + 0.001 * i
        if i % 2 == 0:
            make_jpeg(photos / f"gps_{i}.jpg", lat=lat, lon=lon, taken=when, color=(40 * i, 120, 200))
        else:
            make_jpeg(photos / f"cam_{i}.jpg", taken=when, color=(40 * i, 120, 200))
    make_jpeg(photos / "undated.jpg", taken=None, color=(200, 30, 30))
    return photos


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_dry_run_then_tag_then_resume(library, folder: Path, tmp_path: Path) -> None:
    before = _hashes(folder)
    dry = tagging.tag(library, [folder], min_confidence=0.5, dry_run=True)
    assert _hashes(folder) == before, "a dry run changed a file"
    planned = {Path(r.file).name: r for r in dry.rows}
    cams = {"cam_1.jpg", "cam_3.jpg", "cam_5.jpg"}
    assert {n for n, r in planned.items() if r.action == "would write"} >= cams
    assert all(r.confidence >= 0.5 for r in dry.rows if r.action == "would write")
    assert not any(n.startswith("gps_") for n in planned)  # photos with real GPS are never candidates

    report = tagging.tag(library, [folder], min_confidence=0.5)
    done = {Path(r.file).name: r for r in report.rows}
    assert {n for n, r in done.items() if r.action == "written"} >= cams
    gps = exiftool_gps(*(folder / f"cam_{i}.jpg" for i in (1, 3, 5)))
    for lat, lon in gps.values():
        assert lat == pytest.approx(46.593, abs=0.01)
        assert lon == pytest.approx(7.903, abs=0.01)

    again = tagging.tag(library, [folder], min_confidence=0.5)
    assert again.count("written") == 0
    assert {Path(r.file).name for r in again.rows if r.reason == "already written"} >= cams


def test_threshold_skips_and_report_file(library, folder: Path, tmp_path: Path, capsys) -> None:
    report_file = tmp_path / "report.csv"
    code = main(
        [
            "--library",
            str(library.catalog.path),
            "tag",
            str(folder),
            "--min-confidence",
            "1.0",
            "--dry-run",
            "--report",
            str(report_file),
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(report_file.open(encoding="utf-8")))
    assert {r["action"] for r in rows} == {"skipped"}
    low = [r for r in rows if r["level"]]  # those with a suggestion (undated.jpg may have none)
    assert low
    for r in low:  # "best candidate city 0.8479 < 1": the best candidate's level and confidence
        words = r["reason"].split(" ")
        assert words[:3] == ["best", "candidate", r["level"]] and words[4:] == ["<", "1"], r["reason"]
        assert float(words[3]) == pytest.approx(float(r["confidence"]), abs=6e-4)
    out = capsys.readouterr().out
    assert "0 would be written" in out
    assert f"{len(rows)} skipped ({len(low)} with the best candidate below 1: " in out
    assert all(f"{sum(r['level'] == lv for r in low)} {lv}" in out for lv in {r["level"] for r in low})
    with pytest.raises(UserInputError):
        tagging.tag(library, [folder], min_confidence=1.5)


def test_skip_reason_never_shows_a_confidence_equal_to_the_threshold(library, folder: Path) -> None:
    dry = tagging.tag(library, [folder], min_confidence=0.0, dry_run=True)
    confidence = max(r.confidence for r in dry.rows if r.action == "would write" and r.confidence < 0.99)
    threshold = round(confidence, 3) + 0.001  # just above: two-decimal rounding printed them equal
    rows = tagging.tag(library, [folder], min_confidence=threshold, dry_run=True).rows
    reason = next(r.reason for r in rows if r.confidence == confidence)
    shown, limit = reason.rsplit(" ", 3)[1::2]  # "best candidate LEVEL CONF < LIMIT"
    assert float(shown) < float(limit), reason


def test_unusable_report_path_is_refused_before_any_work(
    library, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _hashes(folder)
    argv = ["--library", str(library.catalog.path), "tag", str(folder), "--min-confidence", "0"]
    assert main([*argv, "--report", str(tmp_path / "missing" / "r.csv")]) == 1
    err = capsys.readouterr().err
    assert "error: --report: the folder" in err and "does not exist" in err and "Traceback" not in err
    assert _hashes(folder) == before  # nothing was written before the refusal
    assert main([*argv, "--report", str(tmp_path), "--dry-run"]) == 1
    assert "is a folder" in capsys.readouterr().err
    report = tagging.TagReport(dry_run=True)
    with pytest.raises(UserInputError, match="cannot save the report"):
        report.save(tmp_path / "gone" / "r.json")
