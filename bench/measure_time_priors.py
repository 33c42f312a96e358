#!/usr/bin/env python3
"""Measure how often the nearest geotagged photo in time lies within 1/25/200/750/2500 km of the truth,
per gap bin and scope, and write the table locating uses as its prior (geotagger/resources/time_priors.json).

Cases (one per query photo and scope, the nearest known photo of that scope by the files' clocks):
- ``same_clock``: a known photo of the same folder whose clock agrees with the query's (library-dev and its
  ``days`` variant: one photographer, one clock). Stands for the same device, and for another device of
  the same owner once its clock is known.
- ``other_clock``: the ``devices`` variant: the known photo is the owner's phone and the query the camera,
  whose clock is off by an unknown amount (a device whose clock has not been estimated).
- ``library``: the nearest known photo of another folder (library-dev; folders are other photographers, so
  this is the pessimistic case of an unrelated folder in one catalog).

Leave-photographers-out: the table is fitted on 4 folds of library folders and scored on the 5th (per-bin hit
rate against the fitted rate, expected calibration error); the committed table is fitted on all folds.
Only derived counts are written: no paths, names or photos.

usage: python bench/measure_time_priors.py [--dev DIR] [--days DIR] [--devices DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import json
import math
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geotagger.locate.time_priors import (  # noqa: E402
    CEILING_FROM_S,
    GAP_BINS_S,
    RADII_KM,
    SCOPES,
    ceilings_from,
    fit_rates,
    gap_bin,
)

DEFAULT_OUT = ROOT / "resources" / "time_priors.json"
FOLDS = 5


def fold_of(library: str) -> int:
    return int(hashlib.sha1(library.encode()).hexdigest(), 16) % FOLDS


def gcd(a1: float, o1: float, a2: float, o2: float) -> float:
    a1, o1, a2, o2 = map(math.radians, (a1, o1, a2, o2))
    h = math.sin((a2 - a1) / 2) ** 2 + math.cos(a1) * math.cos(a2) * math.sin((o2 - o1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def load(data: Path) -> list[dict]:
    rows = []
    with (data / "truth.csv").open(newline="") as f:
        for r in csv.DictReader(f):
            taken = datetime.strptime(r["taken"], "%Y-%m-%d %H:%M:%S").timestamp()
            offset = float(r.get("clock_offset_s") or 0.0)
            rows.append(
                {
                    "library": r["library"],
                    "role": r["role"],
                    "lat": float(r["lat"]),
                    "lon": float(r["lon"]),
                    "t": taken + (offset if r["role"] == "query" else 0.0),  # the file's clock
                }
            )
    return rows


def nearest(t: float, times: list[float], items: list[dict]) -> tuple[float, dict] | None:
    i = bisect.bisect_left(times, t)
    best = None
    for j in (i - 1, i):
        if 0 <= j < len(times) and (best is None or abs(times[j] - t) < best[0]):
            best = (abs(times[j] - t), items[j])
    return best


def cases(rows: list[dict], scope: str) -> list[tuple[str, float, list[int]]]:
    """(library, gap_s, hits per radius) of each query's nearest known photo in the scope."""
    known: dict[str, list[dict]] = {}
    for r in rows:
        if r["role"] == "known":
            known.setdefault(r["library"], []).append(r)
    for lst in known.values():
        lst.sort(key=lambda r: r["t"])
    out = []
    for q in rows:
        if q["role"] != "query":
            continue
        if scope == "library":
            pool = [k for lib, ks in known.items() if lib != q["library"] for k in ks]
            pool.sort(key=lambda r: r["t"])
        else:
            pool = known.get(q["library"], [])
        found = nearest(q["t"], [k["t"] for k in pool], pool)
        if found is None:
            continue
        gap, k = found
        d = gcd(q["lat"], q["lon"], k["lat"], k["lon"])
        out.append((q["library"], gap, [int(d <= r) for r in RADII_KM]))
    return out


def table(cs: list[tuple[str, float, list[int]]]) -> list[dict]:
    counts = [{"n": 0, "hits": [0] * len(RADII_KM)} for _ in range(len(GAP_BINS_S))]
    for _, gap, hits in cs:
        c = counts[gap_bin(gap)]
        c["n"] += 1
        c["hits"] = [a + b for a, b in zip(c["hits"], hits, strict=True)]
    return counts


