"""The fusion model: per-radius scores of each place, minimum-Bayes-risk ranking and calibrated candidates.

Ranking has two steps. ``rank`` orders the pool by the ranking model (minimum-Bayes-risk gain, the time
rule first within its learned gate); its first item is the fusion's choice. ``candidates`` turns the
ranked places into what the user sees: each place's P(within r) is calibrated for its role (the choice on
held-out choices, the others on held-out alternatives), the level follows from its own probabilities,
places that name the same place as a better one are dropped, and the alternatives follow the choice in
order of their calibrated expected number of radii hit, each bounded by what the candidates above it
leave (locate/levels.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geotagger.locate.calibration import LEVEL_RADIUS_KM, RADII_KM, Calibrator
from geotagger.locate.candidate import Candidate
from geotagger.locate.fusion.features import FEATURES, TAUS_S, PoolItem
from geotagger.locate.fusion.time_rule import prior_probs, rule_choice
from geotagger.locate.levels import coherent, expected_hits, pick_level, same_place
from geotagger.locate.time_evidence import haversine_km

MAX_CANDIDATES = 5
MERGE_KM = 1.0  # ranked places this close to a better one add nothing new at any level
MBR_RANKING = True  # see FusionModel.rank


@dataclass
class FusionModel:
    """Per-radius logistic weights over standardised features, plus the calibration of the top choice."""

    sources: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (len(RADII_KM), len(FEATURES)): P(within r) of a place on its own
    rank_weights: np.ndarray  # (len(RADII_KM), len(FEATURES)): which place of a pool to prefer
    calibrator: Calibrator = field(default_factory=Calibrator)  # the fusion's choice (rank 1)
    report: dict[str, Any] = field(default_factory=dict)
    gate_s: float = 0.0  # the time rule's pick goes first when its gap is at most this (learned)
    alt_calibrator: Calibrator = field(default_factory=Calibrator)  # the other ranked places

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

    def rank(
        self, pool: Sequence[PoolItem], limit: int | None = MAX_CANDIDATES
    ) -> list[tuple[PoolItem, np.ndarray]]:
        """Pool items with their raw P(within r), best first (places within MERGE_KM of a better one
        dropped), at most ``limit``.

        The order is minimum-Bayes-risk: the listwise model gives, per radius r, a distribution over which
        place is the right one; a place's gain is the expected number of radii within which it lies of
        that place (sum over r and places j of P_r(j) [d(i, j) <= r]). Where the evidence is clear this
        is the model's favourite; where it is spread, a place that many likely places are near wins.
        """
        if not pool:
            return []
        raw = self.raw_probs(pool)
        x = (np.stack([it.vector() for it in pool]) - self.mean) / self.scale
        z = x @ self.rank_weights.T
        p = np.exp(z - z.max(axis=0))
        p /= p.sum(axis=0)
        lat = np.array([it.lat for it in pool])
        lon = np.array([it.lon for it in pool])
        d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        if MBR_RANKING:
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
            if limit is not None and len(chosen) == limit:
                break
        return chosen

    def calibrated(self, ranked: Sequence[tuple[PoolItem, np.ndarray]]) -> list[np.ndarray]:
        """Each ranked place's own P(within r): the choice through the choice's calibration, the others
        through the alternatives' (an alternative is calibrated on held-out alternatives, so its numbers
        say how often such a second-best place was right, not how often the choice was)."""
        out = []
        for k, (item, raw) in enumerate(ranked):
            calibrator = self.calibrator if k == 0 else self.alt_calibrator
            if k > 0 and not self.alt_calibrator.knots and self.calibrator.knots:
                calibrator = self.calibrator  # a model saved before alternatives were calibrated
            out.append(calibrator.apply(raw[None, :], prior=item.prior, ceiling=item.ceiling)[0])
        return out

    def candidates(self, pool: Sequence[PoolItem]) -> list[Candidate]:
        """The candidates the user sees, best first (module docstring of locate/levels.py: level,
        order, same place), each with its own calibrated confidence and P(within r)."""
        ranked = self.rank(pool, limit=None)
        probs = self.calibrated(ranked)
        out: list[Candidate] = []
        shown: list[tuple[float, float, np.ndarray]] = []  # (lat, lon, probs) of the candidates so far
        remaining = list(range(len(ranked)))
        while remaining and len(out) < MAX_CANDIDATES:
            # The choice first; then the alternative with the most expected hits given those above it.
            bounded = {
                k: np.round(coherent(probs[k], ranked[k][0].lat, ranked[k][0].lon, shown), 4)
                for k in remaining
            }
            k = remaining[0] if not out else max(remaining, key=lambda i: (expected_hits(bounded[i]), -i))
            remaining.remove(k)
            item, p = ranked[k][0], bounded[k]  # rounded: the numbers shown are the numbers decided on
            level, confidence = pick_level(p)
            if same_place(item.lat, item.lon, level, [(lat, lon) for lat, lon, _ in shown]):
                continue
            shown.append((item.lat, item.lon, p))
            evidence = dict(item.evidence)
            if "class" in evidence and not evidence.get("text"):
                evidence["text"] = class_text(evidence, item.source)
            evidence["p_within_km"] = {f"{r:g}": float(v) for r, v in zip(RADII_KM, p, strict=True)}
            out.append(
                Candidate(
                    lat=item.lat,
                    lon=item.lon,
                    radius_km=LEVEL_RADIUS_KM[level],
                    level=level,
                    confidence=confidence,
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
            "calibration_alternatives": self.alt_calibrator.to_dict(),
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
            Calibrator.from_dict(data.get("calibration_alternatives", {})),
        )


def class_text(evidence: dict[str, Any], source: str) -> str:
    """The evidence line of a place a model's class names. Without a number on purpose: the class
    probabilities (kept in ``class_probs`` for explain) are shared by the whole list and are not the
    candidate's chance of being right, which is its confidence."""
    model = str(evidence.get("model") or source)
    who = (
        f"the global model {model.removeprefix('model:')}"
        if model.startswith("model:")
        else "your library's model"
    )
    return f"{who} recognises {evidence['class']}"
