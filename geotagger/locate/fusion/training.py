"""Training the fusion model on leave-one-out pools of the library's known photos, with k-fold held-out
scores for calibration and the time-rule gate, and covariate-shift weights towards the photos to locate."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from geotagger.locate.calibration import RADII_KM, Calibrator
from geotagger.locate.fusion.features import FEATURE_SIGNS, FEATURES, SOURCES, PoolItem
from geotagger.locate.fusion.model import FusionModel
from geotagger.locate.fusion.solvers import fit_listwise, fit_logistic
from geotagger.locate.fusion.time_rule import learn_gate, rule_choice
from geotagger.locate.time_evidence import haversine_km

MIN_TRAINING_POOLS = 10  # fewer known photos with evidence: FusionModel.untrained


def _labels(pool: Sequence[PoolItem], lat: float, lon: float) -> np.ndarray:
    d = haversine_km(np.array([it.lat for it in pool]), np.array([it.lon for it in pool]), lat, lon)
    return (d[:, None] <= np.array(RADII_KM)[None, :]).astype(float)


def _fit_weights(
    pools: Sequence[Sequence[PoolItem]],
    truths: Sequence[tuple[float, float]],
    pool_weights: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    gw = np.ones(len(pools)) if pool_weights is None else np.asarray(pool_weights, dtype=float)
    blocks = [np.stack([it.vector() for it in pool]) for pool in pools]
    x = np.concatenate(blocks)
    y = np.concatenate([_labels(pool, *t) for pool, t in zip(pools, truths, strict=True)])
    starts = np.concatenate([[0], np.cumsum([len(b) for b in blocks])[:-1]]).astype(int)
    nonneg = np.array([FEATURE_SIGNS[name] for name in FEATURES])
    mean = np.where(nonneg, 0.0, x.mean(axis=0))  # non-negative features stay anchored at 0
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    mean[0], scale[0] = 0.0, 1.0
    xs = (x - mean) / scale
    sw = np.repeat(gw, [len(b) for b in blocks])
    weights = np.stack([fit_logistic(xs, y[:, j], nonneg, sample_weight=sw) for j in range(len(RADII_KM))])
    rank_weights = np.stack(
        [fit_listwise(xs, y[:, j], starts, nonneg, group_weight=gw) for j in range(len(RADII_KM))]
    )
    return mean, scale, weights, rank_weights


def train_fusion(
    pools: Sequence[Sequence[PoolItem]],
    truths: Sequence[tuple[float, float]],
    sources: Sequence[str] = SOURCES,
    folds: int = 4,
    seed: int = 0,
    cancel_check: Callable[[], None] | None = None,
    pool_weights: Sequence[float] | None = None,
) -> FusionModel:
    """Fit the per-radius models on leave-one-out pools of known photos; calibrate on k-fold held-out ones.

    ``pool_weights`` (one per pool) correct for the known photos being located in other conditions than
    the photos to locate (see :func:`shift_weights`).
    """
    keep = [i for i, p in enumerate(pools) if p]
    if len(keep) < MIN_TRAINING_POOLS:
        return FusionModel.untrained(sources, photos=len(keep))
    pools = [pools[i] for i in keep]
    truths = [truths[i] for i in keep]
    weights_all = np.ones(len(keep)) if pool_weights is None else np.asarray(pool_weights, float)[keep]
    n = len(pools)
    folds = max(2, min(folds, n))
    assignment = np.random.default_rng(seed).permutation(n) % folds
    held_raw = np.zeros((n, len(RADII_KM)))
    held_hit = np.zeros((n, len(RADII_KM)))
    rule_cases: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}
    for f in range(folds):
        if cancel_check is not None:
            cancel_check()
        train_idx = [i for i in range(n) if assignment[i] != f]
        test_idx = [i for i in range(n) if assignment[i] == f]
        if not train_idx or not test_idx:
            continue
        fitted = _fit_weights(
            [pools[i] for i in train_idx], [truths[i] for i in train_idx], weights_all[train_idx]
        )
        model = FusionModel(tuple(sources), *fitted)
        for i in test_idx:
            ranked = model.rank(pools[i])
            item, raw = ranked[0]
            held_raw[i] = raw
            held_hit[i] = _labels([item], *truths[i])[0]
            rule = rule_choice(pools[i])
            if rule is not None:
                raw_rule = model.raw_probs([pools[i][rule[0]]])[0]
                rule_cases[i] = (rule[1], raw_rule, _labels([pools[i][rule[0]]], *truths[i])[0])
    gate_s = learn_gate(held_hit, rule_cases, weights_all)
    for i, (gap, raw_rule, hit_rule) in rule_cases.items():
        if gap <= gate_s:
            held_raw[i], held_hit[i] = raw_rule, hit_rule
    fitted = _fit_weights(pools, truths, weights_all)
    calibrator = Calibrator.fit(held_raw, held_hit, weights_all)
    cal = calibrator.apply(held_raw)
    report = {
        "photos": n,
        "heldout_accuracy": {
            f"{r:g}": float(np.average(held_hit[:, j], weights=weights_all)) for j, r in enumerate(RADII_KM)
        },
        "heldout_brier": {
            f"{r:g}": float(np.average((cal[:, j] - held_hit[:, j]) ** 2, weights=weights_all))
            for j, r in enumerate(RADII_KM)
        },
    }
    report["gate_s"] = gate_s
    return FusionModel(tuple(sources), *fitted, calibrator, report, gate_s)


# Bins (seconds) of the gap to the nearest geotagged photo in the same folder or camera.
SHIFT_BINS_S = (600.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0)


def shift_weights(known_gaps: Sequence[float | None], target_gaps: Sequence[float | None]) -> np.ndarray:
    """Importance weights that make the known photos' leave-one-out cases look like the photos to locate.

    A known photo located from the others is usually farther in time from its nearest geotagged
    neighbour than a photo without GPS is (that neighbour is itself held out), so the model would learn to
    distrust time. Weighting each known photo by how common its gap bin is among the photos to locate
    (relative to the known ones) corrects this covariate shift; weights are clipped to [0.2, 5] and
    normalised to mean 1.
    """

    def bins(gaps: Sequence[float | None]) -> np.ndarray:
        return np.array(
            [len(SHIFT_BINS_S) + 1 if g is None else int(np.searchsorted(SHIFT_BINS_S, g)) for g in gaps]
        )

    kb, tb = bins(known_gaps), bins(target_gaps)
    if len(kb) == 0 or len(tb) == 0:
        return np.ones(len(kb))
    n_bins = len(SHIFT_BINS_S) + 2
    k_share = (np.bincount(kb, minlength=n_bins) + 0.5) / (len(kb) + 0.5 * n_bins)
    t_share = (np.bincount(tb, minlength=n_bins) + 0.5) / (len(tb) + 0.5 * n_bins)
    w = np.clip(t_share[kb] / k_share[kb], 0.2, 5.0)
    return w / w.mean()
