"""Import the paper's released SemP model (Theiner et al., WACV 2022) as a geo model pack.

The release is a folder with a PyTorch Lightning checkpoint (``*.ckpt``: ``state_dict`` with
``model.*`` = an efficientnet_pytorch EfficientNet without its ImageNet classifier and
``classifier.<i>.{weight,bias}`` = one linear head per partitioning), ``hparams.yaml`` (architecture,
image size, partitioning file names and column names), one CSV per partitioning (``class_index,
class_label, latitude_mean, longitude_mean``) and ``h_dict.json`` (per partitioning ``m_<classes>``:
child class label -> parent class label in the next coarser partitioning).

Nothing from the checkpoint is executed: it is read with ``torch.load(weights_only=True)``; objects
other than tensors and plain containers (Lightning's hyper-parameter dicts) are replaced by inert
stand-ins. The EfficientNet architecture comes from efficientnet-lite-pytorch (Apache-2.0), whose
B0-B7 modules use the same parameter names as efficientnet_pytorch.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from geotagger.errors import ModelError, NotFoundError, UserInputError
from geotagger.locate.pack import (
    BACKBONE_NAME,
    HEADS_NAME,
    HIERARCHY_NAME,
    PARTITIONINGS_NAME,
    ModelPack,
    pack_build_folder,
    publish_pack,
    valid_pack_id,
)
from geotagger.locate.torch_gate import require_torch
from geotagger.paths import models_dir
from geotagger.progress import Progress

log = logging.getLogger(__name__)

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
MAX_ABS_DIFF = 1e-3
_ARCH_RE = re.compile(r"^efficientnet-b[0-7]$")


class _Inert:
    """Stand-in for a non-tensor object in a checkpoint (e.g. argparse.Namespace): keeps data, runs nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state


