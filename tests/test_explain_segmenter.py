"""A user-supplied ONNX segmentation model becomes concept masks (next to or instead of built-ins)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from PIL import Image

from geotagger.errors import ModelError
from geotagger.explain.segmenter import Segmenter, segmenter_dir
from geotagger.paths import models_dir


def _export_segmenter(folder, mode="add"):
    """A fixed 'model': label 1 (sky) where red > blue, label 2 (road) where blue > red, 0 otherwise."""
    import torch

    class Seg(torch.nn.Module):
        def forward(self, x):
            r, b = x[:, 0:1], x[:, 2:3]
            background = torch.zeros_like(r)
            return torch.cat([background, (r - b) * 10, (b - r) * 10], dim=1)[:, :, ::2, ::2]

    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Seg(), (torch.zeros(1, 3, 32, 32),), str(folder / "model.onnx"), input_names=["x"], dynamo=False
        )
    (folder / "labels.txt").write_text("background\nsky\nroad\n")
    (folder / "segmenter.json").write_text(
        json.dumps({"input_size": 32, "mean": [0, 0, 0], "std": [1, 1, 1], "mode": mode})
    )


def test_segmenter_masks_follow_the_model_output():
    assert segmenter_dir() is None
    with pytest.raises(ModelError):
        Segmenter.load()
    _export_segmenter(models_dir() / "segmenter")
    seg = Segmenter.load()
    assert seg.mode == "add" and seg.labels == ["background", "sky", "road"]
    img = np.zeros((60, 80, 3), np.uint8)
    img[:30, :, 0] = 255  # red top half -> sky
    img[30:, :, 2] = 255  # blue bottom half -> road
    masks = seg.masks(Image.fromarray(img), (30, 40))
    assert set(masks) == {"sky", "road"}  # background is ignored
    assert masks["sky"][:14].all() and not masks["sky"][16:].any()
    assert masks["road"][16:].all()


def test_segmenter_without_labels_is_a_clear_error():
    folder = models_dir() / "segmenter"
    _export_segmenter(folder)
    (folder / "labels.txt").unlink()
    with pytest.raises(ModelError, match="labels.txt"):
        Segmenter.load()


def test_replace_mode_uses_only_the_segmenter_concepts(tmp_path):
    from geotagger.explain.explainer import Explainer, Target
    from geotagger.locate.pack import ModelPack
    from tests.explain_tiny import make_pack

    _export_segmenter(models_dir() / "segmenter", mode="replace")
    pack = ModelPack.load(make_pack(tmp_path / "tiny"))
    explainer = Explainer(pack, ocr=False)  # "auto" finds the segmenter in the models dir
    assert explainer.segmenter is not None and explainer.segmenter.mode == "replace"
    img = np.zeros((120, 160, 3), np.uint8)
    img[:60, :, 0] = 255
    img[60:, :, 2] = 255
    result = explainer.explain(Image.fromarray(img), Target("class", "c", weights=np.ones(16, np.float32)))
    assert set(result.masks) == {"sky", "road"}
    assert {c[0] for c in result.concepts} == {"sky", "road"}
    assert sum(c[2] for c in result.concepts) == pytest.approx(1.0, abs=0.02)
