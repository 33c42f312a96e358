"""bench/ranking_ceiling.py on generated pools: recall, the fitted ranker and its photographer folds."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from geotagger.locate.fusion import FusionModel, PoolItem

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import ranking_ceiling as rc  # noqa: E402


def _case(k: int) -> rc.Case:
    """Two places 500 km apart; the right one (second in the pool) is the only one in the query's folder."""
    lat = float(k % 40)
    wrong = PoolItem(lat + 4.5, 0.0, "library", {"bias": 1.0, "vis_same_folder": 0.0})
    right = PoolItem(lat, 0.0, "library", {"bias": 1.0, "vis_same_folder": 1.0})
    return rc.Case(f"photographer{k % 10}", [wrong, right], lat, 0.0)


def test_a_ranker_fitted_on_the_queries_finds_the_feature_the_model_ignores() -> None:
    cases = [_case(k) for k in range(60)]
    model = FusionModel.untrained(("time", "library"))  # gives vis_same_folder no weight: keeps pool order
    assert rc.recall(cases).tolist() == [100.0] * 5
    assert rc.recall(cases, "time").tolist() == [0.0] * 5
    assert rc.top1(model, cases)[:3].tolist() == [0.0, 0.0, 0.0]  # 500 km off: wrong up to 200 km
    assert rc.ranked_top(model, cases, 2)[0] == 100.0
    fitted = rc.fit_rank(model, cases)
    assert fitted.shape == (5, len(model.mean))
    assert rc.top1(replace(model, rank_weights=fitted), cases)[0] == 100.0
    # Ten photographers over several folds: each fold is scored by weights fitted on the others only.
    assert len({rc.bm.fold_of(c.library) for c in cases}) >= 3
    assert np.allclose(rc.cross_validated(model, cases)[:3], 100.0)


def test_an_empty_pool_counts_as_wrong() -> None:
    model = FusionModel.untrained(("time", "library"))
    cases = [rc.Case("a", [], 0.0, 0.0), _case(1)]
    assert rc.recall(cases)[0] == 50.0
    assert rc.top1(model, cases)[0] == 0.0
