"""The library model: what the user's own geotagged photos teach about where the others were taken.

Two parts over the same stored embeddings: nearest-neighbour retrieval (cosine similarity against every
geotagged photo) and, when the library is large enough, SemP heads - one linear softmax classifier per
partitioning level trained with the sum of cross-entropies (as in the paper) - whose classes are the
library's own places. Tiny libraries use neighbours only. Saved as one .npz + a JSON card in the
library's side folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geotagger.errors import ModelError

MIN_PHOTOS_FOR_HEADS = 50  # below this the heads overfit; neighbours alone are used
FORMAT_VERSION = 1


def normalise(emb: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine similarity becomes a dot product)."""
    emb = np.asarray(emb, dtype=np.float32)
    norms = np.linalg.norm(emb, axis=-1, keepdims=True)
    return emb / np.maximum(norms, 1e-12)


@dataclass
class Level:
    """One partitioning level: class names, mean coordinates and the linear head (W, b)."""

    name: str
    class_names: list[str]
    class_lat: np.ndarray
    class_lon: np.ndarray
    weight: np.ndarray | None = None  # (dim, classes)
    bias: np.ndarray | None = None  # (classes,)
    tau: int = 0  # SemP threshold the level was built with

    def probs(self, emb: np.ndarray) -> np.ndarray:
        assert self.weight is not None and self.bias is not None
        return softmax(normalise(emb) @ self.weight + self.bias)

    def nearest_class(self, lat: float, lon: float) -> int:
        """The class whose mean coordinate is closest (for places that are not a known photo)."""
        if len(self.class_names) == 0:
            return -1
        la, lo = np.radians(self.class_lat), np.radians(self.class_lon)
        q1, q2 = np.radians(lat), np.radians(lon)
        cos = np.sin(la) * np.sin(q1) + np.cos(la) * np.cos(q1) * np.cos(lo - q2)
        return int(np.argmax(cos))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class LibraryModel:
    """Embeddings, coordinates and ids of the library's geotagged photos plus optional heads."""

    model_id: str  # the backbone whose embeddings these are
    ids: np.ndarray  # (n,) photo ids
    emb: np.ndarray  # (n, dim) unit-length float32
    lat: np.ndarray
    lon: np.ndarray
    levels: list[Level] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    labels: np.ndarray | None = None  # (n, levels) class of each photo per level, -1 = none
    hierarchy: np.ndarray | None = None  # M: (finest classes, levels) ancestor index per level

    def __post_init__(self) -> None:
        self._row = {int(i): r for r, i in enumerate(self.ids)}

    @property
    def has_heads(self) -> bool:
        return bool(self.levels) and all(lv.weight is not None for lv in self.levels)

    def class_probs(self, emb: np.ndarray) -> list[np.ndarray]:
        """Softmax per level (coarse to fine) for one embedding."""
        return [lv.probs(emb.reshape(1, -1))[0] for lv in self.levels]

    @property
    def size(self) -> int:
        return int(len(self.ids))

    def row_of(self, photo_id: int) -> int | None:
        return self._row.get(int(photo_id))

    def neighbours(
        self, emb: np.ndarray, k: int, exclude_id: int | None = None, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine similarities of the ``k`` most similar geotagged photos (best first),
        optionally only among ``rows``."""
        if rows is None:
            rows = np.arange(self.size)
            all_sims = self.emb @ normalise(emb).reshape(-1)
        else:
            rows = np.asarray(rows, dtype=int)
            all_sims = None
        if exclude_id is not None:
            own = self.row_of(exclude_id)
            if own is not None:
                keep = rows != own
                rows = rows[keep]
                if all_sims is not None:
                    all_sims = all_sims[keep]
        k = min(k, len(rows))
        if k <= 0:
            return np.zeros(0, dtype=int), np.zeros(0, dtype=np.float32)
        sims = all_sims if all_sims is not None else self.emb[rows] @ normalise(emb).reshape(-1)
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return rows[top], sims[top]

    # -- persistence -------------------------------------------------------------------------------

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {
            "ids": self.ids.astype(np.int64),
            "emb": self.emb.astype(np.float16),
            "lat": self.lat.astype(np.float64),
            "lon": self.lon.astype(np.float64),
        }
        card: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "model_id": self.model_id,
            "info": self.info,
            "levels": [],
        }
        if self.labels is not None:
            arrays["labels"] = self.labels.astype(np.int32)
        if self.hierarchy is not None:
            arrays["M"] = self.hierarchy.astype(np.int32)
        for i, level in enumerate(self.levels):
            card["levels"].append({"name": level.name, "class_names": level.class_names, "tau": level.tau})
            arrays[f"L{i}_lat"] = level.class_lat
            arrays[f"L{i}_lon"] = level.class_lon
            if level.weight is not None and level.bias is not None:
                arrays[f"L{i}_W"] = level.weight.astype(np.float32)
                arrays[f"L{i}_b"] = level.bias.astype(np.float32)
        tmp = folder / "library_model.tmp.npz"
        np.savez_compressed(tmp, **arrays)
        tmp.replace(folder / "library_model.npz")
        (folder / "library_model.json").write_text(json.dumps(card, indent=1, default=_json_default))
        return folder

    @classmethod
    def load(cls, folder: Path) -> LibraryModel:
        try:
            card = json.loads((folder / "library_model.json").read_text())
            data = np.load(folder / "library_model.npz")
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"the library model in {folder} cannot be read ({exc}); run `geotagger models train`"
            ) from exc
        if card.get("format") != FORMAT_VERSION:
            raise ModelError(
                "the library model was saved by another geotagger version; run `geotagger models train`"
            )
        levels = []
        for i, meta in enumerate(card["levels"]):
            levels.append(
                Level(
                    meta["name"],
                    list(meta["class_names"]),
                    data[f"L{i}_lat"],
                    data[f"L{i}_lon"],
                    data.get(f"L{i}_W", None),
                    data.get(f"L{i}_b", None),
                    int(meta.get("tau", 0)),
                )
            )
        return cls(
            card["model_id"],
            data["ids"],
            data["emb"].astype(np.float32),
            data["lat"],
            data["lon"],
            levels,
            card.get("info", {}),
            data.get("labels", None),
            data.get("M", None),
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def train_heads(
    emb: np.ndarray,
    labels: np.ndarray,
    class_counts: list[int],
    *,
    epochs: int = 120,
    lr: float = 0.05,
    weight_decay: float = 1e-4,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """One linear softmax head per level on unit-length embeddings, minimising the sum of the levels'
    cross-entropies (full-batch Adam; samples unassigned at a level, label -1, are left out there)."""
    x = normalise(emb).astype(np.float32)
    n, dim = x.shape
    rng = np.random.default_rng(seed)
    heads = []
    for level, classes in enumerate(class_counts):
        y = labels[:, level]
        mask = y >= 0
        w = rng.normal(0.0, 0.01, (dim, classes)).astype(np.float32)
        b = np.zeros(classes, dtype=np.float32)
        if classes == 0 or not mask.any():
            heads.append((w.astype(np.float32), b.astype(np.float32)))
            continue
        xs, ys = x[mask], y[mask]
        onehot = np.zeros((len(ys), classes), dtype=np.float32)
        onehot[np.arange(len(ys)), ys] = 1.0
        # A temperature on the logits lets small weights express confident classes on unit vectors.
        scale = 10.0
        m_w, v_w, m_b, v_b = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
        for step in range(1, epochs + 1):
            p = softmax(scale * (xs @ w) + b)
            g = ((p - onehot) / len(ys)).astype(np.float32)
            gw = scale * xs.T @ g + weight_decay * w
            gb = g.sum(axis=0)
            for param, grad, m, v in ((w, gw, m_w, v_w), (b, gb, m_b, v_b)):
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad * grad
                param -= lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        heads.append(((scale * w).astype(np.float32), b.astype(np.float32)))
    return heads
