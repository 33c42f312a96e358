"""Attribution maps from the backbone's last feature map.

Every head in a pack is linear over the global average of the feature map F [C, h, w]:
logit_k = (1 / hw) * sum_xy W[k] · F[:, x, y] + b_k. The gradient of logit_k w.r.t. F[c, x, y] is
W[k, c] / hw everywhere, so Grad-CAM's channel weights are W[k] / hw and Grad-CAM equals
ReLU(sum_c W[k, c] F[c]) / hw: the class activation map (CAM) below is exact Grad-CAM up to that
constant, which the normalisation to [0, 1] removes.

A nearest-neighbour candidate has no class; its map is the cosine similarity between each spatial
feature vector and the neighbour's embedding (where in this photo looks like the neighbour).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from geotagger.errors import ModelError


def class_map(
    features: np.ndarray, weights: np.ndarray, *, unit_embedding: bool = False, relu: bool = True
) -> np.ndarray:
    """CAM [h, w] of one class from features [C, h, w] and that class's head weights [C].

    ``unit_embedding``: the head reads the L2-normalised embedding e / |e| (the library model). Its
    gradient is then (w - ê (ê · w)) / (|e| hw), so Grad-CAM uses the part of w orthogonal to ê.
    """
    f = _features(features)
    w = np.asarray(weights, dtype=np.float32).reshape(-1)
    if w.shape[0] != f.shape[0]:
        raise ModelError(f"head has {w.shape[0]} inputs but the feature map has {f.shape[0]} channels")
    if unit_embedding:
        e = f.mean(axis=(1, 2))
        norm = max(float(np.linalg.norm(e)), 1e-12)
        unit = e / norm
        w = (w - unit * float(unit @ w)) / norm
    cam = np.tensordot(w, f, axes=(0, 0))
    return np.maximum(cam, 0.0) if relu else cam


def dense_logits(features: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """A linear head applied at every location: logits [K, h, w]; their spatial mean is the image logit."""
    f = _features(features)
    w = np.asarray(weights, dtype=np.float32)
    if w.ndim != 2 or w.shape[1] != f.shape[0]:
        raise ModelError(f"head weights {w.shape} do not match {f.shape[0]} feature channels")
    c, h, wd = f.shape
    out = w @ f.reshape(c, h * wd)
    if bias is not None:
        out += np.asarray(bias, dtype=np.float32)[:, None]
    return out.reshape(-1, h, wd)


def similarity_map(features: np.ndarray, embedding: np.ndarray, *, relu: bool = True) -> np.ndarray:
    """Cosine similarity [h, w] between each spatial feature vector and an embedding [C]."""
    f = _features(features)
    e = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if e.shape[0] != f.shape[0]:
        raise ModelError(f"embedding has {e.shape[0]} dims but the feature map has {f.shape[0]} channels")
    norms = np.linalg.norm(f, axis=0) * max(float(np.linalg.norm(e)), 1e-12)
    sim = np.tensordot(e, f, axes=(0, 0)) / np.maximum(norms, 1e-12)
    return np.maximum(sim, 0.0) if relu else sim


def normalise(m: np.ndarray, *, stretch: bool = False) -> np.ndarray:
    """Scale to [0, 1]. Default: shift a map with negative values to start at 0, divide by the maximum
    (CAMs: 0 stays "no evidence"). ``stretch``: min-max, for similarity maps whose values all sit in a
    narrow positive band (otherwise the heatmap is uniformly hot). Rank order, and so top-k and
    influence, is the same either way. An all-equal map becomes all zeros."""
    m = np.asarray(m, dtype=np.float32)
    if m.size == 0:
        return m
    lo = float(m.min())
    m = m - (lo if stretch else min(lo, 0.0))
    top = float(m.max())
    return m / top if top > 0 else np.zeros_like(m)


def upsample(m: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a map [h, w] to (H, W), pixel centres aligned (PIL's float 'F' mode)."""
    h, w = int(size_hw[0]), int(size_hw[1])
    img = Image.fromarray(np.ascontiguousarray(m, dtype=np.float32), mode="F")
    return np.asarray(img.resize((w, h), Image.BILINEAR), dtype=np.float32)


def _features(features: np.ndarray) -> np.ndarray:
    f = np.asarray(features, dtype=np.float32)
    if f.ndim == 4 and f.shape[0] == 1:
        f = f[0]
    if f.ndim != 3:
        raise ModelError(f"feature map must be [C, h, w], got shape {f.shape}")
    return f
