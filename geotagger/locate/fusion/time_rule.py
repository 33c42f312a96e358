"""The classic time rule as fusion sees it: its pick in a pool, the gap up to which it goes first
(learned on held-out known photos) and the measured prior used when there is too little to learn from."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from geotagger.locate.fusion.features import PoolItem
from geotagger.locate.time_priors import prior


def prior_probs(item: PoolItem) -> np.ndarray:
    """Measured P(within r) of a place when the library is too small to learn from: a time neighbour's
    prior for its gap, scope and clock (time_priors.py); anything else gets the weakest measured evidence,
    a neighbour from an unrelated folder."""
    if item.prior is not None:
        return np.asarray(item.prior, dtype=float)
    return prior("library", math.inf)[0]


def rule_choice(pool: Sequence[PoolItem]) -> tuple[int, float] | None:
    """The classic time rule's pick (interpolation between close bracketing neighbours, else the nearest
    geotagged photo of the same camera or folder) and its time gap; None without such a neighbour."""
    nearest = None
    for i, it in enumerate(pool):
        if it.feats.get("is_interp"):
            return i, float(it.evidence.get("gap_s", 0.0))
        if it.feats.get("nearest"):
            nearest = (i, float(it.evidence.get("gap_s", 0.0)))
    return nearest


GATE_GRID_S = (0.0, 600.0, 3600.0, 6 * 3600.0, 86400.0, 3 * 86400.0, 7 * 86400.0, 30 * 86400.0, math.inf)


def learn_gate(
    held_hit: np.ndarray, rule_cases: dict[int, tuple[float, np.ndarray, np.ndarray]], weights: np.ndarray
) -> float:
    """Up to which time gap the plain time rule beats the fused choice on held-out known photos
    (weighted sum of hits over all radii; ties go to the simpler rule)."""
    best_gate, best_score = 0.0, -math.inf
    for gate in GATE_GRID_S:
        score = 0.0
        for i in range(len(held_hit)):
            case = rule_cases.get(i)
            hits = case[2] if case is not None and case[0] <= gate else held_hit[i]
            score += weights[i] * float(hits.sum())
        if score >= best_score - 1e-9:
            best_gate, best_score = gate, score
    return best_gate
