#!/usr/bin/env python3
"""How far re-ranking can take `locate` on the library benchmark, and where new evidence is needed.

Run after `bench/library_bench.py --work WORK` (it reads that run's catalogs and trained models, warm).
For each scenario it rebuilds every query's fusion pool exactly as `locate --no-ocr` does and prints at
1 / 25 / 200 / 750 / 2500 km:
- pool recall: the truth lies within r of some place in the pool (all places, time places, library
  places); no ranking can do better than this;
- the trained fusion's first choice (equals library_bench's `no_ocr` line) and its ranked top-5;
- the ceiling of the ranking *features*: the listwise rank weights fitted on the queries themselves
  (their truth; in-sample, with and without the learned time-rule gate) and the same fitted on 4 folds
  of photographers and scored on the 5th (what a ranker learned on the benchmark would carry to unseen
  photographers).
In-sample figures are a bound, not a method: they use the answers. If a goal lies above the in-sample
line, no re-weighting of today's features reaches it; it needs new evidence (new candidates or features).

usage: python bench/ranking_ceiling.py --work WORK [--scenarios dev,days,devices] [--data DIR]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
import bench_metrics as bm  # noqa: E402

from geotagger.catalog.library import Library  # noqa: E402
from geotagger.locate.calibration import RADII_KM  # noqa: E402
from geotagger.locate.fusion import FusionModel, PoolItem  # noqa: E402
from geotagger.locate.fusion.features import FEATURE_SIGNS, FEATURES  # noqa: E402
from geotagger.locate.fusion.solvers import fit_listwise  # noqa: E402
from geotagger.locate.time_evidence import haversine_km  # noqa: E402
from geotagger.services.locate_stages import clocks, embeddings, evidence, library_model, targets  # noqa: E402
from geotagger.services.locate_stages.run import LocateRun  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("dev", "days", "devices")
NONNEG = np.array([FEATURE_SIGNS[name] for name in FEATURES])


@dataclass(frozen=True)
class Case:
    """One query: its photographer (library folder), its fusion pool and where it was taken."""

    library: str
    pool: list[PoolItem]
    lat: float
    lon: float


def pools(catalog: Path, truth: Path) -> tuple[FusionModel, list[Case]]:
    """Every query's pool, as `locate --no-ocr` builds it from the catalog's trained model."""
    rows = {r["file"]: r for r in csv.DictReader(truth.open(encoding="utf-8"))}
    sources, use_tracks = targets.check_request(None, None)
    run = LocateRun(Library(catalog), None, sources, use_tracks, device="cpu", use_ocr=False)
    targets.select_targets(run)
    targets.load_known(run)
    targets.require_evidence(run)
    run.retrain = False  # library_bench trained it; a stale model is what that run measured
    embeddings.embed(run)
    clocks.correct(run)
    library_model.prepare(run)
    assert run.fusion is not None, "no trained fusion: run bench/library_bench.py --work first"
    run.keys = {p.id for p in run.targets}  # every query, not only those whose suggestion is stale
    evidence.collect(run)
    cases = []
    for photo in run.targets:
        row = rows["photos/" + Path(photo.path).as_posix().split("/photos/", 1)[1]]
        cases.append(Case(row["library"], run.evidence[photo.id].pool, float(row["lat"]), float(row["lon"])))
    return run.fusion, cases


def _hits(lat: np.ndarray, lon: np.ndarray, case: Case) -> np.ndarray:
    if len(lat) == 0:
        return np.zeros(len(RADII_KM), dtype=bool)
    d = haversine_km(lat, lon, case.lat, case.lon)
    return np.array([(d <= r).any() for r in RADII_KM])


def recall(cases: Sequence[Case], source: str | None = None) -> np.ndarray:
    """Percent of queries with the truth within r of a place in the pool (of ``source`` only)."""
    total = np.zeros(len(RADII_KM))
    for c in cases:
        items = [it for it in c.pool if source is None or it.source == source]
        total += _hits(np.array([it.lat for it in items]), np.array([it.lon for it in items]), c)
    return 100 * total / max(len(cases), 1)


def ranked_top(model: FusionModel, cases: Sequence[Case], k: int) -> np.ndarray:
    """Percent of queries with the truth within r of one of the fusion's first ``k`` ranked places."""
    total = np.zeros(len(RADII_KM))
    for c in cases:
        ranked = [it for it, _ in model.rank(c.pool, limit=k)]
        total += _hits(np.array([it.lat for it in ranked]), np.array([it.lon for it in ranked]), c)
    return 100 * total / max(len(cases), 1)