def load_checkpoint_state(path: Path) -> dict[str, Any]:
    """The ``state_dict`` of a Lightning checkpoint, loaded without executing pickled code.

    Each class the safe unpickler does not know gets an inert stand-in; one that turns out to be
    dict-like (Lightning's AttributeDict; the unpickler only fills real dicts) is retried as a dict.
    """
    import torch

    try:
        unsafe = list(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    except Exception as exc:
        raise ModelError(f"{path.name} is not a readable PyTorch checkpoint ({exc})") from exc
    plan: dict[str, Any] = {n: type(f"Inert_{i}", (_Inert,), {}) for i, n in enumerate(unsafe)}
    checkpoint: Any = None
    for _attempt in range(len(unsafe) + 1):
        try:
            with torch.serialization.safe_globals([(cls, name) for name, cls in plan.items()]):
                checkpoint = torch.load(str(path), map_location="cpu", weights_only=True)
            break
        except Exception as exc:  # the weights-only unpickler refused something
            text = str(exc)
            dict_like = [n for n, cls in plan.items() if cls is not dict and f".{cls.__name__}'" in text]
            if "SETITEMS" in text and dict_like:
                plan[dict_like[0]] = dict
                continue
            lines = [ln for ln in text.splitlines() if ln.strip()] or [type(exc).__name__]
            detail = next((ln for ln in lines if "error" not in ln.lower() and "issue" not in ln), lines[-1])
            raise ModelError(f"cannot read {path.name} safely: {detail.strip()}") from exc
    if checkpoint is None:
        raise ModelError(f"cannot read {path.name} safely")
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not any(str(k).startswith("model.") for k in state):
        raise ModelError(f"{path.name} has no 'state_dict' with 'model.*' weights (not a SemP release?)")
    return state


# --- release files ---------------------------------------------------------------------------------


def _find(folder: Path, name: str) -> Path:
    """A file of the release by its base name (hparams.yaml names paths on the authors' machines)."""
    base = Path(str(name).replace("\\", "/")).name
    direct = folder / base
    if direct.is_file():
        return direct
    matches = sorted(folder.rglob(base))
    if not matches:
        raise NotFoundError(f"release file {base} (named in hparams.yaml) not found under {folder}")
    return matches[0]


def locate_release(path: Path) -> tuple[Path, Path, dict[str, Any]]:
    """(folder, checkpoint, hparams) of a release given its folder or its .ckpt file."""
    import yaml

    path = path.expanduser()
    if not path.exists():
        raise NotFoundError(f"{path} does not exist")
    if path.is_file():
        folder, ckpt = path.parent, path
    else:
        folder = path
        ckpts = sorted(folder.rglob("*.ckpt"))
        if not ckpts:
            raise NotFoundError(f"no .ckpt checkpoint in {folder}")
        if len(ckpts) > 1:
            names = ", ".join(p.name for p in ckpts)
            raise UserInputError(f"several checkpoints in {folder} ({names}); name the .ckpt file to import")
        ckpt = ckpts[0]
    hparams_path = ckpt.parent / "hparams.yaml"
    if not hparams_path.is_file():
        hparams_path = _find(folder, "hparams.yaml")
    try:
        hparams = yaml.safe_load(hparams_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ModelError(f"{hparams_path.name} is not valid YAML ({exc})") from exc
    if not isinstance(hparams, dict):
        raise ModelError(f"{hparams_path.name} does not hold a mapping of hyper-parameters")
    return folder, ckpt, hparams


def read_partitioning_csv(path: Path, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows sorted by class index: {index, label, lat, lon, count}."""
    col_index = kwargs.get("index_col", "class_index")
    col_label = kwargs.get("col_class_label", "class_label")
    col_lat = kwargs.get("col_latitude", kwargs.get("col_latitute", "latitude_mean"))
    col_lon = kwargs.get("col_longitude", "longitude_mean")
    skip = int(kwargs.get("skiprows", 0) or 0)
    with open(path, newline="", encoding="utf-8") as handle:
        for _ in range(skip):
            handle.readline()
        reader = csv.DictReader(handle)
        rows = []
        for line, row in enumerate(reader, start=2 + skip):
            try:
                rows.append(
                    {
                        "index": int(row[col_index]),
                        "label": str(row[col_label]),
                        "lat": float(row[col_lat]),
                        "lon": float(row[col_lon]),
                        "count": int(float(row.get("count") or row.get("num_images") or 0)),
                    }
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ModelError(f"{path.name} line {line}: bad or missing column ({exc})") from exc
    rows.sort(key=lambda r: r["index"])
    if [r["index"] for r in rows] != list(range(len(rows))):
        raise ModelError(f"{path.name}: class indices are not 0..{len(rows) - 1}")
    return rows


def _geocode_names(rows: list[dict[str, Any]]) -> list[list[tuple[str, str, str]]]:
    """Address path (level, id, name) of each class coordinate from the offline geocoder."""
    try:
        from geotagger.geo.geocoder import ReverseGeocoder
        from geotagger.geo.semp import address_path
    except ImportError as exc:  # geography data not installed: fall back to the release's labels
        log.warning("no offline geocoder (%s); class names are the release's labels", exc)
        return [[] for _ in rows]
    lats = [r["lat"] for r in rows]
    lons = [r["lon"] for r in rows]
    return [address_path(a) for a in ReverseGeocoder.default().lookup_many(lats, lons)]


def build_partitionings(
    level_rows: list[list[dict[str, Any]]], names: list[str], h_dict: dict[str, dict[str, str]]
) -> Any:
    """A geotagger PartitioningSet from the release's CSV rows and parent map."""
    from geotagger.geo.semp import Partitioning, PartitioningSet, PlaceClass, hierarchy_matrix

    flat = [r for rows in level_rows for r in rows]
    paths = iter(_geocode_names(flat))
    parts = []
    for level, rows in enumerate(level_rows):
        parent_of: dict[str, str] = {}
        parent_index: dict[str, int] = {}
        if level > 0:
            parent_of = h_dict.get(f"m_{len(rows)}", {})
            if not parent_of:
                raise ModelError(
                    f"h_dict.json has no parent map 'm_{len(rows)}' for partitioning {names[level]}"
                )
            parent_index = {r["label"]: r["index"] for r in level_rows[level - 1]}
        classes = []
        for r in rows:
            path = next(paths)
            parent = -1
            if level > 0:
                parent = parent_index.get(parent_of.get(r["label"], ""), -1)
            ids = {lv: pid for lv, pid, _ in path}
            classes.append(
                PlaceClass(
                    index=r["index"],
                    id=f"semp:{r['label']}",
                    name_path=[name for _, _, name in path] or [r["label"]],
                    level=path[-1][0] if path else "unknown",
                    lat=r["lat"],
                    lon=r["lon"],
                    count=r["count"],
                    outline_id=ids.get("admin1") or ids.get("country"),
                    parent=parent,
                    ids=ids,
                )
            )
        missing = sum(c.parent < 0 for c in classes) if level > 0 else 0
        if missing:
            log.warning("%s: %d classes without a parent in h_dict.json", names[level], missing)
        parts.append(Partitioning(tau=0, classes=classes, kind="semp-import", params={"name": names[level]}))
    return PartitioningSet(parts, hierarchy_matrix(parts), n_samples=0)


# --- the network -----------------------------------------------------------------------------------


def build_backbone(arch: str, image_size: int, state: dict[str, Any]) -> Any:
    """EfficientNet-B* with the checkpoint's ``model.*`` weights (its own classifier is unused)."""
    from efficientnet_lite_pytorch import EfficientNet

    if not _ARCH_RE.match(arch):
        raise ModelError(f"unsupported architecture {arch!r} (this importer handles efficientnet-b0..b7)")
    net = EfficientNet.from_name(arch, image_size=image_size)
    weights = {k[len("model.") :]: v for k, v in state.items() if k.startswith("model.")}
    result = net.load_state_dict(weights, strict=False)
    missing = set(result.missing_keys) - {"_fc.weight", "_fc.bias"}
    if missing or result.unexpected_keys:
        some = sorted(missing)[:3] + sorted(result.unexpected_keys)[:3]
        raise ModelError(f"checkpoint does not match {arch}: mismatched weights such as {', '.join(some)}")
    net.set_swish(memory_efficient=False)
    return net.eval()


def _wrap(net: Any) -> Any:
    import torch

    class _Backbone(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.net = inner

        def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            features = self.net.extract_features(images)
            return features, features.mean(dim=(2, 3))

    return _Backbone(net).eval()


def _heads(state: dict[str, Any], n_levels: int, dim: int) -> list[tuple[np.ndarray, np.ndarray]]:
    heads = []
    for i in range(n_levels):
        try:
            w = state[f"classifier.{i}.weight"].detach().float().numpy()
            b = state[f"classifier.{i}.bias"].detach().float().numpy()
        except KeyError as exc:
            raise ModelError(f"checkpoint lacks classifier.{i} (expected {n_levels} heads)") from exc
        if w.ndim != 2 or w.shape[1] != dim or b.shape != (w.shape[0],):
            raise ModelError(f"classifier.{i} has shape {tuple(w.shape)}, expected [classes, {dim}]")
        heads.append((w.astype(np.float32), b.astype(np.float32)))
    return heads


def _verify(module: Any, onnx_path: Path, heads: list, size: int) -> dict[str, float]:
    """Max abs differences ONNX Runtime vs torch: embedding and every head's logits."""
    import torch

    from geotagger.locate.runtime import create_session

    session, _ = create_session(onnx_path, "cpu")
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        feats_t, emb_t = (t.numpy() for t in module(torch.from_numpy(x)))
    feats_o, emb_o = session.run(["features", "embedding"], {"images": x})
    diffs = {
        "features": float(np.abs(feats_t - feats_o).max()),
        "embedding": float(np.abs(emb_t - emb_o).max()),
    }
    diffs["head_logits"] = max(float(np.abs((emb_t - emb_o) @ w.T).max()) for w, _ in heads)
    return diffs


def import_semp_release(
    path: Path,
    *,
    pack_id: str | None = None,
    force: bool = False,
    dest_root: Path | None = None,
    progress: Progress | None = None,
) -> ModelPack:
    """Convert a release into <models_dir>/<id>/ (backbone.onnx, heads.npz, partitionings, M)."""
    from geotagger.locate.build import export_onnx

    require_torch("importing a SemP checkpoint")

    folder, ckpt, hparams = locate_release(Path(path))
    pack_id = pack_id or "semp-" + re.sub(r"[^a-z0-9._-]+", "-", folder.name.lower()).strip("-.")
    if not valid_pack_id(pack_id):
        raise UserInputError(f"invalid pack id {pack_id!r} (use lower-case letters, digits, '.', '-', '_')")
    root = dest_root or models_dir()
    final = root / pack_id
    if final.exists() and not force:
        raise UserInputError(f"model pack {pack_id} already exists; pass --force to replace it")
    parts_cfg = hparams.get("partitionings") or {}
    files = parts_cfg.get("files") or []
    if not files:
        raise ModelError("hparams.yaml lists no partitioning files (partitionings.files)")
    names = list(parts_cfg.get("shortnames") or [f"level{i}" for i in range(len(files))])
    arch = str(hparams.get("arch", "efficientnet-b4"))
    size = int(hparams.get("image_size") or 224)
    if progress:
        progress.start(5, f"importing {pack_id}")
    started = time.perf_counter()

    state = load_checkpoint_state(ckpt)
    kwargs = dict(parts_cfg.get("base_part_kwargs") or {})
    level_rows = [read_partitioning_csv(_find(folder, f), kwargs) for f in files]
    h_dict: dict[str, dict[str, str]] = {}
    if len(files) > 1:
        h_path = _find(folder, parts_cfg.get("h_dict") or "h_dict.json")
        h_dict = json.loads(h_path.read_text(encoding="utf-8"))
    if progress:
        progress.advance()
    net = build_backbone(arch, size, state)
    module = _wrap(net)
    dim = int(net._fc.in_features)
    heads = _heads(state, len(files), dim)
    for (w, _), rows, name in zip(heads, level_rows, names, strict=True):
        if w.shape[0] != len(rows):
            raise ModelError(f"head {name} has {w.shape[0]} classes but its CSV lists {len(rows)}")
    partitionings = build_partitionings(level_rows, names, h_dict)
    if progress:
        progress.advance()

    with pack_build_folder(root, pack_id) as work:
        exported = export_onnx(module, work / BACKBONE_NAME, size, output_names=("features", "embedding"))
        if progress:
            progress.advance()
        diffs = _verify(module, work / BACKBONE_NAME, heads, size)
        if max(diffs["embedding"], diffs["head_logits"]) > MAX_ABS_DIFF:
            raise ModelError(f"converted ONNX differs from torch by {max(diffs.values()):.2g}")
        if progress:
            progress.advance()
        arrays = {}
        for i, (w, b) in enumerate(heads):
            arrays[f"W{i}"], arrays[f"b{i}"] = w, b
        np.savez(work / HEADS_NAME, **arrays)
        np.savez(work / HIERARCHY_NAME, M=partitionings.M)
        partitionings.save(work / PARTITIONINGS_NAME)
        with_feats = size // 32 + (1 if size % 32 else 0)
        card = {
            "id": pack_id,
            "version": "1",
            "kind": "geo",
            "licence": "as published by the authors with their release (code: GPL-3.0); not redistributed",
            "architecture": arch,
            "source": {"release": folder.name, "checkpoint": ckpt.name},
            "input_size": size,
            "resize_size": 256 if size < 250 else round(size / 0.875),
            "mean": IMAGENET_MEAN,
            "std": IMAGENET_STD,
            "interpolation": "bilinear",
            "five_crop": True,
            "input": {"name": "images", "shape": ["N", 3, size, size], "dtype": "float32", "layout": "RGB"},
            "outputs": {
                "features": {"shape": ["N", dim, with_feats, with_feats], "dtype": "float32"},
                "embedding": {"shape": ["N", dim], "dtype": "float32"},
            },
            "levels": [
                {"name": name, "classes": len(rows), "head": i, "source_file": Path(str(f)).name}
                for i, (name, rows, f) in enumerate(zip(names, level_rows, files, strict=True))
            ],
            "training": {
                "paper": "Theiner, Mueller-Budack, Ewerth: Interpretable Semantic Photo Geolocation, WACV 2022",
                "data": "MP-16 (Flickr photos)",
                "hparams": {k: hparams[k] for k in ("arch", "image_size", "batch_size") if k in hparams},
            },
            "metrics": {},
            "export": {
                **exported,
                "max_abs_diff_vs_torch": diffs,
                "seconds": round(time.perf_counter() - started, 1),
            },
        }
        publish_pack(work, final, card, progress, f"imported {pack_id}")
    return ModelPack.load(final)
