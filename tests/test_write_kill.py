"""A real SIGKILL in the middle of `geotagger write`: every photo is either its old bytes or a complete,
verified new file, and the next run settles the journal and finishes the job."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from geotagger.services import Library, decisions, indexing
from tests.factories import make_jpeg

pytestmark = pytest.mark.skipif(
    shutil.which("exiftool") is None or not hasattr(signal, "SIGKILL"), reason="needs exiftool and SIGKILL"
)
N = 40


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _done_count(catalog: Path) -> int:
    with sqlite3.connect(catalog, timeout=5) as db:
        return db.execute("select count(*) from writes where status = 'done'").fetchone()[0]


def test_sigkill_mid_write_leaves_whole_files_and_resumes(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    paths = [
        make_jpeg(photos / f"p{i:02d}.jpg", size=(1600, 1200), taken=datetime(2024, 5, 1, 10, i))
        for i in range(N)
    ]
    catalog = tmp_path / "lib.sqlite"
    with Library(catalog) as lib:
        indexing.index(lib, [photos], workers=0)
        for i, path in enumerate(paths):
            decisions.accept(lib, str(path), lat=45.0 + i / 100, lon=7.0 + i / 100)
    before = {p: _sha(p) for p in paths}
    pristine = tmp_path / "pristine.jpg"  # a never-written copy: the warnings exiftool already gives
    shutil.copy(paths[0], pristine)

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "geotagger", "--library", str(catalog), "-q", "write"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if _done_count(catalog) >= 3:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done_at_kill = _done_count(catalog)
    assert 3 <= done_at_kill < N, "the kill should land in the middle of the run"

    changed = [p for p in paths if _sha(p) != before[p]]
    assert changed, "some photos were written before the kill"
    baseline = json.loads(
        subprocess.run(
            ["exiftool", "-json", "-validate", str(pristine)], capture_output=True, text=True
        ).stdout
    )[0]["Validate"]
    report = json.loads(
        subprocess.run(
            ["exiftool", "-json", "-validate", "-GPSLatitude#", *map(str, changed)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for row in report:  # every changed file is complete and carries its position
        assert row["Validate"] == baseline and row["GPSLatitude"] > 44.9, row  # no new warning

    with Library(catalog) as lib:  # the next run reconciles and finishes
        from geotagger.services import writing

        result = writing.write(lib)
        assert result.failed == 0
    with sqlite3.connect(catalog) as db:
        statuses = dict(db.execute("select status, count(*) from writes group by status").fetchall())
    assert statuses.get("pending", 0) == 0 and statuses["done"] >= N
    assert not list(photos.glob(".*geotagger-tmp"))
    assert all(_sha(p) != before[p] for p in paths)