def fit_rank(model: FusionModel, cases: Sequence[Case]) -> np.ndarray:
    """Listwise rank weights (one per radius) fitted on the queries' own truth, on the model's scaling."""
    live = [c for c in cases if c.pool]
    blocks = [np.stack([it.vector() for it in c.pool]) for c in live]
    xs = (np.concatenate(blocks) - model.mean) / model.scale
    xs[:, 0] = 1.0
    y = np.concatenate(
        [
            haversine_km(
                np.array([it.lat for it in c.pool]), np.array([it.lon for it in c.pool]), c.lat, c.lon
            )[:, None]
            <= np.array(RADII_KM)[None, :]
            for c in live
        ]
    ).astype(float)
    starts = np.concatenate([[0], np.cumsum([len(b) for b in blocks])[:-1]]).astype(int)
    return np.stack([fit_listwise(xs, y[:, j], starts, NONNEG) for j in range(len(RADII_KM))])


def top1(model: FusionModel, cases: Sequence[Case]) -> np.ndarray:
    """Percent of queries whose first choice (FusionModel.rank: MBR order, time rule within the gate)
    lies within r of the truth."""
    total = np.zeros(len(RADII_KM))
    for c in cases:
        ranked = model.rank(c.pool, limit=1)
        if ranked:
            total += _hits(np.array([ranked[0][0].lat]), np.array([ranked[0][0].lon]), c)
    return 100 * total / max(len(cases), 1)


def cross_validated(model: FusionModel, cases: Sequence[Case]) -> np.ndarray:
    """Rank weights fitted on 4 folds of photographers, each fold scored with the weights of the others."""
    total = np.zeros(len(RADII_KM))
    for f in range(bm.N_FOLDS):
        train = [c for c in cases if bm.fold_of(c.library) != f]
        test = [c for c in cases if bm.fold_of(c.library) == f]
        if not train or not test:
            continue
        total += top1(replace(model, rank_weights=fit_rank(model, train)), test) * len(test) / 100
    return 100 * total / max(len(cases), 1)


def report(name: str, model: FusionModel, cases: Sequence[Case]) -> None:
    def line(label: str, values: np.ndarray) -> None:
        print(f"  {label:<56}{'/'.join(f'{v:.1f}' for v in values)}")

    print(f"=== {name}: {len(cases)} queries, acc@1/25/200/750/2500 km (time-rule gate {model.gate_s:g} s)")
    line("pool recall, all places", recall(cases))
    line("pool recall, time places", recall(cases, "time"))
    line("pool recall, library places", recall(cases, "library"))
    line("fusion's ranked top-5", ranked_top(model, cases, 5))
    line("fusion's first choice (= locate --no-ocr)", top1(model, cases))
    fitted = fit_rank(model, cases)
    line("ranker fitted on these queries, in-sample", top1(replace(model, rank_weights=fitted), cases))
    line(
        "  the same without the time-rule gate", top1(replace(model, rank_weights=fitted, gate_s=0.0), cases)
    )
    line("ranker fitted on 4 folds of photographers, 5th scored", cross_validated(model, cases))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--work", type=Path, required=True, help="library_bench.py's --work folder")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "library-dev")
    ap.add_argument("--variants", type=Path, help="days/ and devices/ (default: WORK/variants)")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    a = ap.parse_args(argv)
    variants = a.variants or a.work / "variants"
    for name in a.scenarios.split(","):
        data = a.data if name == "dev" else variants / name
        catalog = a.work / name / "library.sqlite"
        if not catalog.is_file() or not (data / "truth.csv").is_file():
            raise SystemExit(f"error: {catalog} or {data / 'truth.csv'} missing: run library_bench.py first")
        model, cases = pools(catalog, data / "truth.csv")
        report(name, model, cases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
