"""Concept masks from the backbone's own ImageNet classifier, grouped into a geo-relevant vocabulary.

No scene-parsing model installs offline (FACTS.md), but the ImageNet head is linear over pooled features,
so applying it at every feature-map location gives a per-location class distribution. A concept's map is
the summed probability of its classes there; masks follow the rule in resources/concepts.json ("mask"):
a concept is present when one of its classes is in the photo's top-k ImageNet classes, each pixel goes to
the present concept with the highest map if that is >= threshold, and tiny masks are dropped. How the
threshold was chosen is written next to it in that file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from geotagger.errors import ModelError
from geotagger.explain.attribution import dense_logits, upsample
from geotagger.paths import resources_dir

VOCABULARY_FILE = "concepts.json"


@dataclass(frozen=True)
class Vocabulary:
    names: tuple[str, ...]
    groups: np.ndarray  # [n_concepts, 1000] 0/1 membership
    order: np.ndarray  # class indices sorted by concept (for np.add.reduceat)
    starts: np.ndarray  # where each concept's classes start in ``order``
    class_names: dict[int, str]
    top_k: int
    threshold: float
    min_area: float

    @property
    def size(self) -> int:
        return len(self.names)


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """Read and validate the vocabulary (default: resources/concepts.json)."""
    return _load(str(path or resources_dir() / VOCABULARY_FILE))


@lru_cache(maxsize=4)
def _load(path: str) -> Vocabulary:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        rule = doc["mask"]
        concepts = doc["concepts"]
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"concept vocabulary {path} is unreadable ({exc})") from exc
    groups = np.zeros((len(concepts), 1000), dtype=np.float32)
    class_names: dict[int, str] = {}
    for i, concept in enumerate(concepts):
        for cls in concept["classes"]:
            idx = int(cls["index"])
            if not 0 <= idx < 1000 or idx in class_names:
                raise ModelError(f"concept vocabulary {path}: class {idx} is out of range or in two concepts")
            class_names[idx] = str(cls["name"])
            groups[i, idx] = 1.0
    if (groups.sum(axis=1) == 0).any():
        raise ModelError(f"concept vocabulary {path}: every concept needs at least one class")
    return Vocabulary(
        names=tuple(str(c["name"]) for c in concepts),
        groups=groups,
        order=np.concatenate([np.flatnonzero(row) for row in groups]),
        starts=np.concatenate([[0], np.cumsum(groups.sum(axis=1).astype(np.int64))[:-1]]),
        class_names=class_names,
        top_k=int(rule["presence_top_k"]),
        threshold=float(rule["threshold"]),
        min_area=float(rule["min_area"]),
    )


def concept_maps(
    features: np.ndarray, head_w: np.ndarray, head_b: np.ndarray, vocab: Vocabulary
) -> tuple[np.ndarray, np.ndarray]:
    """(per-location concept probabilities [n, h, w], image-level ImageNet logits [1000])."""
    logits = dense_logits(features, head_w, head_b)  # [1000, h, w]
    if logits.shape[0] != vocab.groups.shape[1]:
        raise ModelError(f"concepts need an ImageNet-1k head; this one has {logits.shape[0]} classes")
    k, h, w = logits.shape
    flat = logits.reshape(k, h * w)
    probs = np.exp(flat - flat.max(axis=0, keepdims=True))
    probs /= probs.sum(axis=0, keepdims=True)
    # Summing rows by reduceat: a 0/1 matrix product is 300x slower with a busy multi-threaded BLAS.
    maps = np.add.reduceat(probs[vocab.order], vocab.starts, axis=0).reshape(-1, h, w)
    return maps, flat.mean(axis=1)


def present(image_logits: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    """Boolean [n]: concepts with a class among the photo's top-k ImageNet classes."""
    top = np.argsort(-np.asarray(image_logits), kind="stable")[: vocab.top_k]
    return vocab.groups[:, top].max(axis=1) > 0


def concept_masks(
    maps: np.ndarray, image_logits: np.ndarray, vocab: Vocabulary, size_hw: tuple[int, int]
) -> dict[str, np.ndarray]:
    """Disjoint boolean masks (H, W) per present concept; concepts not in the photo are left out."""
    keep = np.flatnonzero(present(image_logits, vocab))
    if keep.size == 0:
        return {}
    up = np.stack([upsample(maps[i], size_hw) for i in keep])
    best = up.argmax(axis=0)
    strong = up.max(axis=0) >= vocab.threshold
    out: dict[str, np.ndarray] = {}
    for j, i in enumerate(keep):
        mask = strong & (best == j)
        if mask.mean() >= vocab.min_area:
            out[vocab.names[i]] = mask
    return out


def top_classes(image_logits: np.ndarray, vocab: Vocabulary, n: int = 5) -> list[tuple[str, float]]:
    """The photo's top ImageNet classes that the vocabulary names, with softmax probabilities."""
    z = np.asarray(image_logits, dtype=np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    order = [int(i) for i in np.argsort(-p, kind="stable") if int(i) in vocab.class_names]
    return [(vocab.class_names[i], float(p[i])) for i in order[:n]]
