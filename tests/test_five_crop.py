"""Five-crop test-time augmentation: its own embedding namespace, the recipe the library model records,
suggestions recomputed when the recipe changes, and the vector being the normalised mean of the crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geotagger.locate import library_training
from geotagger.locate.embed import (
    embed_missing,
    embed_paths,
    five_crop_vectors,
    is_five_crop,
    store_model_id,
)
from geotagger.locate.embedding_store import EmbeddingStore
from geotagger.locate.pack import ModelPack
from geotagger.services import Library
from geotagger.services.locate_stages.library_model import library_model_dir
from tests.factories import make_photo
from tests.model_fixtures import lite0_pack_dir
from tests.test_locate_cli import make_library, run


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))


def test_five_crop_vector_is_the_normalised_mean_of_the_crops(tmp_path: Path, library) -> None:
    pack = ModelPack.load(lite0_pack_dir())
    photos = [make_photo(tmp_path / f"{i}.jpg", size=(640, 400)) for i in range(3)]
    batches = list(embed_paths(pack, photos, device="cpu", workers=0, five_crop=True))
    crops = np.concatenate([b.crop_embeddings for b in batches])
    assert crops.shape == (3, 5, pack.embedding_dim)
    mean = crops.mean(axis=1)
    expected = mean / np.linalg.norm(mean, axis=1, keepdims=True)
    np.testing.assert_allclose(five_crop_vectors(crops), expected, rtol=1e-6, atol=1e-7)

    store_id = store_model_id(pack.id, True)
    assert store_id == f"{pack.id}+5crop" and is_five_crop(store_id) and not is_five_crop(pack.id)
    store = EmbeddingStore(library, store_id, digest=pack.digest)
    items = [(f"fp{i}", p) for i, p in enumerate(photos)]
    summary = embed_missing(store, pack, items, device="cpu", workers=0, five_crop=True)
    assert (summary.computed, summary.errors) == (3, {})
    stored, _ = store.get_matrix([fp for fp, _ in items])
    np.testing.assert_allclose(stored, expected, atol=2e-3)  # float16 storage
    np.testing.assert_allclose(np.linalg.norm(stored, axis=1), 1.0, atol=2e-3)
    single = EmbeddingStore(library, pack.id, digest=pack.digest)
    embed_missing(single, pack, items, device="cpu", workers=0)
    centre, _ = single.get_matrix([fp for fp, _ in items])
    assert not np.allclose(centre / np.linalg.norm(centre, axis=1, keepdims=True), stored, atol=1e-2)


def test_locate_five_crop_has_its_own_store_and_switching_recomputes(
    tmp_path: Path, models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    make_library(tmp_path / "photos")
    catalog = tmp_path / "cat.sqlite"
    lib = ["--library", str(catalog)]
    assert run(capsys, *lib, "index", str(tmp_path / "photos"))[0] == 0
    code, out, err = run(capsys, *lib, "locate")
    assert code == 0 and "10 photos located" in out, err

    code, out, err = run(capsys, *lib, "locate", "--five-crop")
    assert code == 0, err
    assert "library model retrained" in err + out and "10 photos located" in out
    with Library(catalog) as library:
        pack_id = ModelPack.load(lite0_pack_dir()).id
        five = EmbeddingStore(library, f"{pack_id}+5crop")
        assert len(five) == 20  # every photo, geotagged or not, embedded with five crops
        assert len(EmbeddingStore(library, pack_id)) == 20  # the single-crop vectors stay apart
        assert library_training.load(library_model_dir(library)).library.model_id == f"{pack_id}+5crop"

    code, out, err = run(capsys, *lib, "locate", "--five-crop")
    assert code == 0 and "0 photos located" in out and "10 unchanged" in out, err

    code, out, err = run(capsys, *lib, "locate")  # back to the single crop: retrain and recompute
    assert code == 0 and "library model retrained" in err + out and "10 photos located" in out
    with Library(catalog) as library:
        assert library_training.load(library_model_dir(library)).library.model_id == pack_id
