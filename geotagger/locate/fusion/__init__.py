"""Fusion: every piece of evidence becomes a place in one pool, scored, ranked and calibrated.

For a photo to locate, the pool holds its time neighbours (and an interpolation between them), its most
similar geotagged photos and the top classes of the library heads. Each place gets features (time gap,
scope, visual similarity, how much other evidence agrees with it) and a logistic model per radius
(1/25/200/750/2500 km) estimates P(truth within the radius). The model is trained on the library's own
geotagged photos, each located from the others (leave-one-out), so it learns how much each source is worth
in *this* library; out-of-fold scores calibrate the confidences (calibration.py).

Modules: features.py (the feature set and the pool item), evidence.py (building a photo's pool),
pool_features.py (features over the whole pool), time_rule.py (the time rule's pick, gate and prior),
solvers.py (bounded logistic/listwise fitting), model.py (FusionModel: scoring, ranking, candidates),
training.py (train_fusion, shift_weights).
"""

from geotagger.locate.fusion.evidence import EvidenceContext
from geotagger.locate.fusion.features import (
    FEATURE_SIGNS,
    FEATURES,
    HOME_CANDIDATES,
    K_SUPPORT,
    K_VISUAL,
    SOURCES,
    SUPPORT_TEMPERATURE,
    TAUS_S,
    WEAK_INTERACTIONS,
    PoolItem,
    closeness,
)
from geotagger.locate.fusion.model import MAX_CANDIDATES, MBR_RANKING, MERGE_KM, FusionModel
from geotagger.locate.fusion.solvers import fit_listwise, fit_logistic
from geotagger.locate.fusion.time_rule import GATE_GRID_S, prior_probs, rule_choice
from geotagger.locate.fusion.training import MIN_TRAINING_POOLS, SHIFT_BINS_S, shift_weights, train_fusion

__all__ = [
    "FEATURES",
    "FEATURE_SIGNS",
    "GATE_GRID_S",
    "HOME_CANDIDATES",
    "K_SUPPORT",
    "K_VISUAL",
    "MAX_CANDIDATES",
    "MBR_RANKING",
    "MERGE_KM",
    "MIN_TRAINING_POOLS",
    "SHIFT_BINS_S",
    "SOURCES",
    "SUPPORT_TEMPERATURE",
    "TAUS_S",
    "WEAK_INTERACTIONS",
    "EvidenceContext",
    "FusionModel",
    "PoolItem",
    "closeness",
    "fit_listwise",
    "fit_logistic",
    "prior_probs",
    "rule_choice",
    "shift_weights",
    "train_fusion",
]
