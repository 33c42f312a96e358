"""Concept influence exactly as in Theiner et al. (WACV 2022), "Interpretable Semantic Photo Geolocation".

Given an attribution map A (H x W) and a concept mask M_c of the same size:

    influence_c = (|topk(A) ∩ M_c| / k) / (|M_c| / (H * W))

where topk(A) are the k pixels with the highest attribution, k = 1000 at 224 x 224 and scaled with the
pixel count at other resolutions (the top share stays 1000 / 50176 ≈ 2 %). A value above 1 means the
concept drew more of the model's attention than its share of the image.

Edge cases, decided once here so every caller agrees:
- ties: when several pixels share the k-th highest value, they share the remaining places equally: every
  pixel above that value counts 1, each tied pixel counts (k - n_above) / n_tied. The top-k "set" always
  weighs exactly k, does not depend on pixel order or position, and a uniform map gives every non-empty
  mask influence 1 (its attention equals its area share) instead of favouring the top-left corner.
- empty mask: the influence is undefined (0 / 0); ``concept_influence`` returns None and ranked results
  leave the concept out (the concept is not in the photo).
- a mask covering the whole image has influence exactly 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from geotagger.errors import UserInputError

REFERENCE_K = 1000
REFERENCE_PIXELS = 224 * 224


def top_k_count(shape: tuple[int, int]) -> int:
    """k for a map of this shape: 1000 at 224 x 224, proportional to the pixel count, at least 1."""
    h, w = int(shape[0]), int(shape[1])
    if h <= 0 or w <= 0:
        raise UserInputError(f"attribution map has no pixels ({h} x {w})")
    return int(min(h * w, max(1, round(REFERENCE_K * h * w / REFERENCE_PIXELS))))


def top_k_weights(attribution: np.ndarray, k: int | None = None) -> np.ndarray:
    """Membership [H, W] in the top k pixels: 1 above the k-th value, a shared fraction at it, else 0."""
    a = _check_map(attribution)
    k = top_k_count(a.shape) if k is None else int(k)
    if not 1 <= k <= a.size:
        raise UserInputError(f"k must be between 1 and {a.size}, got {k}")
    flat = a.ravel()
    kth = np.partition(flat, flat.size - k)[flat.size - k]
    above = flat > kth
    tied = flat == kth
    weights = above.astype(np.float64)
    weights[tied] = (k - int(above.sum())) / int(tied.sum())
    return weights.reshape(a.shape)


def concept_influence(attribution: np.ndarray, mask: np.ndarray, k: int | None = None) -> float | None:
    """The paper's influence of one concept; None when the mask is empty (see module doc)."""
    return influences(attribution, {"_": mask}, k)["_"].influence


@dataclass(frozen=True)
class Influence:
    influence: float | None  # None: empty mask
    area_share: float  # |M| / (H W)
    top_share: float  # |topk ∩ M| / k


def influences(
    attribution: np.ndarray, masks: Mapping[str, np.ndarray], k: int | None = None
) -> dict[str, Influence]:
    """Influence of every concept mask (same shape as the map), sharing one top-k set."""
    a = _check_map(attribution)
    top = top_k_weights(a, k)
    k_used = float(top.sum())
    n = a.size
    out: dict[str, Influence] = {}
    for name, mask in masks.items():
        m = np.asarray(mask)
        if m.shape != a.shape:
            raise UserInputError(f"mask {name!r} has shape {m.shape}, attribution map {a.shape}")
        m = m.astype(bool, copy=False)
        area = int(m.sum())
        hits = float(top[m].sum())
        share = area / n
        top_share = hits / k_used
        out[name] = Influence(top_share / share if area else None, share, top_share)
    return out


def ranked(result: Mapping[str, Influence]) -> list[tuple[str, float, float]]:
    """(name, influence, area share) for non-empty masks, highest influence first, then by name."""
    rows = [(n, r.influence, r.area_share) for n, r in result.items() if r.influence is not None]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def _check_map(attribution: np.ndarray) -> np.ndarray:
    a = np.asarray(attribution, dtype=np.float64)
    if a.ndim != 2:
        raise UserInputError(f"attribution map must be 2-D, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise UserInputError("attribution map contains NaN or infinite values")
    return a
