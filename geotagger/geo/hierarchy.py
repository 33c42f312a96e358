"""Hierarchical prediction (the paper's inference rule): score of a fine class = product of the
probabilities of the class and of its ancestors in the coarser partitionings (matrix M)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geotagger.geo.semp import PartitioningSet


@dataclass
class RankedClass:
    """One candidate place for one sample."""

    class_index: int  # in the finest partitioning
    class_id: str
    score: float  # product over levels (not renormalised)
    lat: float
    lon: float
    name_path: list[str]
    display: str
    level_probs: list[float] = field(default_factory=list)  # per partitioning, coarse to fine
    address: dict[str, Any] = field(default_factory=dict)


def hierarchical_scores(probs: Sequence[np.ndarray], pset: PartitioningSet) -> np.ndarray:
    """[N, C_fine] products; an ancestor missing at some level (M = -1) contributes a factor of 1."""
    if len(probs) != len(pset.partitionings):
        raise ValueError(f"got {len(probs)} probability arrays for {len(pset.partitionings)} partitionings")
    arrays = [np.asarray(p, np.float64) for p in probs]
    arrays = [a[None, :] if a.ndim == 1 else a for a in arrays]
    n = arrays[0].shape[0]
    scores = np.ones((n, pset.M.shape[0]))
    for level, (a, part) in enumerate(zip(arrays, pset.partitionings, strict=True)):
        if a.shape != (n, len(part.classes)):
            raise ValueError(
                f"level {level}: probabilities shape {a.shape}, expected ({n}, {len(part.classes)})"
            )
        anc = pset.M[:, level]
        factor = a[:, np.maximum(anc, 0)]
        factor[:, anc < 0] = 1.0
        scores *= factor
    return scores


def hierarchical_predict(
    probs: Sequence[np.ndarray], pset: PartitioningSet, top_k: int = 5
) -> list[list[RankedClass]]:
    """For each sample the ``top_k`` finest classes ranked by hierarchical score, best first."""
    scores = hierarchical_scores(probs, pset)
    arrays = [np.atleast_2d(np.asarray(p, np.float64)) for p in probs]
    k = min(top_k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    fine = pset.finest.classes
    out: list[list[RankedClass]] = []
    for i, row in enumerate(top):
        ranked = []
        for c in row.tolist():
            cls = fine[c]
            level_probs = [
                float(arrays[lv][i, anc]) if anc >= 0 else float("nan")
                for lv, anc in enumerate(pset.M[c].tolist())
            ]
            ranked.append(
                RankedClass(
                    class_index=c,
                    class_id=cls.id,
                    score=float(scores[i, c]),
                    lat=cls.lat,
                    lon=cls.lon,
                    name_path=list(cls.name_path),
                    display=cls.display,
                    level_probs=level_probs,
                    address=cls.address().to_dict() if cls.ids else {},
                )
            )
        out.append(ranked)
    return out


def predict_coordinates(probs: Sequence[np.ndarray], pset: PartitioningSet) -> np.ndarray:
    """[N, 2] lat, lon of the best class per sample (for benchmarks with metrics.evaluate)."""
    best = hierarchical_scores(probs, pset).argmax(axis=1)
    return pset.finest.class_coordinates()[best]
