"""The features every place in a fusion pool is described by, and the pool item that carries them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geotagger.locate.candidate import SOURCE_LIBRARY, SOURCE_TIME

SOURCES = (SOURCE_TIME, SOURCE_LIBRARY)
K_VISUAL = 5  # visual neighbours that become candidates
K_SUPPORT = 20  # visual neighbours that vote for places
SUPPORT_TEMPERATURE = 0.05
HOME_CANDIDATES = 2

# Radii whose measured time prior (time_priors.py) is a feature of time neighbours.
PRIOR_FEATURE_RADII = (1.0, 25.0, 200.0, 750.0)

# Time scales (seconds) at which closeness in capture time is measured: exp(-gap / tau).
TAUS_S = (600.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0)

# Features and whether their weight is held non-negative (more of it can never make a place less likely),
# which keeps the model sensible where training data is thin.
FEATURE_SIGNS: dict[str, bool] = {
    "bias": False,
    **{f"close_{i}": True for i in range(len(TAUS_S))},
    **{f"close_other_{i}": True for i in range(len(TAUS_S))},
    "nearest": True,
    "rel_lgap": False,
    "scope_device": True,
    "scope_owner": False,
    "scope_folder": False,
    "scope_library": False,
    "clock_unknown": False,
    "camera_conflict": False,
    **{f"tprior{r:g}": True for r in PRIOR_FEATURE_RADII},
    "is_interp": False,
    "bracket_lkm": False,
    "interp_lkm": False,
    "tsup1": True,
    "tsup25": True,
    "tsup200": True,
    "sim": True,
    "sim_rank0": True,
    "psim": True,
    "psim_best": True,
    "psim_lead": True,
    "vis_same_folder": True,
    "vsup1": True,
    "vsup25": True,
    "vsup200": True,
    "dens1": True,
    "dens25": True,
    "dens200": True,
    "is_home": False,
    "weak_x_psim": True,
    "weak_x_vsup25": True,
    "weak_x_vsup200": True,
    "weak_x_dens25": True,
    "weak_x_dens200": True,
    "weak_x_close": True,
    "class_p": True,
    "is_class": False,
    "global_p": True,
    "is_global": False,
    "no_time": False,
    # Text read on the photo (locate/text_evidence/pool.py says what each one measures).
    "is_text": False,
    "text_p": True,
    "text_spec": True,
    "text_ocr": True,
    "text_lamb": False,
    "text_lib": True,
    "text_post": True,
    "text_script": False,
    "txsup25": True,
    "txsup200": True,
    "weak_x_text": True,
}
# Interactions: visual and prior evidence should count more when time evidence is weak.
WEAK_INTERACTIONS = ("psim", "vsup25", "vsup200", "dens25", "dens200")
FEATURES = tuple(FEATURE_SIGNS)


def closeness(gap_s: float) -> np.ndarray:
    """exp(-gap / tau) for every time scale: 1 for the same moment, 0 for far apart."""
    return np.exp(-abs(gap_s) / np.asarray(TAUS_S))


@dataclass
class PoolItem:
    lat: float
    lon: float
    source: str
    feats: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    # Measured P(within r) per RADII_KM for time evidence (time_priors.py); None for other sources.
    prior: np.ndarray | None = None
    # The most time evidence this weak may claim per radius (time_priors.ceiling); None when unbounded.
    ceiling: np.ndarray | None = None

    def vector(self) -> np.ndarray:
        return np.array([self.feats.get(name, 0.0) for name in FEATURES], dtype=np.float64)
