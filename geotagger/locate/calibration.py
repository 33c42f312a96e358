"""Turning raw scores into probabilities that mean what they say.

Confidence shown to the user is P(truth within the level's radius). Raw scores of the fusion model are
calibrated on held-out known photos of the library itself (k-fold over its own geotagged photos) with
isotonic regression (pool-adjacent-violators), which only assumes that a higher score is not less likely
to be right. There is no blanket cap for small libraries: where a candidate has a measured prior (time
evidence: time_priors.py), the library's own held-out photos and the prior are combined as counts (the prior
worth PRIOR_PSEUDO_COUNT photos), so a library with few geotagged photos leans on the benchmark's figures
for that gap and scope, and a big one on itself. A ceiling from the prior bounds what weak time evidence
(days away, another folder) may claim, whatever the library shows.
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

MIN_CALIBRATION_SAMPLES = 30  # fewer held-out photos: the measured priors carry more weight (no cap)
# How many held-out photos a measured prior is worth when combined with the library's own (see apply).
PRIOR_PSEUDO_COUNT = 10.0


def isotonic_fit(
    scores: np.ndarray, hits: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Non-decreasing step function fitted to (score, 0/1 hit) pairs; returns knots (x, y)."""
    kx, ky, _, _ = isotonic_blocks(scores, hits, sample_weight)
    return kx, ky


def isotonic_blocks(
    scores: np.ndarray, hits: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Knots (x, Laplace-smoothed y) of the isotonic fit plus each knot's raw hit rate and weight."""
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
    knots_v: list[float] = []
    knots_w: list[float] = []
    for v, w, lo, hi in zip(values, weights, xs_lo, xs_hi, strict=True):
        # Laplace smoothing per block: a block of 5 hits out of 5 says 0.86, not certainty.
        smoothed = (v * w + 1.0) / (w + 2.0)
        knots_x.extend([lo, hi])
        knots_y.extend([smoothed, smoothed])
        knots_v.extend([v, v])
        knots_w.extend([w, w])
    y_out = np.maximum.accumulate(np.asarray(knots_y)) if knots_y else np.asarray(knots_y)
    return np.asarray(knots_x), y_out, np.asarray(knots_v), np.asarray(knots_w)


def isotonic_apply(knots_x: np.ndarray, knots_y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Evaluate the fitted step function (linear between blocks, flat outside)."""
    if len(knots_x) == 0:
        return np.zeros_like(np.asarray(scores, dtype=float))
    return np.interp(np.asarray(scores, dtype=float), knots_x, knots_y)


@dataclass
class Calibrator:
    """One isotonic map per radius from a raw probability to an observed hit rate, with the hit rate and
    weight of each block kept so that a measured prior can be combined with them (apply)."""

    knots: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    samples: int = 0
    blocks: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)

    @classmethod
    def fit(cls, raw: np.ndarray, hits: np.ndarray, sample_weight: np.ndarray | None = None) -> Calibrator:
        """raw, hits: (n, len(RADII_KM)) held-out raw probabilities and 0/1 outcomes."""
        raw = np.asarray(raw, dtype=float)
        hits = np.asarray(hits, dtype=float)
        cal = cls(samples=int(raw.shape[0]))
        if raw.shape[0] == 0:
            return cal
        if sample_weight is not None:
            # Weights keep their role as counts: they sum to the number of photos.
            sw = np.asarray(sample_weight, dtype=float)
            sample_weight = sw * (len(sw) / sw.sum()) if sw.sum() > 0 else None
        for j, radius in enumerate(RADII_KM):
            kx, ky, kv, kw = isotonic_blocks(raw[:, j], hits[:, j], sample_weight)
            cal.knots[_key(radius)] = (kx.tolist(), ky.tolist())
            cal.blocks[_key(radius)] = (kv.tolist(), kw.tolist())
        return cal

    @property
    def reliable(self) -> bool:
        return self.samples >= MIN_CALIBRATION_SAMPLES

    def apply(
        self, raw: np.ndarray, prior: np.ndarray | None = None, ceiling: np.ndarray | None = None
    ) -> np.ndarray:
        """Calibrated probabilities for (n, len(RADII_KM)) raw ones; monotone over radius.

        ``prior`` (len(RADII_KM), or one row per raw row): a measured P(within r) for these places; it
        counts as PRIOR_PSEUDO_COUNT held-out photos beside the library's own block at that score (without
        a calibration it is the answer). Without a prior, a block is Laplace-smoothed. ``ceiling`` bounds
        the result (see time_priors.ceiling).
        """
        raw = np.atleast_2d(np.asarray(raw, dtype=float))
        pri = None if prior is None else np.broadcast_to(np.asarray(prior, dtype=float), raw.shape)
        out = np.empty_like(raw)
        for j, radius in enumerate(RADII_KM):
            knots = self.knots.get(_key(radius))
            blocks = self.blocks.get(_key(radius))
            if knots is None:
                out[:, j] = raw[:, j] if pri is None else pri[:, j]
            elif pri is None or blocks is None:
                out[:, j] = isotonic_apply(np.asarray(knots[0]), np.asarray(knots[1]), raw[:, j])
            else:
                kx = np.asarray(knots[0])
                v = np.interp(raw[:, j], kx, np.asarray(blocks[0]))
                w = np.interp(raw[:, j], kx, np.asarray(blocks[1]))
                out[:, j] = (v * w + PRIOR_PSEUDO_COUNT * pri[:, j]) / (w + PRIOR_PSEUDO_COUNT)
        if ceiling is not None:
            out = np.minimum(out, np.broadcast_to(np.asarray(ceiling, dtype=float), raw.shape))
        # P(within a larger radius) can never be smaller than within a smaller one.
        return np.maximum.accumulate(np.clip(out, 0.0, 1.0), axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {"knots": self.knots, "samples": self.samples, "blocks": self.blocks}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        knots = {k: (list(v[0]), list(v[1])) for k, v in data.get("knots", {}).items()}
        blocks = {k: (list(v[0]), list(v[1])) for k, v in data.get("blocks", {}).items()}
        return cls(knots=knots, samples=int(data.get("samples", 0)), blocks=blocks)


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
