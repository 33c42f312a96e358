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
    held_hit = np.zeros((n, len(RADII_KM)))
    fold_models: dict[int, FusionModel] = {}
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
        fold_models[f] = model
        for i in test_idx:
            held_hit[i] = _labels([model.rank(pools[i], limit=1)[0][0]], *truths[i])[0]
            rule = rule_choice(pools[i])
            if rule is not None:
                rule_cases[i] = (rule[1], np.zeros(0), _labels([pools[i][rule[0]]], *truths[i])[0])
    gate_s = learn_gate(held_hit, rule_cases, weights_all)
    first, alternatives = _held_out_ranked(pools, truths, weights_all, assignment, fold_models, gate_s)
    held_hit = first[1]
    fitted = _fit_weights(pools, truths, weights_all)
    calibrator = Calibrator.fit(*first)
    alt_calibrator = Calibrator.fit(*alternatives)
    cal = calibrator.apply(first[0])
    weights_all = first[2]
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
    report["alternatives"] = int(len(alternatives[0]))
    return FusionModel(tuple(sources), *fitted, calibrator, report, gate_s, alt_calibrator)


Held = tuple[np.ndarray, np.ndarray, np.ndarray]  # scores, 0/1 hits (n, len(RADII_KM)), weights (n,)


def _held_out_ranked(
    pools: Sequence[Sequence[PoolItem]],
    truths: Sequence[tuple[float, float]],
    weights: np.ndarray,
    assignment: np.ndarray,
    fold_models: dict[int, FusionModel],
    gate_s: float,
) -> tuple[Held, Held]:
    """Held-out ranked places of every known photo, split by role: the fusion's choice (rank 1) and the
    alternatives (ranks 2-5), each with its calibration score and whether the truth lay within r."""
    rows: tuple[list[list[np.ndarray]], list[list[np.ndarray]], list[list[float]]] = (
        [[], []],
        [[], []],
        [[], []],
    )
    for i, pool in enumerate(pools):
        model = fold_models.get(int(assignment[i]))
        if model is None:
            continue
        model.gate_s = gate_s
        for k, (item, raw) in enumerate(model.rank(pool)):
            role = 0 if k == 0 else 1
            rows[0][role].append(raw)
            rows[1][role].append(_labels([item], *truths[i])[0])
            rows[2][role].append(float(weights[i]))

    def stack(role: int) -> Held:
        if not rows[0][role]:
            return np.zeros((0, len(RADII_KM))), np.zeros((0, len(RADII_KM))), np.zeros(0)
        return np.stack(rows[0][role]), np.stack(rows[1][role]), np.asarray(rows[2][role])

    return stack(0), stack(1)


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
