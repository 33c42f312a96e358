#!/usr/bin/env python3
"""Leave-photographers-out check of the clock estimator's settings on the `devices` variant.

usage: clock_folds.py CATALOG TRUTH_CSV

CATALOG is a warm catalog of the variant (photos indexed, embeddings stored: e.g. after one
`library_bench.py --scenarios devices`); TRUTH_CSV its truth.csv (`clock_offset_s` per query photo, used for
scoring only). For every library folder the camera (photos without GPS) is estimated against the phone
(photos with GPS) for each setting of a small grid (kernel, similarity floor, time-zone prior, confidence
threshold). The setting is chosen on 4 folds (fold = sha1(folder name) % 5) by a utility that counts a
wrong confident clock 9 times a right one (the goal: >= 90% of confident clocks within 2 minutes), made
robust by taking the worst utility over the neighbouring settings, and scored on the 5th. Prints the
choice and held-out result per fold and what the same rule picks on all folds (the shipped defaults).
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections import defaultdict
from itertools import product

import numpy as np
from sqlalchemy import select

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))  # the repo's geotagger

from geotagger.catalog.library import Library  # noqa: E402
from geotagger.catalog.schema import Photo  # noqa: E402
from geotagger.locate import clocks  # noqa: E402
from geotagger.locate.embed import store_model_id  # noqa: E402
from geotagger.locate.embedding_store import EmbeddingStore  # noqa: E402
from geotagger.locate.time_evidence import capture_seconds  # noqa: E402
from geotagger.services import models  # noqa: E402

KERNELS = (45.0, 60.0, 90.0, 120.0)
FLOORS = (0.2, 0.3)
PRIORS = (0.0, 0.25, 0.5, 1.0)
THRESHOLDS = (0.15, 0.2, 0.3, 0.4, 0.5)
TOLERANCE_S = 120.0
WRONG_COST = 9


def units(catalog: str, truth_csv: str) -> list[tuple[str, int, clocks.ClockSide, clocks.ClockSide, float]]:
    """(library, fold, camera side, phone side, applied offset) per library folder with both."""
    applied = {}
    with open(truth_csv, encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["role"] == "query":
                applied[r["library"]] = float(r["clock_offset_s"] or 0)
    lib = Library(catalog)
    pack = models.ensure_default_pack(progress=None)
    store = EmbeddingStore(lib, store_model_id(pack.id, False), digest=pack.digest, dim=pack.embedding_dim)
    with lib.catalog.reader() as session:
        photos = session.scalars(select(Photo).where(Photo.status == "ok", Photo.taken_at.is_not(None))).all()
        rows = [
            (p.folder, p.fingerprint, capture_seconds(p.taken_at, p.taken_offset_min), p.gps_lat)
            for p in photos
        ]
    vectors = store.get(sorted({fp for _, fp, _, _ in rows}))
    by_folder: dict[str, list] = defaultdict(list)
    for row in rows:
        if row[1] in vectors:
            by_folder[row[0]].append(row)
    out = []
    for folder, items in sorted(by_folder.items()):
        name = folder.rstrip("/").rsplit("/", 1)[-1]
        cam = [r for r in items if r[3] is None]
        phone = [r for r in items if r[3] is not None]
        if not cam or not phone or name not in applied:
            continue

        def side(rs: list) -> clocks.ClockSide:
            return clocks.ClockSide.of(
                [r[2][0] for r in rs], np.stack([vectors[r[1]] for r in rs]), [r[2][1] for r in rs]
            )

        fold = int(hashlib.sha1(name.encode()).hexdigest(), 16) % 5
        out.append((name, fold, side(cam), side(phone), applied[name]))
    lib.close()
    return out


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    data = units(sys.argv[1], sys.argv[2])
    grid = list(product(KERNELS, FLOORS, PRIORS))
    results = {}  # setting -> [(fold, estimate, applied)]
    for k, f, z in grid:
        results[(k, f, z)] = [
            (fold, clocks.estimate_offset(u, r, kernel_s=k, sim_floor=f, zone_prior=z, confident=0.0), off)
            for _, fold, u, r, off in data
        ]

    def counts(setting: tuple, thr: float, folds: set[int]) -> tuple[int, int]:
        conf = [
            (e, off)
            for fold, e, off in results[setting]
            if fold in folds and e.status != "unknown" and e.confidence >= thr
        ]
        return len(conf), sum(abs(e.offset_s - off) <= TOLERANCE_S for e, off in conf)

    def utility(setting: tuple, thr: float, folds: set[int]) -> int:
        n, ok = counts(setting, thr, folds)
        return ok - WRONG_COST * (n - ok)

    def robust(setting: tuple, ti: int, folds: set[int]) -> int:
        k, f, z = setting
        ki, zi = KERNELS.index(k), PRIORS.index(z)
        near = [
            utility((KERNELS[a], f, PRIORS[b]), THRESHOLDS[c], folds)
            for a in (ki - 1, ki, ki + 1)
            for b in (zi - 1, zi, zi + 1)
            for c in (ti - 1, ti, ti + 1)
            if 0 <= a < len(KERNELS) and 0 <= b < len(PRIORS) and 0 <= c < len(THRESHOLDS)
        ]
        return min(near)

    def choose(folds: set[int]) -> tuple[tuple, float]:
        best = max(
            (robust(s, ti, folds), utility(s, THRESHOLDS[ti], folds), -grid.index(s), s, THRESHOLDS[ti])
            for s in grid
            for ti in range(len(THRESHOLDS))
        )
        return best[3], best[4]

    total_n = total_ok = 0
    for fold in range(5):
        setting, thr = choose({g for g in range(5) if g != fold})
        n, ok = counts(setting, thr, {fold})
        units_here = sum(1 for _, f, *_ in data if f == fold)
        total_n, total_ok = total_n + n, total_ok + ok
        print(
            f"fold {fold}: chose kernel {setting[0]:g} s, floor {setting[1]}, zone prior {setting[2]}, "
            f"confident from {thr}; held out: {units_here} units, {n} confident, {ok} within 2 min"
        )
    print(f"held out, all folds: {total_n} confident, {total_ok} within 2 min, of {len(data)} units")
    setting, thr = choose(set(range(5)))
    n, ok = counts(setting, thr, set(range(5)))
    print(
        f"all folds (the defaults): kernel {setting[0]:g} s, floor {setting[1]}, zone prior {setting[2]}, "
        f"confident from {thr}: {n} confident, {ok} within 2 min (in sample)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
