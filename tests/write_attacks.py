"""Attacks on `geotagger write` / `undo` with real processes: SIGKILL at a random moment, two writers.

Used by tests/test_write_kill.py (a few trials; GEOTAGGER_KILL_TRIALS) and runnable on its own for the
numbers of the closing note, also against an older checkout (PYTHONPATH=that checkout):

    python -m tests.write_attacks kill-write|kill-undo|two-writers|write-undo TRIALS [--seed N]

Every photo is a JPEG accepted at city level and written with ``--place-names sidecar``, so each photo
gets an EXIF patch AND a sidecar. A trial returns the list of what went wrong (empty = survived).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

PHOTOS = 8
LAT, LON = 46.5931, 7.9093  # Lauterbrunnen


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _cli(catalog: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "geotagger", "--library", str(catalog), "-q", *args],
        env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_PROBE = (
    "import json, sqlite3, sys\n"
    "db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True, timeout=5)\n"
    "print(json.dumps(db.execute(sys.argv[2]).fetchall()))\n"
)


def _query(catalog: Path, sql: str) -> list[tuple]:
    """Read the catalog in a child process: a reader of a WAL database whose writer is being killed (or
    closes and truncates the shared-memory file) can die of SIGBUS, which must not take pytest with it."""
    for _ in range(50):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(catalog), sql], capture_output=True, text=True, timeout=60
        )
        if done.returncode == 0:
            return [tuple(row) for row in json.loads(done.stdout)]
        time.sleep(0.01)  # locked, or the probe died: look again
    return []


@dataclass
class Bench:
    """A library in ``root/work`` and pristine copies to restore it from between trials (same path,
    so the catalog's absolute paths stay valid)."""

    root: Path
    originals: dict[str, str | None] = field(default_factory=dict)  # photo -> sha256
    written: dict[str, str | None] = field(default_factory=dict)  # photo and sidecar -> sha256 written once
    write_s: float = 1.0
    undo_s: float = 1.0

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def catalog(self) -> Path:
        return self.work / "lib.sqlite"

    @property
    def photos(self) -> list[Path]:
        return sorted((self.work / "photos").glob("*.jpg"))

    def restore(self, state: str) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(self.root / state, self.work, symlinks=True)

    def state(self) -> dict[str, str | None]:
        files = {}
        for photo in self.photos:
            files[photo.name] = _sha(photo)
            files[photo.name + ".xmp"] = _sha(Path(f"{photo}.xmp"))
        return files


def build(root: Path) -> Bench:
    """Photos, index, accept (city level): saved as "accepted"; one clean write: saved as "written"."""
    from geotagger.services import Library, decisions, indexing
    from tests.factories import make_jpeg

    bench = Bench(root)
    shutil.rmtree(root, ignore_errors=True)
    photos = bench.work / "photos"
    paths = [
        make_jpeg(photos / f"p{i:02d}.jpg", size=(1600, 1200), taken=datetime(2024, 5, 1, 10, i))
        for i in range(PHOTOS)
    ]
    with Library(bench.catalog) as lib:
        indexing.index(lib, [photos], workers=0)
        for i, path in enumerate(paths):
            decisions.accept(lib, str(path), lat=LAT + i / 1000, lon=LON, level="city")
    bench.originals = bench.state()
    shutil.copytree(bench.work, root / "accepted", symlinks=True)
    proc = _cli(bench.catalog, "write", "--place-names", "sidecar")
    bench.write_s = _wait_for(bench.catalog, proc, STARTED["write"])
    out, err = proc.communicate(timeout=300)
    bench.write_s = time.monotonic() - bench.write_s
    assert proc.returncode == 0, err
    bench.written = bench.state()
    assert all(bench.written[k] != bench.originals[k] for k in bench.written), "the clean write changed all"
    shutil.copytree(bench.work, root / "written", symlinks=True)
    proc = _cli(bench.catalog, "undo", "--writes", "--last", str(PHOTOS))
    bench.undo_s = _wait_for(bench.catalog, proc, STARTED["undo"])
    proc.communicate(timeout=300)
    bench.undo_s = time.monotonic() - bench.undo_s
    return bench


# The moment a command starts changing files, seen from outside: its first journal change.
STARTED = {
    "write": "select count(*) from writes",
    "undo": "select count(*) from writes where status != 'done'",
}


def _wait_for(catalog: Path, proc: subprocess.Popen, sql: str) -> float:
    """Poll the journal until the command has begun its work (or ended); the monotonic time then."""
    while proc.poll() is None:
        rows = _query(catalog, sql)
        if rows and rows[0][0]:
            break
        time.sleep(0.002)
    return time.monotonic()


def _kill_at_random(
    proc: subprocess.Popen, rng: random.Random, span_s: float, bench: Bench, cmd: str
) -> None:
    """SIGKILL at a uniformly random moment of the command's file-changing phase."""
    _wait_for(bench.catalog, proc, STARTED[cmd])
    time.sleep(rng.uniform(0.0, span_s))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)


def _check_files(bench: Bench, final: str) -> list[str]:
    """``final`` "written": every photo and sidecar written exactly once; "original": all untouched."""
    expected = bench.written if final == "written" else bench.originals
    problems = []
    for name, sha in bench.state().items():
        if sha != expected[name]:
            if name.endswith(".xmp"):
                what = "sidecar missing" if sha is None else "sidecar left or wrong"
            elif sha == bench.originals[name]:
                what = "photo not written"
            elif sha == bench.written[name]:
                what = "photo still written"
            else:
                what = "photo patched twice or damaged"
            problems.append(f"{name}: {what}")
    return problems


