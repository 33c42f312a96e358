"""Which level a candidate is shown at, when two candidates are the same place, and how they are ordered.

A candidate's calibrated probabilities P(truth within r) for r = 1/25/200/750/2500 km are its own
(calibrated on held-out photos for its role: the fusion's choice or an alternative). From them:

- level: the finest level whose probability reaches SURE (0.9), else the finest that reaches LIKELY (0.6),
  else country. A user filtering on confidence >= 0.9 thus gets every photo the evidence pins down at some
  level, at the finest level it is pinned down, instead of a fine level it is not sure of.
- order: the calibrated expected number of the five radii within which the truth lies (sum of the
  probabilities): a candidate that is at least as likely within every radius never comes after another.
- same place: a candidate is dropped when a better-ranked one lies within its own level's radius (it would
  name the same place at the level it is shown at); a finer candidate inside a coarser one's radius is a
  refinement and stays.
- coherence: an alternative D km from a better candidate can only be right within r where that one is
  wrong within D - r, so its P(within r) is at most 1 - P_better(within the largest radius <= D - r).
  Without this, an alternative listed because it is far from the choice would keep the hit rate of
  alternatives in general, which are mostly right where the choice is right too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geotagger.locate.calibration import LEVEL_RADIUS_KM, LEVELS_FINE_TO_COARSE, RADII_KM
from geotagger.locate.time_evidence import haversine_km

SURE = 0.9  # a level this likely is what the user can write without looking
LIKELY = 0.6  # otherwise the finest level that is more likely right than not, by a margin


def pick_level(
    probs: np.ndarray | Sequence[float], sure: float = SURE, likely: float = LIKELY
) -> tuple[str, float]:
    """(level, confidence) from P(within r) indexed like RADII_KM: the finest level with P >= ``sure``,
    else the finest with P >= ``likely``, else country."""
    p = np.asarray(probs, dtype=float)
    for threshold in (sure, likely):
        for level in LEVELS_FINE_TO_COARSE:
            value = float(p[RADII_KM.index(LEVEL_RADIUS_KM[level])])
            if value >= threshold:
                return level, value
    return "country", float(p[RADII_KM.index(LEVEL_RADIUS_KM["country"])])


def expected_hits(probs: np.ndarray | Sequence[float]) -> float:
    """The ordering key: the expected number of radii (1, 25, 200, 750, 2500 km) the candidate is right at."""
    return float(np.sum(np.asarray(probs, dtype=float)))


def same_place(lat: float, lon: float, level: str, better: Sequence[tuple[float, float]]) -> bool:
    """True when one of the ``better`` (lat, lon) lies within this candidate's own level radius."""
    radius = LEVEL_RADIUS_KM[level]
    return any(float(haversine_km(lat, lon, b_lat, b_lon)) <= radius for b_lat, b_lon in better)


def coherent(
    probs: np.ndarray | Sequence[float],
    lat: float,
    lon: float,
    better: Sequence[tuple[float, float, np.ndarray]],
) -> np.ndarray:
    """``probs`` bounded by what the ``better`` candidates (lat, lon, probs) leave (module docstring)."""
    out = np.asarray(probs, dtype=float).copy()
    radii = np.asarray(RADII_KM)
    for b_lat, b_lon, b_probs in better:
        d = float(haversine_km(lat, lon, b_lat, b_lon))
        for j, r in enumerate(RADII_KM):
            inner = np.flatnonzero(radii <= d - r)
            if len(inner):
                out[j] = min(out[j], 1.0 - float(b_probs[inner[-1]]))
    return np.maximum.accumulate(np.clip(out, 0.0, 1.0))
