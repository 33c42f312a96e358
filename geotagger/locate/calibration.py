"""Turning raw scores into probabilities that mean what they say.

Confidence shown to the user is P(truth within the level's radius). Raw scores of the fusion model are
calibrated on held-out known photos of the library itself (k-fold over its own geotagged photos) with
isotonic regression (pool-adjacent-violators), which only assumes that a higher score is not less likely
to be right. With too few held-out photos the calibration falls back to a conservative cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Levels and the radius (km) within which a suggestion at that level counts as right.
LEVEL_RADIUS_KM: dict[str, float] = {"exact": 1.0, "city": 25.0, "region": 200.0, "country": 750.0}
LEVELS_FINE_TO_COARSE = ("exact", "city", "region", "country")
# Radii the fusion model scores (the benchmark thresholds; 2500 km is scored but never a level).
RADII_KM = (1.0, 25.0, 200.0, 750.0, 2500.0)

MIN_CALIBRATION_SAMPLES = 30  # fewer held-out photos: confidences are capped, see Calibrator.apply
UNCALIBRATED_CAP = 0.75


def isotonic_fit(
    scores: np.ndarray, hits: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Non-decreasing step function fitted to (score, 0/1 hit) pairs; returns knots (x, y)."""
    order = np.argsort(scores, kind="mergesort")
    x = np.asarray(scores, dtype=float)[order]
    y = np.asarray(hits, dtype=float)[order]
    sw = np.ones(len(x)) if sample_weight is None else np.asarray(sample_weight, dtype=float)[order]
    # Pool adjacent violators on blocks (value, weight, last x).
    values: list[float] = []
    weights: list[float] = []
    xs_hi: list[float] = []
    xs_lo: list[float] = []
    for xi, yi, wi in zip(x, y, sw, strict=True):
        values.append(yi)
        weights.append(float(wi))
        xs_lo.append(xi)
        xs_hi.append(xi)
        while len(values) > 1 and values[-2] >= values[-1]:
            w = weights[-2] + weights[-1]
            v = (values[-2] * weights[-2] + values[-1] * weights[-1]) / w
            lo = xs_lo[-2]
            hi = xs_hi[-1]
            for lst in (values, weights, xs_lo, xs_hi):
                lst.pop()
            values[-1], weights[-1], xs_lo[-1], xs_hi[-1] = v, w, lo, hi
    knots_x: list[float] = []
    knots_y: list[float] = []
    for v, w, lo, hi in zip(values, weights, xs_lo, xs_hi, strict=True):
        # Laplace smoothing per block: a block of 5 hits out of 5 says 0.86, not certainty.
        smoothed = (v * w + 1.0) / (w + 2.0)
        knots_x.extend([lo, hi])
        knots_y.extend([smoothed, smoothed])
    y_out = np.maximum.accumulate(np.asarray(knots_y)) if knots_y else np.asarray(knots_y)
    return np.asarray(knots_x), y_out


def isotonic_apply(knots_x: np.ndarray, knots_y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Evaluate the fitted step function (linear between blocks, flat outside)."""
    if len(knots_x) == 0:
        return np.zeros_like(np.asarray(scores, dtype=float))
    return np.interp(np.asarray(scores, dtype=float), knots_x, knots_y)


@dataclass
class Calibrator:
    """One isotonic map per radius from a raw probability to an observed hit rate."""

    knots: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    samples: int = 0

    @classmethod
    def fit(cls, raw: np.ndarray, hits: np.ndarray, sample_weight: np.ndarray | None = None) -> Calibrator:
        """raw, hits: (n, len(RADII_KM)) held-out raw probabilities and 0/1 outcomes."""
        raw = np.asarray(raw, dtype=float)
        hits = np.asarray(hits, dtype=float)
        cal = cls(samples=int(raw.shape[0]))
        if raw.shape[0] == 0:
            return cal
        for j, radius in enumerate(RADII_KM):
            kx, ky = isotonic_fit(raw[:, j], hits[:, j], sample_weight)
            cal.knots[_key(radius)] = (kx.tolist(), ky.tolist())
        return cal

    @property
    def reliable(self) -> bool:
        return self.samples >= MIN_CALIBRATION_SAMPLES

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for (n, len(RADII_KM)) raw ones; monotone over radius."""
        raw = np.atleast_2d(np.asarray(raw, dtype=float))
        out = np.empty_like(raw)
        for j, radius in enumerate(RADII_KM):
            knots = self.knots.get(_key(radius))
            if knots is None or not self.reliable:
                out[:, j] = np.minimum(raw[:, j], UNCALIBRATED_CAP)
            else:
                out[:, j] = isotonic_apply(np.asarray(knots[0]), np.asarray(knots[1]), raw[:, j])
        # P(within a larger radius) can never be smaller than within a smaller one.
        return np.maximum.accumulate(np.clip(out, 0.0, 1.0), axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {"knots": self.knots, "samples": self.samples}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        knots = {k: (list(v[0]), list(v[1])) for k, v in data.get("knots", {}).items()}
        return cls(knots=knots, samples=int(data.get("samples", 0)))


def _key(radius: float) -> str:
    return f"{radius:g}"


def choose_level(probs: np.ndarray, min_confidence: float = 0.6) -> tuple[str, float]:
    """The finest level whose calibrated probability reaches ``min_confidence`` (else country).

    ``probs`` is indexed like RADII_KM; levels map to its first four radii.
    """
    for level in LEVELS_FINE_TO_COARSE:
        p = float(probs[RADII_KM.index(LEVEL_RADIUS_KM[level])])
        if p >= min_confidence:
            return level, p
    return "country", float(probs[RADII_KM.index(LEVEL_RADIUS_KM["country"])])


def reliability_table(
    confidence: np.ndarray,
    correct: np.ndarray,
    edges: tuple[float, ...] = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0),
) -> list[dict[str, Any]]:
    """Rows (bin, n, mean confidence, observed accuracy) for reporting calibration."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (confidence >= lo) & ((confidence < hi) if hi < 1.0 else (confidence <= hi))
        n = int(mask.sum())
        rows.append(
            {
                "bin": f"[{lo:.2f}, {hi:.2f}{']' if hi >= 1.0 else ')'}",
                "n": n,
                "mean_confidence": float(confidence[mask].mean()) if n else None,
                "accuracy": float(correct[mask].mean()) if n else None,
            }
        )
    return rows
