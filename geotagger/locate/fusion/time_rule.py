"""The classic time rule as fusion sees it: its pick in a pool, the gap up to which it goes first
(learned on held-out known photos) and the fixed prior used when there is too little to learn from."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from geotagger.locate.candidate import SOURCE_TIME
from geotagger.locate.fusion.features import PoolItem

# P(within 1/25/200/750/2500 km) of a same-folder/camera time neighbour by gap, for libraries too small
# to calibrate; a little below what the nearest neighbour in time achieved on library-dev per gap bin
# (94/85/73/49/25/11% within 1 km for <10 min/<1 h/<6 h/<1 d/<7 d/more).
PRIOR_BY_GAP: tuple[tuple[float, tuple[float, ...]], ...] = (
    (600.0, (0.90, 0.95, 0.95, 0.97, 0.98)),
    (3600.0, (0.80, 0.93, 0.95, 0.96, 0.97)),
    (6 * 3600.0, (0.65, 0.90, 0.95, 0.96, 0.97)),
    (86400.0, (0.45, 0.75, 0.85, 0.90, 0.95)),
    (7 * 86400.0, (0.20, 0.45, 0.70, 0.85, 0.90)),
    (math.inf, (0.10, 0.20, 0.40, 0.65, 0.80)),
)
PRIOR_OTHER = (0.05, 0.15, 0.30, 0.45, 0.70)  # a look-alike or a neighbour from another folder


def prior_probs(item: PoolItem) -> np.ndarray:
    in_scope = any(k.startswith("close_") and not k.startswith("close_other_") for k in item.feats)
    gap = item.evidence.get("gap_s")
    if item.source == SOURCE_TIME and in_scope and gap is not None:
        for limit, probs in PRIOR_BY_GAP:
            if float(gap) <= limit:
                return np.array(probs)
    return np.array(PRIOR_OTHER)


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
