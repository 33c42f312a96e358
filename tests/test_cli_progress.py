"""Progress when stderr is not a terminal (issue 10, item 21): plain lines at the start, every ~10 s
or tenth of the work, and at the end, instead of silence; -q silences them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

from geotagger.cli.progress import LineProgress
from tests.factories import make_jpeg


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lines_every_tenth_and_at_start_and_end() -> None:
    out, clock = io.StringIO(), Clock()
    progress = LineProgress(out, clock=clock, heartbeat=False)
    progress.start(100, "locating")
    for _ in range(100):
        clock.now += 0.5
        progress.advance()
    progress.finish()
    lines = out.getvalue().splitlines()
    assert lines[0] == "locating: started, 100 to do"
    assert lines[1] == "locating: 10/100 (10%) after 5 s" and lines[9] == "locating: 90/100 (90%) after 45 s"
    assert lines[-1] == "locating: finished, 100/100 (100%) in 50.0 s" and len(lines) == 11


def test_a_quick_run_stays_short_and_an_unknown_total_reports_by_time() -> None:
    out, clock = io.StringIO(), Clock()
    progress = LineProgress(out, clock=clock, heartbeat=False)
    progress.start(1000, "indexing")
    for _ in range(1000):
        clock.now += 0.0001
        progress.advance()
    progress.finish()
    assert len(out.getvalue().splitlines()) == 2  # started, finished
    out.truncate(0)
    out.seek(0)
    progress.start(None, "embedding")
    for _ in range(30):
        clock.now += 1.0
        progress.advance()
    progress.finish()
    lines = out.getvalue().splitlines()
    assert lines[1:-1] == [
        "embedding: 10 done after 10 s",
        "embedding: 20 done after 20 s",
        "embedding: 30 done after 30 s",
    ]


def test_a_step_that_does_not_advance_still_says_it_is_working() -> None:
    out = io.StringIO()
    progress = LineProgress(out, interval_s=0.1)
    progress.start(None, "training")
    time.sleep(0.45)
    progress.finish()
    count = len(out.getvalue().splitlines())
    time.sleep(0.2)
    lines = out.getvalue().splitlines()
    assert len(lines) == count  # nothing after the end
    assert lines[0] == "training: started" and lines[-1].startswith("training: finished")
    assert any(line.startswith("training: 0 done after") for line in lines[1:-1])


def test_index_prints_progress_lines_to_a_pipe_and_q_silences_them(tmp_path: Path) -> None:
    for i in range(3):
        make_jpeg(tmp_path / "pics" / f"{i}.jpg", color=(i, 1, 1))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    library = str(tmp_path / "lib" / "library.sqlite")
    command = [sys.executable, "-m", "geotagger", "--library", library, "index", str(tmp_path / "pics")]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert lines[0] == "indexing: started, 3 to do" and lines[-1].startswith("indexing: finished, 3/3")
    quiet = subprocess.run([*command, "-q"], capture_output=True, text=True, env=env, timeout=120)
    assert quiet.returncode == 0 and quiet.stderr == ""
