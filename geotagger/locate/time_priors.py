"""Measured priors for time evidence: how often the nearest geotagged photo in time lies within r km of
the truth, per gap bin and scope (resources/time_priors.json, rebuilt by bench/measure_time_priors.py).

They stand in for what a library too small to learn from cannot show itself, and they bound what time
evidence may claim on its own: a neighbour days away is rarely within 1 km, one from an unrelated folder
almost never.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import numpy as np

from geotagger.paths import resources_dir

RADII_KM = (1.0, 25.0, 200.0, 750.0, 2500.0)
# Upper edges (seconds) of the gap bins: 10 min, 1 h, 6 h, 1 day, 7 days, 30 days, 1 year, more.
GAP_BINS_S = (600.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0, 365 * 86400.0, math.inf)
# same_clock: same device, or another device/unknown device of the same folder on the same clock;
# other_clock: another device of the folder whose clock is not known; library: another folder.
SCOPES = ("same_clock", "other_clock", "library")
# Time evidence on its own is bounded by what the benchmark saw (ceiling) from this gap on, and from
# another folder at any gap; closer in time, the library's own photos decide.
CEILING_FROM_S = 6 * 3600.0
# The ceiling is the measured rate plus CEILING_Z standard errors plus CEILING_MARGIN. Zero and zero: the
# library's own held-out photos are located from neighbours minutes away, so beyond CEILING_FROM_S they
# say nothing about such gaps, and the benchmark's rate is the calibrated figure (held-out ECE 0.01-0.02;
# with 2 SE + 0.05, days' region claims at 6 h-1 day were right 92.5% at >= 0.9).
CEILING_Z = 0.0
CEILING_MARGIN = 0.0


def gap_bin(gap_s: float) -> int:
    """Index of the bin a gap (seconds) falls in."""
    g = abs(gap_s)
    for i, limit in enumerate(GAP_BINS_S):
        if g <= limit:
            return i
    return len(GAP_BINS_S) - 1


def fit_rates(counts: list[dict[str, Any]]) -> list[list[float]]:
    """Per gap bin, P(within r) from (n, hits) counts: Laplace-smoothed, non-increasing with the gap
    (pool adjacent violators weighted by n) and non-decreasing with the radius."""
    n = np.array([c["n"] for c in counts], dtype=float)
    hits = np.array([c["hits"] for c in counts], dtype=float).reshape(len(counts), len(RADII_KM))
    rates = (hits + 1.0) / (n[:, None] + 2.0)
    out = np.empty_like(rates)
    for j in range(len(RADII_KM)):
        out[:, j] = _non_increasing(rates[:, j], n + 2.0)
    out = np.maximum.accumulate(out, axis=1)
    return out.tolist()


def _non_increasing(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    blocks: list[list[float]] = []  # [value, weight, count]
    for v, w in zip(values, weights, strict=True):
        blocks.append([float(v), float(w), 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return np.array([b[0] for b in blocks for _ in range(int(b[2]))])


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    data = json.loads((resources_dir() / "time_priors.json").read_text())
    table = {
        scope: {
            "rates": np.asarray(fit_rates(counts)),
            "n": np.array([c["n"] for c in counts], dtype=float),
        }
        for scope, counts in data["scopes"].items()
    }
    # A clock that is not known never makes a neighbour more telling than a known one (the measured
    # other_clock bins are small where they come out above same_clock).
    table["other_clock"]["rates"] = np.minimum(table["other_clock"]["rates"], table["same_clock"]["rates"])
    return table


def prior(scope: str, gap_s: float) -> tuple[np.ndarray, float]:
    """(P(within r) per radius, number of benchmark cases behind it) for a neighbour at this gap."""
    t = _table()[scope]
    b = gap_bin(gap_s)
    return t["rates"][b].copy(), float(t["n"][b])


def ceiling(scope: str, gap_s: float) -> np.ndarray | None:
    """The most a neighbour at this gap and scope may claim on its own (per radius), None when close.

    The measured rate (see CEILING_Z): a neighbour days away says "exact" only as often as such
    neighbours were within 1 km (about one in four), never with confidence.
    """
    if scope != "library" and abs(gap_s) <= CEILING_FROM_S:
        return None
    return _ceilings(scope)[gap_bin(gap_s)].copy()


@lru_cache(maxsize=len(SCOPES))
def _ceilings(scope: str) -> np.ndarray:
    t = _table()[scope]
    caps = ceilings_from(t["rates"], t["n"])
    return np.minimum(caps, _ceilings("same_clock")) if scope == "other_clock" else caps


def ceilings_from(rates: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per gap bin and radius; never higher farther in time (a bin with few cases borrows the nearer
    bins' bound) and never lower within a larger radius."""
    rates, n = np.asarray(rates, dtype=float), np.asarray(n, dtype=float)[:, None]
    bound = rates + CEILING_Z * np.sqrt(rates * (1.0 - rates) / (n + 2.0)) + CEILING_MARGIN
    bound = np.minimum.accumulate(bound, axis=0)
    return np.minimum(np.maximum.accumulate(bound, axis=1), 1.0)
