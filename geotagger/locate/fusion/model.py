"""The fusion model: per-radius scores of each place, minimum-Bayes-risk ranking and calibrated candidates."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geotagger.locate.calibration import RADII_KM, Calibrator, choose_level
from geotagger.locate.candidate import Candidate
from geotagger.locate.fusion.features import FEATURES, TAUS_S, PoolItem
from geotagger.locate.fusion.time_rule import prior_probs, rule_choice
from geotagger.locate.time_evidence import haversine_km

MAX_CANDIDATES = 5
MERGE_KM = 1.0  # a lower-ranked place this close to a better one adds nothing new
MBR_RANKING = True  # see FusionModel.rank


@dataclass
class FusionModel:
    """Per-radius logistic weights over standardised features, plus the calibration of the top choice."""

    sources: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (len(RADII_KM), len(FEATURES)): P(within r) of a place on its own
    rank_weights: np.ndarray  # (len(RADII_KM), len(FEATURES)): which place of a pool to prefer
    calibrator: Calibrator = field(default_factory=Calibrator)
    report: dict[str, Any] = field(default_factory=dict)
    gate_s: float = 0.0  # the time rule's pick goes first when its gap is at most this (learned)

    @classmethod
    def untrained(cls, sources: Sequence[str], photos: int = 0) -> FusionModel:
        """For libraries with too few geotagged photos to learn from: the time rule first, then places
        ranked by closeness in time and looks; confidences from a fixed prior on the time gap
        (PRIOR_BY_GAP), capped like every uncalibrated confidence."""
        d = len(FEATURES)
        weights = np.zeros((len(RADII_KM), d))  # raw P = sigmoid(0) = 0.5 everywhere
        rank = np.zeros((len(RADII_KM), d))
        for name, w in (("nearest", 2.0), ("psim", 1.0), ("vsup25", 1.0), ("sim_rank0", 0.5)):
            rank[:, FEATURES.index(name)] = w
        for i in range(len(TAUS_S)):
            rank[:, FEATURES.index(f"close_{i}")] = 1.0
        report = {"photos": photos, "untrained": True, "gate_s": math.inf}
        return cls(tuple(sources), np.zeros(d), np.ones(d), weights, rank, Calibrator(), report, math.inf)

    def raw_probs(self, pool: Sequence[PoolItem]) -> np.ndarray:
        if not pool:
            return np.zeros((0, len(RADII_KM)))
        if self.report.get("untrained"):
            return np.stack([prior_probs(it) for it in pool])
        x = (np.stack([it.vector() for it in pool]) - self.mean) / self.scale
        x[:, 0] = 1.0
        return 1.0 / (1.0 + np.exp(-np.clip(x @ self.weights.T, -30, 30)))

    def rank(self, pool: Sequence[PoolItem]) -> list[tuple[PoolItem, np.ndarray]]:
        """Pool items best first, near-duplicates merged, top 5.

        The order is minimum-Bayes-risk: the listwise model gives, per radius r, a distribution over which
        place is the right one; a place's gain is the expected number of radii within which it lies of
        that place (sum over r and places j of P_r(j) [d(i, j) <= r]). Where the evidence is clear this
        is the model's favourite; where it is spread, a place that many likely places are near wins.
        """
        raw = self.raw_probs(pool)
        if not pool:
            return []
        x = (np.stack([it.vector() for it in pool]) - self.mean) / self.scale
        z = x @ self.rank_weights.T
        p = np.exp(z - z.max(axis=0))
        p /= p.sum(axis=0)
        if MBR_RANKING:
            lat = np.array([it.lat for it in pool])
            lon = np.array([it.lon for it in pool])
            d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
            gain = sum((d <= r).astype(float) @ p[:, j] for j, r in enumerate(RADII_KM))
        else:
            gain = np.log(np.maximum(p, 1e-300)).sum(axis=1)
        order = np.argsort(-gain, kind="stable")
        rule = rule_choice(pool)
        if rule is not None and rule[1] <= self.gate_s:
            order = np.concatenate([[rule[0]], order[order != rule[0]]])
        chosen: list[tuple[PoolItem, np.ndarray]] = []
        for i in order:
            item = pool[i]
            if any(float(haversine_km(item.lat, item.lon, c.lat, c.lon)) < MERGE_KM for c, _ in chosen):
                continue
            chosen.append((item, raw[i]))
            if len(chosen) == MAX_CANDIDATES:
                break
        return chosen

    def candidates(self, pool: Sequence[PoolItem]) -> list[Candidate]:
        """Ranked candidates with calibrated confidence at the finest level that is likely enough."""
        out = []
        for item, raw in self.rank(pool):
            probs = self.calibrator.apply(raw[None, :])[0]
            level, confidence = choose_level(probs)
            evidence = dict(item.evidence)
            evidence["p_within_km"] = {
                f"{r:g}": round(float(p), 3) for r, p in zip(RADII_KM, probs, strict=True)
            }
            out.append(
                Candidate(
                    lat=item.lat,
                    lon=item.lon,
                    radius_km=_radius_for(level),
                    level=level,
                    confidence=round(confidence, 4),
                    source=item.source,
                    evidence=evidence,
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": list(self.sources),
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "rank_weights": self.rank_weights.tolist(),
            "calibration": self.calibrator.to_dict(),
            "report": self.report,
            "gate_s": self.gate_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionModel:
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError("fusion model was trained with other features")
        return cls(
            tuple(data["sources"]),
            np.asarray(data["mean"]),
            np.asarray(data["scale"]),
            np.asarray(data["weights"]),
            np.asarray(data["rank_weights"]),
            Calibrator.from_dict(data.get("calibration", {})),
            dict(data.get("report", {})),
            float(data.get("gate_s", 0.0)),
        )


def _radius_for(level: str) -> float:
    from geotagger.locate.calibration import LEVEL_RADIUS_KM

    return LEVEL_RADIUS_KM[level]
