"""locate --cluster: embeddings on a local Ray cluster of 2 worker processes equal the in-process ones,
a killed worker costs only its batch, a re-run computes nothing twice, progress and cancellation work,
and the default path never imports Ray."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from geotagger.errors import CancelledError, ModelError
from geotagger.locate.embedding_store import EmbeddingStore
from geotagger.locate.pack import ModelPack
from geotagger.progress import CancelToken, CountingProgress
from geotagger.services import Library, indexing, models
from tests.factories import make_jpeg
from tests.model_fixtures import lite0_pack_dir

PHOTOS = 40


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'geotagger[cluster]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def pack() -> ModelPack:
    return ModelPack.load(lite0_pack_dir())


def _library(root: Path) -> Library:
    folder = root / "photos"
    for i in range(PHOTOS):
        make_jpeg(
            folder / f"p{i:02d}.jpg", size=(320 + 8 * i, 240), color=(6 * i, 255 - 5 * i, (40 * i) % 256)
        )
    lib = Library(root / "library.sqlite")
    indexing.index(lib, [folder], workers=0)
    return lib


def _vectors(lib: Library, pack: ModelPack) -> dict[str, np.ndarray]:
    store = EmbeddingStore(lib, pack.id, digest=pack.digest)
    keys, matrix = store.load_all()
    assert store.digest == pack.digest
    return dict(zip(keys, matrix, strict=True))


def test_cluster_embeddings_equal_local_ones_despite_a_killed_worker(
    ray_cluster, pack, tmp_path: Path
) -> None:
    from geotagger.locate.cluster import cluster_embedder

    local_lib = _library(tmp_path / "local")
    local = models.embed_photos(local_lib, pack, workers=0)
    assert (local.computed, local.errors) == (PHOTOS, {})

    lib = _library(tmp_path / "cluster")
    embed = cluster_embedder("auto", workers=2)
    workers: set[int] = set()
    killed: list[int] = []

    def kill_first_worker(pid: int, photos: int) -> None:
        workers.add(pid)
        if not killed:
            killed.append(pid)
            os.kill(pid, signal.SIGKILL)  # mid-run: it is working on its next batch

    progress = CountingProgress()
    summary = embed(lib, pack, batch_size=4, progress=progress, on_batch=kill_first_worker)
    assert killed and (summary.computed, summary.errors) == (PHOTOS, {})
    assert progress.total == PHOTOS and progress.done == PHOTOS
    assert "ray cluster (2 CPU workers)" in summary.device

    expected, got = _vectors(local_lib, pack), _vectors(lib, pack)
    assert got.keys() == expected.keys() and len(got) == PHOTOS
    assert max(float(np.abs(got[k] - expected[k]).max()) for k in got) < 1e-5

    again = embed(lib, pack, batch_size=4)
    assert (again.computed, again.cached) == (0, PHOTOS)
    local_lib.close()
    lib.close()


def test_cancel_stops_between_batches_and_the_rerun_does_the_rest(ray_cluster, pack, tmp_path: Path) -> None:
    from geotagger.locate.cluster import cluster_embedder

    lib = _library(tmp_path)
    embed = cluster_embedder("auto", workers=2)
    cancel = CancelToken()
    with pytest.raises(CancelledError):
        embed(lib, pack, batch_size=4, cancel=cancel, on_batch=lambda _pid, _n: cancel.cancel())
    stored = len(_vectors(lib, pack))
    assert 0 < stored < PHOTOS
    rest = embed(lib, pack, batch_size=4)
    assert rest.computed == PHOTOS - stored  # nothing computed twice
    lib.close()


def test_a_pack_the_nodes_cannot_see_is_one_error_line(ray_cluster, pack, tmp_path: Path) -> None:
    from geotagger.locate.cluster import cluster_embedder

    lib = _library(tmp_path)
    elsewhere = dataclasses.replace(pack, dir=tmp_path / "not-on-the-nodes")
    with pytest.raises(ModelError, match="the cluster run failed: .*not-on-the-nodes"):
        cluster_embedder("auto", workers=1)(lib, elsewhere, batch_size=4)
    lib.close()


def test_locate_cli_on_the_cluster(ray_cluster, tmp_path: Path, monkeypatch, capsys) -> None:
    from geotagger.cli.main import main

    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))
    start = datetime(2023, 7, 1, 10, 0)
    for i in range(10):  # a walk, every other photo from a camera without GPS (as in test_tagging)
        gps = {"lat": 46.59 + 0.001 * i, "lon": 7.90 + 0.001 * i} if i % 2 == 0 else {}
        make_jpeg(
            tmp_path / "trip" / f"t{i}.jpg",
            taken=start + timedelta(minutes=10 * i),
            color=(20 * i, 90, 9),
            **gps,
        )
    catalog = str(tmp_path / "library.sqlite")
    assert main(["--library", catalog, "-q", "index", str(tmp_path / "trip")]) == 0
    assert main(["--library", catalog, "locate", "--cluster", "auto", "--no-ocr"]) == 0
    assert "ray cluster" in capsys.readouterr().out


def test_default_path_never_imports_ray() -> None:
    code = (
        "import sys, geotagger.cli.main, geotagger.services.locating, geotagger.services.locate_stages.embeddings\n"
        "assert 'ray' not in sys.modules, 'ray imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
