"""Small and mixed libraries (issue 11, item 5): a library with 23 geotagged photos gets honest confidences
above the old 0.75 cap where a photo is minutes from a geotagged one of the same phone, and `tag` writes
them; unrelated camera files years away from any geotagged photo get no confident suggestion, and no
suggestion says "exact" from a gap of days."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from geotagger.cli.main import main
from geotagger.locate.time_evidence import haversine_km
from geotagger.services import tagging
from tests.factories import make_jpeg
from tests.model_fixtures import lite0_pack_dir

PHONE = ("Google", "Pixel 7")
# Four trips, each a walk of a few hundred metres: (start, lat, lon, colour of its photos).
TRIPS = (
    (datetime(2023, 5, 2, 9, 0), 48.8566, 2.3522, (200, 80, 60)),
    (datetime(2023, 6, 14, 10, 0), 41.9028, 12.4964, (60, 160, 90)),
    (datetime(2023, 8, 20, 8, 30), 59.9139, 10.7522, (70, 90, 200)),
    (datetime(2023, 10, 3, 15, 0), 38.7223, -9.1393, (190, 190, 60)),
)
PER_TRIP = 12  # every other one geotagged: 24 per trip... minus one below = 23 geotagged in all


def _phone_library(root: Path) -> dict[str, tuple[float, float, datetime]]:
    """One phone's photos, every 5 minutes; every other one has GPS (23 in all); returns the truth of the
    photos without GPS."""
    truth = {}
    geotagged = 0
    for t, (start, lat0, lon0, colour) in enumerate(TRIPS):
        for i in range(PER_TRIP):
            when = start + timedelta(minutes=5 * i)
            lat, lon = lat0 + 0.0008 * i, lon0 + 0.0008 * i
            shade = tuple(min(255, c + 6 * i) for c in colour)
            name = root / f"trip{t}" / f"IMG_{t}{i:02d}.jpg"
            if i % 2 == 0 and geotagged < 23:
                make_jpeg(name, lat=lat, lon=lon, taken=when, color=shade, make=PHONE[0], model=PHONE[1])
                geotagged += 1
            else:
                make_jpeg(name, taken=when, color=shade, make=PHONE[0], model=PHONE[1])
                truth[str(name)] = (lat, lon, when)
    return truth


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))


def _suggestions(library, capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["--library", str(library.catalog.path), "suggestions", "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _all_candidates(entry: dict) -> list[dict]:
    return [entry, *entry.get("alternatives", [])]


def test_23_geotagged_photos_give_confidence_above_the_old_cap_and_tag_writes(
    library, tmp_path: Path, models, capsys
) -> None:
    truth = _phone_library(tmp_path / "phone")
    report = tagging.tag(library, [tmp_path / "phone"], min_confidence=0.8)
    rows = {r.file: r for r in report.rows}
    minutes = [f for f in truth if f in rows]  # every photo without GPS is 5 min from a geotagged one
    assert len(minutes) == len(truth)
    confident = [rows[f] for f in minutes if rows[f].confidence is not None and rows[f].confidence > 0.75]
    assert len(confident) >= len(minutes) * 3 // 4, [(r.file, r.confidence) for r in rows.values()]
    written = [r for r in rows.values() if r.action == "written"]
    assert len(written) >= len(minutes) // 2
    for r in written:
        lat, lon, _ = truth[r.file]
        assert float(haversine_km(lat, lon, r.lat, r.lon)) < 25.0


def test_unrelated_camera_files_years_away_get_no_confident_suggestion(
    library, tmp_path: Path, models, capsys
) -> None:
    truth = _phone_library(tmp_path / "lib" / "phone")
    misc = tmp_path / "lib" / "samples"
    # One geotagged photo of another camera (Nakuru), and unrelated cameras' files years from it.
    make_jpeg(
        misc / "kodak.jpg",
        lat=-0.3031,
        lon=36.08,
        taken=datetime(2009, 3, 1, 12, 0),
        make="Kodak",
        model="CX7530",
        color=(120, 100, 80),
    )
    cameras = [("Canon", "EOS 40D"), ("NIKON", "D70"), ("Panasonic", "DMC-FZ8"), ("SONY", "DSC-W55")]
    for k, (make, model) in enumerate(cameras):
        when = datetime(2012 + k, 1 + k, 10, 12, 0)
        make_jpeg(misc / f"{model}.jpg", taken=when, make=make, model=model, color=(120 + 10 * k, 100, 80))
    # A phone photo three days after its trip: same device, but days away.
    late = tmp_path / "lib" / "phone" / "trip0" / "IMG_late.jpg"
    make_jpeg(late, taken=TRIPS[0][0] + timedelta(days=3), make=PHONE[0], model=PHONE[1], color=(200, 80, 60))
    capsys.readouterr()
    assert main(["--library", str(library.catalog.path), "index", str(tmp_path / "lib")]) == 0
    assert main(["--library", str(library.catalog.path), "locate"]) == 0
    entries = {e["file"]: e for e in _suggestions(library, capsys)}
    assert set(truth) <= set(entries)
    for model in ("EOS 40D", "D70", "DMC-FZ8", "DSC-W55"):
        entry = entries.get(str(misc / f"{model}.jpg"))
        if entry is None:
            continue  # no suggestion at all is honest too
        assert all(c["confidence"] < 0.9 for c in _all_candidates(entry)), entry
    for entry in entries.values():
        for c in _all_candidates(entry):
            gap = c.get("evidence", {}).get("gap_s")
            if c["source"] == "time" and gap is not None and gap > 86400:
                assert c["level"] != "exact", c  # no "exact" from a gap of days
            if c["source"] == "time" and gap is not None and gap > 365 * 86400:
                assert c["confidence"] < 0.9, c
    late_entry = entries.get(str(late))
    assert late_entry is not None
    assert late_entry["level"] != "exact" or late_entry["source"] != "time"
