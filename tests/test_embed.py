"""Batch embedding pipeline: formats, orientation, five-crop, errors, cancellation, the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geotagger.errors import CancelledError
from geotagger.locate.embed import embed_missing, embed_paths
from geotagger.locate.embedding_store import EmbeddingStore
from geotagger.locate.pack import ModelPack
from geotagger.locate.preprocess import PreprocessSpec, load_and_preprocess
from geotagger.progress import CancelToken, CountingProgress
from tests.factories import make_image, make_photo
from tests.model_fixtures import lite0_pack_dir

SPEC = PreprocessSpec(input_size=224, resize_size=256)


@pytest.fixture(scope="module")
def lite0() -> ModelPack:
    return ModelPack.load(lite0_pack_dir())


def _textured(size: tuple[int, int], seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def test_formats_decode_to_crops(tmp_path: Path) -> None:
    for suffix in (".jpg", ".png", ".tif", ".webp", ".heic"):
        crops = load_and_preprocess(make_photo(tmp_path / f"p{suffix}", size=(640, 480)), SPEC)
        assert crops.shape == (1, 224, 224, 3) and crops.dtype == np.uint8
    five = load_and_preprocess(tmp_path / "p.jpg", PreprocessSpec(224, 256, five_crop=True))
    assert five.shape == (5, 224, 224, 3)
    np.testing.assert_array_equal(five[0], load_and_preprocess(tmp_path / "p.jpg", SPEC)[0])


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = _textured((400, 300))
    plain = tmp_path / "plain.png"
    image.transpose(Image.Transpose.ROTATE_270).save(plain)  # what a viewer shows for orientation 6
    rotated = tmp_path / "rot.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(rotated, exif=exif)
    a = load_and_preprocess(plain, SPEC).astype(int)
    b = load_and_preprocess(rotated, SPEC).astype(int)
    assert np.abs(a - b).mean() < 2.0


def test_large_jpeg_uses_draft_and_matches_full_decode(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    _textured((4000, 3000), seed=3).save(path, quality=90)
    fast = load_and_preprocess(path, SPEC).astype(float)
    full = Image.open(path).convert("RGB")
    full = full.resize((341, 256), Image.Resampling.BILINEAR)
    ref = np.asarray(full.crop((58, 16, 282, 240)), dtype=float)
    assert fast.shape == (1, 224, 224, 3)
    assert np.abs(fast[0] - ref).mean() < 6.0


def test_raw_preview_is_extracted(tmp_path: Path) -> None:
    import io

    def jpeg_bytes(size: tuple[int, int]) -> bytes:
        buf = io.BytesIO()
        make_image(size).save(buf, "JPEG", quality=80)
        return buf.getvalue()

    raw = tmp_path / "shot.nef"
    raw.write_bytes(
        b"II*\x00" + b"\x00" * 500 + jpeg_bytes((160, 120)) + b"\xff\xd8\xff junk" + jpeg_bytes((800, 600))
    )
    crops = load_and_preprocess(raw, SPEC)
    assert crops.shape == (1, 224, 224, 3)
    (tmp_path / "empty.cr2").write_bytes(b"II*\x00" + b"\x00" * 100)
    with pytest.raises(Exception, match="no embedded JPEG"):
        load_and_preprocess(tmp_path / "empty.cr2", SPEC)


def test_embed_paths_batches_errors_and_features(lite0: ModelPack, tmp_path: Path) -> None:
    paths = [make_photo(tmp_path / f"{i}.jpg", size=(320 + 16 * i, 240)) for i in range(5)]
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    paths.insert(2, tmp_path / "broken.jpg")
    progress = CountingProgress()
    batches = list(
        embed_paths(
            lite0, paths, device="cpu", batch_size=2, workers=0, return_features=True, progress=progress
        )
    )
    indices = [i for b in batches for i in b.indices]
    errors = [e for b in batches for e in b.errors]
    assert sorted(indices) == [0, 1, 3, 4, 5]
    assert [i for i, _ in errors] == [2] and errors[0][1].startswith("cannot decode")  # index 2 is broken.jpg
    assert progress.done == 6
    first = batches[0]
    assert (
        first.device == "cpu" and first.embeddings.shape[1] == 1280 and first.embeddings.dtype == np.float32
    )
    np.testing.assert_allclose(first.features.mean(axis=(2, 3)), first.embeddings, atol=1e-4)
    # Same photo in another batch gives the same vector; different photos differ.
    again = next(embed_paths(lite0, [paths[0]], device="cpu", workers=0))
    np.testing.assert_allclose(again.embeddings[0], first.embeddings[0], atol=1e-4)


def test_process_pool_and_five_crop(lite0: ModelPack, tmp_path: Path) -> None:
    paths = [make_photo(tmp_path / f"{i}.jpg", size=(400, 300)) for i in range(20)]
    inline = np.concatenate([b.embeddings for b in embed_paths(lite0, paths, device="cpu", workers=0)])
    pooled_batches = list(embed_paths(lite0, paths, device="cpu", workers=2, batch_size=8, five_crop=True))
    order = [i for b in pooled_batches for i in b.indices]
    assert order == list(range(20))
    crops = np.concatenate([b.crop_embeddings for b in pooled_batches])
    assert crops.shape == (20, 5, 1280)
    np.testing.assert_allclose(crops[:, 0], inline, atol=1e-4)  # centre crop first
    threaded = list(embed_paths(lite0, paths, device="cpu", workers=2, batch_size=8, pool_kind="thread"))
    np.testing.assert_allclose(np.concatenate([b.embeddings for b in threaded]), inline, atol=1e-4)


def test_cancel_stops_between_chunks(lite0: ModelPack, tmp_path: Path) -> None:
    paths = [make_photo(tmp_path / f"{i}.jpg") for i in range(30)]
    token = CancelToken()
    token.cancel()
    assert len(list(embed_paths(lite0, paths[:3], device="cpu", workers=0))) == 1
    with pytest.raises(CancelledError):
        list(embed_paths(lite0, paths, device="cpu", workers=0, cancel=token))


def test_store_roundtrip_resume_and_digest_change(library, lite0: ModelPack, tmp_path: Path) -> None:
    store = EmbeddingStore(library, lite0.id, digest=lite0.digest)
    vectors = np.random.default_rng(0).standard_normal((4, 1280)).astype(np.float32)
    store.put(["a", "b", "c", "d"], vectors)
    store.put(["b"], vectors[:1])  # later write wins
    again = EmbeddingStore(library, lite0.id, digest=lite0.digest)
    assert len(again) == 4 and again.missing(["a", "x", "x"]) == ["x"]
    got = again.get(["b", "zz"])
    assert list(got) == ["b"]
    np.testing.assert_allclose(got["b"], vectors[0], atol=1e-2)
    keys, matrix = again.load_all()
    assert matrix.dtype == np.float32 and matrix.shape == (4, 1280)
    again.compact()
    assert len(list(again.dir.glob("shard-*.npy"))) == 1 and len(EmbeddingStore(library, lite0.id)) == 4
    assert len(EmbeddingStore(library, lite0.id, digest="other")) == 0  # backbone changed: start over

    photos = [make_photo(tmp_path / f"{i}.jpg") for i in range(3)]
    items = [(f"fp{i}", p) for i, p in enumerate(photos)] + [("fpbad", tmp_path / "missing.jpg")]
    store = EmbeddingStore(library, lite0.id, digest=lite0.digest)
    first = embed_missing(store, lite0, items, device="cpu", workers=0)
    assert (first.computed, first.cached, list(first.errors)) == (3, 0, ["fpbad"])
    second = embed_missing(
        EmbeddingStore(library, lite0.id, digest=lite0.digest), lite0, items[:3], workers=0
    )
    assert (second.computed, second.cached) == (0, 3)
