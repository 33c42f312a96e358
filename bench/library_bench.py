#!/usr/bin/env python3
"""Dev benchmark of `geotagger locate` on a personal-library split (default ../shared/data/library-dev).

Indexes the photos into a temporary catalog, runs `geotagger locate` with each source of evidence alone and
fused, exports `geotagger suggestions --format csv`, scores each with the shared scorer
(../shared/bench/score_library_bench.py) and prints the calibration of the fused suggestions: per
confidence bin, how often the truth lies within the radius of the stated level.

usage: python bench/library_bench.py [--data DIR] [--scorer FILE] [--work DIR] [--device auto|cpu|cuda]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RUNS = (("time", "time"), ("library", "library"), ("fused", "time,library"))
LEVEL_KM = {"exact": 1.0, "city": 25.0, "region": 200.0, "country": 750.0}
BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0001)


def geotagger(catalog: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "geotagger", "-q", "--library", str(catalog), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return done.stdout


def gcd(a1: float, o1: float, a2: float, o2: float) -> float:
    a1, o1, a2, o2 = map(math.radians, (a1, o1, a2, o2))
    h = math.sin((a2 - a1) / 2) ** 2 + math.cos(a1) * math.cos(a2) * math.sin((o2 - o1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def to_predictions(suggestions_csv: str, data: Path, out: Path) -> list[dict[str, str]]:
    """Suggestions (absolute paths) -> predictions.csv with `file` relative to the benchmark root."""
    rows = list(csv.DictReader(suggestions_csv.splitlines()))
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "lat", "lon", "confidence"])
        for r in rows:
            r["rel"] = os.path.relpath(r["file"], data).replace(os.sep, "/")
            writer.writerow([r["rel"], r["lat"], r["lon"], r["confidence"]])
    return rows


def calibration(rows: list[dict[str, str]], truth: dict[str, tuple[float, float]]) -> None:
    scored = []
    for r in rows:
        t = truth.get(r["rel"])
        if t is None:
            continue
        d = gcd(float(r["lat"]), float(r["lon"]), *t)
        scored.append((float(r["confidence"]), r["level"], d <= LEVEL_KM[r["level"]]))
    print("\ncalibration of the fused best suggestion (right = truth within the stated level's radius)")
    print(f"{'confidence':<14}{'n':>5}{'mean conf':>11}{'right':>8}")
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        sel = [s for s in scored if lo <= s[0] < hi]
        if sel:
            mean = sum(s[0] for s in sel) / len(sel)
            right = sum(s[2] for s in sel) / len(sel)
            print(
                f"[{lo:.2f}, {min(hi, 1):.2f}{']' if hi > 1 else ')'}  {len(sel):>5}{mean:>11.3f}{right:>8.3f}"
            )
    high = [s for s in scored if s[0] >= 0.9]
    if high:
        print(
            f"confidence >= 0.9: {len(high)} photos, {100 * sum(s[2] for s in high) / len(high):.1f}% right"
        )
    by_level = {}
    for s in scored:
        by_level.setdefault(s[1], []).append(s)
    print(
        "by level: "
        + ", ".join(
            f"{lv} n={len(v)} conf={sum(s[0] for s in v) / len(v):.2f} right={sum(s[2] for s in v) / len(v):.2f}"
            for lv, v in sorted(by_level.items(), key=lambda kv: LEVEL_KM[kv[0]])
        )
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=SHARED / "data" / "library-dev")
    ap.add_argument("--scorer", type=Path, default=SHARED / "bench" / "score_library_bench.py")
    ap.add_argument("--work", type=Path, help="keep the catalog and CSVs here (default: a temp folder)")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    a = ap.parse_args()
    data = a.data.resolve()
    truth_csv = data / "truth.csv"
    truth = {
        r["file"]: (float(r["lat"]), float(r["lon"]))
        for r in csv.DictReader(truth_csv.open())
        if r["role"] == "query"
    }
    with tempfile.TemporaryDirectory(prefix="library-bench-") as tmp:
        work = a.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        catalog = work / "library.sqlite"
        t0 = time.monotonic()
        print(geotagger(catalog, "index", str(data / "photos")).strip(), f"({time.monotonic() - t0:.1f} s)")
        t0 = time.monotonic()
        print(
            geotagger(catalog, "models", "train", "--device", a.device).strip(),
            f"({time.monotonic() - t0:.1f} s)",
        )
        fused_rows: list[dict[str, str]] = []
        for name, sources in RUNS:
            t0 = time.monotonic()
            summary = geotagger(catalog, "locate", "--sources", sources, "--device", a.device).strip()
            rows = to_predictions(
                geotagger(catalog, "suggestions", "--format", "csv"), data, work / f"{name}.csv"
            )
            score = subprocess.run(
                [sys.executable, str(a.scorer), str(truth_csv), str(work / f"{name}.csv"), "--name", name],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            print(f"{score}   [{summary}; {time.monotonic() - t0:.1f} s]")
            if name == "fused":
                fused_rows = rows
        calibration(fused_rows, truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
