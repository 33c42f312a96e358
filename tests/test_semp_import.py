"""import-semp: a synthetic release with the structure of the paper's (EfficientNet-B4 Lightning
checkpoint, hparams.yaml, partitioning CSVs, h_dict.json) and tiny class counts becomes a geo pack."""

from __future__ import annotations

import csv
import json
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

from geotagger.errors import ModelError, NotFoundError

# (label, lat, lon) per level, coarse to fine; fine classes name their parents in h_dict.
COARSE = [("europe", 48.0, 9.0), ("asia", 35.0, 135.0)]
MIDDLE = [("de", 50.1, 8.7), ("fr", 48.85, 2.35), ("jp", 35.68, 139.7)]
FINE = [
    ("frankfurt", 50.11, 8.68),
    ("berlin", 52.52, 13.4),
    ("paris", 48.857, 2.352),
    ("tokyo", 35.69, 139.69),
]
PARENTS = {
    "m_3": {"de": "europe", "fr": "europe", "jp": "asia"},
    "m_4": {"frankfurt": "de", "berlin": "de", "paris": "fr", "tokyo": "jp"},
}


class LightningLikeHparams(dict):
    """Stands for Lightning's AttributeDict: a class weights_only refuses by default."""


def _write_release(folder: Path) -> Path:
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    torch.manual_seed(0)
    net = EfficientNet.from_name("efficientnet-b4", image_size=224)
    for module in net.modules():  # random but non-trivial BN statistics, as in a trained network
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    state = {f"model.{k}": v for k, v in net.state_dict().items() if not k.startswith("_fc.")}
    for i, level in enumerate((COARSE, MIDDLE, FINE)):
        state[f"classifier.{i}.weight"] = torch.randn(len(level), 1792) * 0.05
        state[f"classifier.{i}.bias"] = torch.randn(len(level)) * 0.1
    folder.mkdir(parents=True)
    hp = LightningLikeHparams(arch="efficientnet-b4", image_size=224)
    torch.save(
        {"epoch": 14, "state_dict": state, "hyper_parameters": hp, "ns": Namespace(a=1)}, folder / "base.ckpt"
    )
    files = []
    for name, level in zip(("m_2", "m_3", "m_4"), (COARSE, MIDDLE, FINE), strict=True):
        path = folder / "partitionings" / f"{name}.csv"
        path.parent.mkdir(exist_ok=True)
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["class_index", "class_label", "latitude_mean", "longitude_mean"])
            for idx, (label, lat, lon) in enumerate(level):
                writer.writerow([idx, label, lat, lon])
        files.append(f"/home/authors/data/{name}.csv")  # paths of the authors' machine, as released
    (folder / "h_dict.json").write_text(json.dumps(PARENTS))
    (folder / "hparams.yaml").write_text(
        "arch: efficientnet-b4\nimage_size: 224\nbatch_size: 128\npartitionings:\n  ptype: semp\n"
        "  shortnames: [coarse, middle, fine]\n  h_dict: /home/authors/data/h_dict.json\n  files:\n"
        + "".join(f"  - {f}\n" for f in files)
        + "  base_part_kwargs:\n    skiprows: 0\n    index_col: class_index\n    col_class_label: class_label\n"
        "    col_latitute: latitude_mean\n    col_longitude: longitude_mean\n"
    )
    return folder


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_release(tmp_path_factory.mktemp("release") / "semp_100_125_250")


@pytest.mark.slow
def test_import_builds_a_verified_geo_pack(release: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(tmp_path))
    from geotagger.cli.main import main
    from geotagger.locate.pack import ModelPack
    from geotagger.locate.runtime import create_session

    assert main(["models", "import-semp", str(release)]) == 0
    assert "ONNX Runtime vs torch max abs diff" in capsys.readouterr().out
    pack = ModelPack.load("semp-semp_100_125_250")
    assert pack.is_geo and [lv["classes"] for lv in pack.levels] == [2, 3, 4]
    assert pack.card["architecture"] == "efficientnet-b4" and pack.embedding_dim == 1792
    assert pack.card["mean"] == [0.485, 0.456, 0.406] and pack.card["resize_size"] == 256
    assert pack.card["export"]["max_abs_diff_vs_torch"]["embedding"] < 1e-3
    # M: fine class -> ancestor per level, composed through h_dict (tokyo -> jp -> asia).
    np.testing.assert_array_equal(pack.hierarchy(), [[0, 0, 0], [0, 0, 1], [0, 1, 2], [1, 2, 3]])
    from geotagger.geo.semp import PartitioningSet

    parts = PartitioningSet.from_json(json.dumps(pack.partitionings_json()))
    fine = parts.finest.classes
    assert [c.id for c in fine] == ["semp:frankfurt", "semp:berlin", "semp:paris", "semp:tokyo"]
    assert fine[2].ids.get("country") == "FR" and fine[3].ids.get("country") == "JP"
    assert "Paris" in fine[2].display or "Île-de-France" in fine[2].display
    # Heads on the ONNX embedding reproduce the checkpoint's classifiers.
    import torch

    state = torch.load(release / "base.ckpt", weights_only=False)["state_dict"]
    session, _ = create_session(pack.backbone_path, "cpu")
    x = np.random.default_rng(5).standard_normal((3, 3, 224, 224)).astype(np.float32)
    (emb,) = session.run(["embedding"], {"images": x})
    for i, (w, b) in enumerate(pack.heads()):
        np.testing.assert_allclose(w, state[f"classifier.{i}.weight"].numpy())
        assert (emb @ w.T + b).shape == (3, [2, 3, 4][i])
    with pytest.raises(Exception, match="already exists"):
        from geotagger.services import models as model_services

        model_services.import_semp(release)


def test_bad_releases_are_reported(release: Path, tmp_path: Path) -> None:
    from geotagger.locate.semp_import import import_semp_release, load_checkpoint_state

    with pytest.raises(NotFoundError):
        import_semp_release(tmp_path / "missing", dest_root=tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NotFoundError, match="no .ckpt"):
        import_semp_release(empty, dest_root=tmp_path)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError):
        load_checkpoint_state(junk)
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    (broken / "partitionings" / "m_4.csv").write_text("class_index,class_label\n0,x\n")
    with pytest.raises(ModelError, match="m_4.csv line 2"):
        import_semp_release(broken, dest_root=tmp_path)
