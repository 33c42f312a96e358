"""A pluggable semantic segmentation model: the user's own ONNX export (e.g. an ADE20K model).

No segmentation weights install from the registries (FACTS.md), so none ships; a user who has one
places it in ``<models dir>/segmenter/``:

- ``model.onnx``: input [1, 3, H, W] float (RGB); first output either class scores [1, L, h, w] or
  class indices [1, h, w] (any h, w: masks are resized to the photo);
- ``labels.txt``: one label per line, line i = class i;
- ``segmenter.json`` (optional): {"input_size": [H, W] or S, "mean": [...], "std": [...],
  "mode": "add" | "replace", "ignore": ["background", ...]}. Defaults: 512 x 512, ImageNet mean/std,
  mode "add" (its concepts are shown next to the built-in ones; "replace" drops the built-in ones),
  ignore ["background", "unlabeled", "other"].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from geotagger.errors import ModelError
from geotagger.paths import models_dir

FOLDER = "segmenter"
DEFAULTS = {
    "input_size": 512,
    "mean": [0.485, 0.456, 0.406],
    "std": [0.229, 0.224, 0.225],
    "mode": "add",
    "ignore": ["background", "unlabeled", "other"],
}


def segmenter_dir() -> Path | None:
    folder = models_dir() / FOLDER
    return folder if (folder / "model.onnx").is_file() else None


@dataclass
class Segmenter:
    session: object
    labels: list[str]
    size_hw: tuple[int, int]
    mean: np.ndarray
    std: np.ndarray
    mode: str
    ignore: frozenset[str]

    @classmethod
    def load(cls, folder: Path | None = None) -> Segmenter:
        from geotagger.locate.runtime import create_session

        folder = folder or segmenter_dir()
        if folder is None or not (folder / "model.onnx").is_file():
            raise ModelError(
                f"no segmentation model: put model.onnx and labels.txt in {models_dir() / FOLDER}"
            )
        labels_path = folder / "labels.txt"
        if not labels_path.is_file():
            raise ModelError(f"segmentation model in {folder} has no labels.txt (one label per line)")
        labels = [line.strip() for line in labels_path.read_text(encoding="utf-8").splitlines()]
        config = dict(DEFAULTS)
        if (folder / "segmenter.json").is_file():
            try:
                config.update(json.loads((folder / "segmenter.json").read_text(encoding="utf-8")))
            except ValueError as exc:
                raise ModelError(f"{folder / 'segmenter.json'} is not valid JSON ({exc})") from exc
        size = config["input_size"]
        size_hw = (int(size), int(size)) if isinstance(size, int | float) else (int(size[0]), int(size[1]))
        if config["mode"] not in ("add", "replace"):
            raise ModelError(f"segmenter.json: mode must be 'add' or 'replace', not {config['mode']!r}")
        session, _ = create_session(folder / "model.onnx", "cpu")
        return cls(
            session,
            labels,
            size_hw,
            np.asarray(config["mean"], np.float32),
            np.asarray(config["std"], np.float32),
            str(config["mode"]),
            frozenset(str(x).lower() for x in config["ignore"]),
        )

    def label_map(self, image: Image.Image) -> np.ndarray:
        """Class index per pixel of the model's output grid [h, w]."""
        h, w = self.size_hw
        arr = np.asarray(image.convert("RGB").resize((w, h), Image.BILINEAR), dtype=np.float32) / 255.0
        x = ((arr - self.mean) / self.std).transpose(2, 0, 1)[None].astype(np.float32)
        out = np.asarray(self.session.run(None, {self.session.get_inputs()[0].name: x})[0])
        if out.ndim == 4:
            return out[0].argmax(axis=0)
        if out.ndim == 3:
            return out[0].astype(np.int64)
        raise ModelError(f"segmentation output must be [1, L, h, w] or [1, h, w], got {out.shape}")

    def masks(self, image: Image.Image, size_hw: tuple[int, int]) -> dict[str, np.ndarray]:
        """One boolean mask (size_hw) per label present in the photo, ignored labels left out."""
        labels = self.label_map(image)
        resized = np.asarray(
            Image.fromarray(labels.astype(np.int32), mode="I").resize((size_hw[1], size_hw[0]), Image.NEAREST)
        )
        out: dict[str, np.ndarray] = {}
        for idx in np.unique(resized):
            name = self.labels[idx] if 0 <= idx < len(self.labels) else f"class {idx}"
            if name and name.lower() not in self.ignore:
                out[name] = out.get(name, np.zeros(size_hw, bool)) | (resized == idx)
        return out
