"""Two writers on one catalog at once, as with the GUI open while ``geotagger tag`` runs in a terminal:
no decision is lost and neither side fails with a lock error (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from geotagger.catalog import Decision, Photo
from geotagger.services import Library, browse, decisions, indexing
from tests.exiftool import exiftool_gps
from tests.factories import make_jpeg
from tests.model_fixtures import lite0_pack_dir

pytestmark = [
    pytest.mark.catalog_backends,
    pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed"),
]


def _trip(folder: Path) -> set[str]:
    """Photos tag will locate from their GPS neighbours in time; returns the names it should write."""
    start = datetime(2023, 7, 1, 10, 0)
    for i in range(8):
        when = start + timedelta(minutes=10 * i)
        lat, lon = 46.59 + 0.001 * i, 7.90 + 0.001 * i
        name = f"gps_{i}.jpg" if i % 2 == 0 else f"cam_{i}.jpg"
        make_jpeg(folder / name, lat=lat if i % 2 == 0 else None, lon=lon if i % 2 == 0 else None, taken=when)
    return {f"cam_{i}.jpg" for i in range(1, 8, 2)}


def test_gui_decisions_while_tag_runs(catalog_location: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))
    reviewed = tmp_path / "reviewed"
    for i in range(12):
        make_jpeg(reviewed / f"r{i}.jpg", taken=datetime(2020, 1, 1, 9, i))
    trip = tmp_path / "trip"
    expected_written = _trip(trip)
    gui = Library(catalog_location)  # the GUI's library, open for the whole run
    indexing.index(gui, [reviewed], workers=0)
    ids = [r["id"] for r in indexing.list_photos(gui)]

    env = dict(os.environ, GEOTAGGER_LOCK_WAIT="30")
    command = [sys.executable, "-m", "geotagger", "--library", catalog_location, "tag", str(trip)]
    tag = subprocess.Popen(command + ["--min-confidence", "0.5"], env=env, stderr=subprocess.PIPE, text=True)

    made: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def review() -> None:  # accept / reject / place by hand, round after round, until tag has finished
        try:
            round_ = 0
            while tag.poll() is None or round_ < 2:
                for n, photo_id in enumerate(ids):
                    if (n + round_) % 3 == 0:
                        decisions.reject(gui, photo_id)
                        made.append((photo_id, "reject"))
                    else:
                        decisions.accept(gui, photo_id, lat=40.0 + n, lon=3.0 + round_ % 50)
                        made.append((photo_id, "manual"))
                    browse.filter_counts(gui)  # the GUI reads between its writes
                round_ += 1
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread below
            errors.append(exc)

    worker = threading.Thread(target=review)
    worker.start()
    _, stderr = tag.communicate(timeout=600)
    worker.join(timeout=120)
    assert not errors, errors
    assert tag.returncode == 0, stderr
    assert "lock" not in stderr.lower() and "busy" not in stderr.lower(), stderr

    with gui.catalog.reader() as session:
        journal = session.execute(
            select(Decision.photo_id, Decision.action, Decision.lat).where(Decision.photo_id.in_(ids))
        ).all()
        states = dict(session.execute(select(Photo.id, Photo.review_state).where(Photo.id.in_(ids))).all())
        tag_written = {
            Path(p).name
            for p in session.scalars(
                select(Photo.path).where(Photo.review_state == "written", ~Photo.id.in_(ids))
            )
        }
    assert len(journal) == len(made) > len(ids)  # every GUI decision is in the journal
    last = {photo_id: action for photo_id, action in made}
    assert all(states[i] == ("rejected" if last[i] == "reject" else "accepted") for i in ids)
    assert tag_written >= expected_written
    gps = exiftool_gps(*(trip / name for name in sorted(expected_written)))
    assert all(lat == pytest.approx(46.59, abs=0.02) for lat, _ in gps.values())
    gui.close()