def heldout_report(scope: str, cs: list[tuple[str, float, list[int]]]) -> list[float]:
    """Fit on 4 folds, score on the 5th; prints per-bin observed vs fitted rate (1 and 25 km) and ECE."""
    pred_all: list[list[float]] = []
    hit_all: list[list[int]] = []
    bins_all: list[int] = []
    for f in range(FOLDS):
        fitted = fit_rates(table([c for c in cs if fold_of(c[0]) != f]))
        for lib, gap, hits in cs:
            if fold_of(lib) == f:
                b = gap_bin(gap)
                pred_all.append(fitted[b])
                hit_all.append(hits)
                bins_all.append(b)
    print(f"\n{scope}: {len(hit_all)} held-out cases (fitted on 4 folds of libraries, scored on the 5th)")
    print(f"{'gap up to':>12}{'n':>6}   {'fit@1':>6}{'obs@1':>6}   {'fit@25':>7}{'obs@25':>7}")
    for b, limit in enumerate(GAP_BINS_S):
        sel = [i for i, x in enumerate(bins_all) if x == b]
        if not sel:
            continue
        fit1 = sum(pred_all[i][0] for i in sel) / len(sel)
        obs1 = sum(hit_all[i][0] for i in sel) / len(sel)
        fit25 = sum(pred_all[i][1] for i in sel) / len(sel)
        obs25 = sum(hit_all[i][1] for i in sel) / len(sel)
        label = "inf" if math.isinf(limit) else _gap_label(limit)
        print(f"{label:>12}{len(sel):>6}   {fit1:>6.2f}{obs1:>6.2f}   {fit25:>7.2f}{obs25:>7.2f}")
    eces = []
    for j in range(len(RADII_KM)):
        ece = 0.0
        for b in set(bins_all):
            sel = [i for i, x in enumerate(bins_all) if x == b]
            fit = sum(pred_all[i][j] for i in sel) / len(sel)
            obs = sum(hit_all[i][j] for i in sel) / len(sel)
            ece += len(sel) / len(bins_all) * abs(fit - obs)
        eces.append(ece)
    print(
        "held-out ECE per radius "
        + " / ".join(f"{r:g} km {e:.3f}" for r, e in zip(RADII_KM, eces, strict=True))
    )
    ceiling_report(scope, cs)
    return eces


def ceiling_report(scope: str, cs: list[tuple[str, float, list[int]]]) -> None:
    """Ceilings fitted on 4 folds against the held-out fold's hit rates where they apply (gap beyond
    CEILING_FROM_S, or another folder): a ceiling below the observed rate would make time evidence claim
    less than it is worth (safe, but a loss); above it, it leaves the library's own calibration to decide."""
    cells = []  # (n, observed per radius, ceiling per radius)
    for f in range(FOLDS):
        train = table([c for c in cs if fold_of(c[0]) != f])
        caps = ceilings_from(fit_rates(train), [c["n"] for c in train])
        held = table([c for c in cs if fold_of(c[0]) == f])
        for b, cell in enumerate(held):
            if cell["n"] and (scope == "library" or GAP_BINS_S[b] > CEILING_FROM_S):
                cells.append((cell["n"], [h / cell["n"] for h in cell["hits"]], caps[b]))
    if not cells:
        return
    total = sum(n for n, _, _ in cells)
    print(f"ceilings fitted on 4 folds, held-out cases where they apply: {total}")
    for j, r in enumerate(RADII_KM):
        obs = sum(n * o[j] for n, o, _ in cells) / total
        cap = sum(n * c[j] for n, _, c in cells) / total
        above = sum(n for n, o, c in cells if o[j] > c[j]) / total
        print(
            f"  {r:>6g} km: hit rate {obs:.2f}, mean ceiling {cap:.2f}, cases in cells above it {above:.0%}"
        )


def _gap_label(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "data" / "library-dev")
    ap.add_argument("--days", type=Path, default=Path("/tmp/var/days"))
    ap.add_argument("--devices", type=Path, default=Path("/tmp/var/devices"))
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    dev = load(args.dev)
    by_scope = {
        "same_clock": cases(dev, "folder") + cases(load(args.days), "folder"),
        "other_clock": cases(load(args.devices), "folder"),
        "library": cases(dev, "library"),
    }
    assert set(by_scope) == set(SCOPES)
    result = {
        "about": "P(truth within r km) of the nearest geotagged photo in time, per gap bin and scope; "
        "counts measured by bench/measure_time_priors.py on library-dev and its days/devices variants",
        "gap_bins_s": [None if math.isinf(b) else b for b in GAP_BINS_S],
        "radii_km": list(RADII_KM),
        "scopes": {},
        "heldout_ece": {},
    }
    for scope, cs in by_scope.items():
        eces = heldout_report(scope, cs)
        result["scopes"][scope] = table(cs)
        result["heldout_ece"][scope] = [round(e, 4) for e in eces]
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
