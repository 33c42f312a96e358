"""A real SIGKILL in the middle of `geotagger write` / `undo`, and two real writers at once: every photo
is either its old bytes or written once with its sidecar, and the next run settles the journal so the
catalog agrees with the files. Randomized trials (tests/write_attacks.py): GEOTAGGER_KILL_TRIALS per
kind (default 3 here; 100 for the issue's local numbers)."""

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
from tests import write_attacks
from tests.factories import make_jpeg

pytestmark = pytest.mark.skipif(
    shutil.which("exiftool") is None or not hasattr(signal, "SIGKILL"), reason="needs exiftool and SIGKILL"
)
N = 40
TRIALS = int(os.environ.get("GEOTAGGER_KILL_TRIALS", "3"))


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
    assert not list(photos.glob(".geotagger-*"))
    assert all(_sha(p) != before[p] for p in paths)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> write_attacks.Bench:
    return write_attacks.build(tmp_path_factory.mktemp("attacks"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["kill-write", "kill-undo"])
def test_random_sigkill_leaves_each_photo_original_or_written_once(
    bench: write_attacks.Bench, kind: str
) -> None:
    """Each photo gets an EXIF patch AND a sidecar; kill -9 at a random moment; the next run of the
    same command finishes it; files are byte-identical to the original or the one written version,
    and the catalog agrees (then the opposite command restores the other state exactly)."""
    import random

    rng = random.Random(int(os.environ.get("GEOTAGGER_KILL_SEED", "1")))
    failures = [p for p in (write_attacks.TRIALS[kind](bench, rng) for _ in range(TRIALS)) if p]
    assert failures == [], failures


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["two-writers", "write-undo"])
def test_two_processes_never_double_patch_and_the_loser_says_why(
    bench: write_attacks.Bench, kind: str
) -> None:
    import random

    rng = random.Random(2)
    failures = [p for p in (write_attacks.TRIALS[kind](bench, rng) for _ in range(max(2, TRIALS // 2))) if p]
    assert failures == [], failures