def _check_catalog(bench: Bench, state: str) -> list[str]:
    rows = _query(bench.catalog, "select review_state, count(*) from photos group by review_state")
    problems = [] if dict(rows) == {state: PHOTOS} else [f"catalog says {dict(rows)}, files are {state}"]
    open_records = _query(bench.catalog, "select count(*) from writes where status in ('pending', 'undoing')")
    if open_records and open_records[0][0]:
        problems.append(f"{open_records[0][0]} journal records left open")
    return problems


def _atomic(bench: Bench) -> list[str]:
    """Right after a kill: each file is its old or its new bytes, never something else."""
    return [
        f"{name}: neither old nor new bytes after the kill"
        for name, sha in bench.state().items()
        if sha not in (bench.originals[name], bench.written[name])
    ]


def _run(bench: Bench, *args: str) -> list[str]:
    proc = _cli(bench.catalog, *args)
    _out, err = proc.communicate(timeout=300)
    if proc.returncode != 0:
        return [f"`{' '.join(args)}` exited {proc.returncode}: {err.strip()[-300:]}"]
    return []


def trial_kill_write(bench: Bench, rng: random.Random) -> list[str]:
    """kill -9 during write; the next write finishes; then undo brings every original back."""
    bench.restore("accepted")
    proc = _cli(bench.catalog, "write", "--place-names", "sidecar")
    _kill_at_random(proc, rng, bench.write_s, bench, "write")
    problems = _atomic(bench)
    problems += _run(bench, "write", "--place-names", "sidecar")
    problems += _check_files(bench, "written") + _check_catalog(bench, "written")
    problems += _run(bench, "undo", "--writes", "--last", str(PHOTOS))
    return problems + _check_files(bench, "original") + _check_catalog(bench, "accepted")


def trial_kill_undo(bench: Bench, rng: random.Random) -> list[str]:
    """kill -9 during undo; the next undo finishes; then write writes every photo once again."""
    bench.restore("written")
    proc = _cli(bench.catalog, "undo", "--writes", "--last", str(PHOTOS))
    _kill_at_random(proc, rng, bench.undo_s, bench, "undo")
    problems = _atomic(bench)
    problems += _run(bench, "undo", "--writes", "--last", str(PHOTOS))
    problems += _check_files(bench, "original") + _check_catalog(bench, "accepted")
    problems += _run(bench, "write", "--place-names", "sidecar")
    return problems + _check_files(bench, "written") + _check_catalog(bench, "written")


def _loser(proc: subprocess.Popen, err: str, other: subprocess.Popen) -> list[str]:
    """A writer that did not run must say so in one clear line naming the other's pid."""
    if proc.returncode == 0:
        return []
    lines = err.strip().splitlines()
    wanted = f"error: another geotagger is writing to this library (pid {other.pid})"
    if len(lines) != 1 or not lines[0].startswith(wanted):
        return [f"second process exited {proc.returncode} with: {err.strip()[-300:]}"]
    return []


def trial_two_writers(bench: Bench, rng: random.Random) -> list[str]:
    """Two `write` at once (the second a random moment later): no photo patched twice, no error but
    the loser's one line."""
    bench.restore("accepted")
    first = _cli(bench.catalog, "write", "--place-names", "sidecar")
    time.sleep(rng.uniform(0.0, bench.write_s * 0.6))
    second = _cli(bench.catalog, "write", "--place-names", "sidecar", env={"GEOTAGGER_LOCK_WAIT": "0.2"})
    _o1, err1 = first.communicate(timeout=300)
    _o2, err2 = second.communicate(timeout=300)
    problems = [] if first.returncode == 0 else [f"first write exited {first.returncode}: {err1[-300:]}"]
    problems += _loser(second, err2, first)
    problems += _run(bench, "write", "--place-names", "sidecar")  # whatever the loser left is written now
    return problems + _check_files(bench, "written") + _check_catalog(bench, "written")


def trial_write_undo(bench: Bench, rng: random.Random) -> list[str]:
    """`undo` started while a `write` runs: it waits or loses with one line; files and catalog agree."""
    bench.restore("accepted")
    first = _cli(bench.catalog, "write", "--place-names", "sidecar")
    time.sleep(rng.uniform(0.0, bench.write_s * 0.6))
    second = _cli(
        bench.catalog, "undo", "--writes", "--last", str(PHOTOS), env={"GEOTAGGER_LOCK_WAIT": "0.2"}
    )
    _o1, err1 = first.communicate(timeout=300)
    _o2, err2 = second.communicate(timeout=300)
    problems = [] if first.returncode == 0 else [f"write exited {first.returncode}: {err1[-300:]}"]
    problems += _loser(second, err2, first)
    problems += _run(bench, "write", "--place-names", "sidecar")
    return problems + _check_files(bench, "written") + _check_catalog(bench, "written")


TRIALS = {
    "kill-write": trial_kill_write,
    "kill-undo": trial_kill_undo,
    "two-writers": trial_two_writers,
    "write-undo": trial_write_undo,
}


def run_trials(kind: str, trials: int, root: Path, seed: int = 0) -> list[list[str]]:
    bench = build(root)
    rng = random.Random(seed)
    return [TRIALS[kind](bench, rng) for _ in range(trials)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=sorted(TRIALS))
    parser.add_argument("trials", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", default=f"/tmp/geotagger-attack-{os.getpid()}")
    args = parser.parse_args()
    os.environ.setdefault("GEOTAGGER_DATA_DIR", str(Path(args.root) / "userdata"))
    results = run_trials(args.kind, args.trials, Path(args.root) / "bench", args.seed)
    failed = [r for r in results if r]
    for number, problems in enumerate(results):
        if problems:
            print(f"trial {number}: " + "; ".join(problems[:4]) + (" ..." if len(problems) > 4 else ""))
    print(f"{args.kind}: {len(results)} trials, {len(failed)} failed")
    shutil.rmtree(args.root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
