"""Batch embedding on a Ray cluster: a drop-in for ``embed.embed_missing`` (``locate --cluster``).

Why: one machine's cores take days to embed a million photos. Here the photos still missing from the
embedding store go, as (index, path) rows, through a Ray Data pipeline: decoding tasks (any node's
CPUs) feed a pool of ONNX Runtime actors (CUDA on a node with a GPU, else CPU), and the embeddings
stream back to this process, the driver, which alone writes the store and the catalog. Paths are read
on the nodes, so the photos (and the model pack folder) must be visible at the same path on all of
them (shared storage). Vectors are flushed to the store as they arrive: a killed worker costs only the
batch it held (Ray retries it), and a re-run embeds only what the store still lacks.

Ray is imported here only, and only when a cluster is asked for: the default path never needs it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geotagger.errors import ModelError, UserInputError
from geotagger.locate.embed import EmbedSummary, _infer, five_crop_vectors
from geotagger.locate.embedding_store import PendingVectors
from geotagger.locate.pack import ModelPack
from geotagger.locate.preprocess import PreprocessSpec, decode_chunk
from geotagger.progress import CancelToken, Progress

log = logging.getLogger(__name__)

LOCAL = "auto"  # --cluster auto: start a local Ray cluster on this machine for the run
DECODE_BATCH = 8  # photos per decoding task
HALF = 0.5  # CPUs a decoding task or a CPU embedding actor reserves (see _pool_size)
INSTALL_HINT = "install it with: pip install 'geotagger[cluster]'"


@dataclass
class ClusterOptions:
    """How to run on the cluster. ``workers``: embedding actors (default: one per CPU of the cluster,
    one per GPU when the nodes have GPUs); ``num_cpus``: CPUs of a local cluster (default: all)."""

    address: str = LOCAL
    workers: int | None = None
    num_cpus: int | None = None
    device: str = "auto"


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data is the extra that matters
    except ImportError as exc:
        raise UserInputError(
            f"--cluster needs Ray (the {exc.name} module is missing); {INSTALL_HINT}"
        ) from exc
    return ray


def connect(options: ClusterOptions) -> tuple[Any, bool]:
    """Join the cluster at ``options.address`` (or start a local one); returns (ray, started_here)."""
    ray = _ray()
    if ray.is_initialized():
        return ray, False
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # its per-operator status lines
    if options.address == LOCAL:
        ray.init(num_cpus=options.num_cpus, **quiet)
    else:
        try:
            ray.init(address=options.address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UserInputError(f"cannot join the Ray cluster at {options.address}: {exc}") from exc
    return ray, True


def _decode(batch: dict[str, np.ndarray], spec: PreprocessSpec) -> dict[str, np.ndarray]:
    """Ray Data task: paths -> uint8 crops; an unreadable photo becomes an error row, never a failure."""
    items = [(int(i), str(p)) for i, p in zip(batch["index"], batch["path"], strict=True)]
    ok, arrays, errors = decode_chunk(items, spec)
    reasons = dict(errors)
    crops = np.zeros((len(items), spec.crops, spec.input_size, spec.input_size, 3), np.uint8)
    if arrays is not None:
        decoded = set(ok)
        crops[[n for n, (i, _) in enumerate(items) if i in decoded]] = arrays
    return {
        "index": np.array([i for i, _ in items], np.int64),
        "crops": crops,
        "error": np.array([reasons.get(i, "") for i, _ in items], dtype=object),
    }


class _EmbedActor:
    """One ONNX Runtime session per actor, loaded once, reused for every batch it is given."""

    def __init__(self, pack_dir: str, device: str, five_crop: bool, threads: int) -> None:
        from geotagger.locate.embed import Embedder

        self.pack = ModelPack.load(pack_dir)
        self.embedder = Embedder(self.pack, device, threads=threads)
        self.spec = PreprocessSpec.from_card(self.pack.card, five_crop=five_crop)
        self.five_crop = five_crop

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        good = np.array([not e for e in batch["error"]], dtype=bool)
        dim = self.pack.embedding_dim
        vectors = np.zeros((len(good), dim), np.float32)
        if good.any():
            out = _infer(self.embedder, [], batch["crops"][good], self.spec, False, False, [])
            if self.five_crop and out.crop_embeddings is not None:
                vectors[good] = five_crop_vectors(out.crop_embeddings)
            else:
                vectors[good] = out.embeddings
        return {
            "index": batch["index"],
            "vector": vectors,
            "error": batch["error"],
            "pid": np.full(len(good), os.getpid(), np.int64),
            "device": np.array([self.embedder.device] * len(good), dtype=object),
        }


def _batches(ray: Any, dataset: Any) -> Iterator[dict[str, np.ndarray]]:
    """The pipeline's output batches; a failure of the pipeline itself (not of one worker, which Ray
    retries) becomes one ModelError line, e.g. an actor that cannot create its ONNX Runtime session."""
    try:
        yield from dataset.iter_batches(batch_size=None, batch_format="numpy")
    except ray.exceptions.RayError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        last = re.sub(r"^[\w.]+(Error|Exception): ", "", lines[-1]) if lines else type(exc).__name__
        raise ModelError(f"the cluster run failed: {last}") from exc


def _pool_size(ray: Any, options: ClusterOptions) -> tuple[int, float]:
    """(embedding actors, GPUs per actor) from what the cluster has. A CPU actor reserves half a CPU
    and so does a decoding task: decoding a camera JPEG costs more than embedding it (24 vs 9 ms), so
    by default a third of the CPUs hold actors and decoding tasks fill the rest."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0)) if options.device != "cpu" else 0
    if options.workers:
        return options.workers, (1.0 if gpus >= options.workers else 0.0)
    if gpus:
        return gpus, 1.0
    return max(1, int(resources.get("CPU", 1)) // 3), 0.0


def embed_missing_on_cluster(
    store: Any,
    pack: ModelPack,
    items: Sequence[tuple[str, str | Path]],
    *,
    options: ClusterOptions,
    batch_size: int | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    flush_every: int = 256,
    five_crop: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> EmbedSummary:
    """``embed_missing`` on a Ray cluster: same inputs, same store contents, same summary.
    ``on_batch(worker_pid, photos)`` is told of every batch that comes back (tests kill that worker)."""
    todo, cached = store.todo((fp, str(path)) for fp, path in items)
    if not todo:
        return EmbedSummary(0, cached, {}, None)
    ray, started = connect(options)
    try:
        return _run(
            ray,
            store,
            pack,
            todo,
            cached,
            options,
            batch_size,
            progress,
            cancel,
            flush_every,
            five_crop,
            on_batch,
        )
    finally:
        if started:
            ray.shutdown()


def _run(
    ray: Any,
    store: Any,
    pack: ModelPack,
    todo: list[tuple[str, str]],
    cached: int,
    options: ClusterOptions,
    batch_size: int | None,
    progress: Progress | None,
    cancel: CancelToken | None,
    flush_every: int,
    five_crop: bool,
    on_batch: Callable[[int, int], None] | None,
) -> EmbedSummary:
    ray.data.DataContext.get_current().enable_progress_bars = False  # ours is the progress shown
    actors, gpus = _pool_size(ray, options)
    size = batch_size or (64 if gpus else 16)
    spec = PreprocessSpec.from_card(pack.card, five_crop=five_crop)
    rows = [{"index": i, "path": path} for i, (_, path) in enumerate(todo)]
    # Ray Data's defaults are what makes a killed worker cost only its batch: a map task is retried
    # without limit, a dead actor restarted and its batch given again (max_restarts/max_task_retries
    # -1). A batch that comes back twice is counted once (``done`` below).
    dataset = (
        ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows) // DECODE_BATCH, 1000)))
        .map_batches(
            _decode, fn_kwargs={"spec": spec}, batch_size=DECODE_BATCH, num_cpus=HALF, max_retries=-1
        )
        .map_batches(
            _EmbedActor,
            fn_constructor_kwargs={
                "pack_dir": str(pack.dir),
                "device": "cuda" if gpus else ("cpu" if options.device == "auto" else options.device),
                "five_crop": five_crop,
                "threads": 1,
            },
            batch_size=size,
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_gpus=gpus,
            num_cpus=1 if gpus else HALF,
        )
    )
    device = f"ray cluster ({actors} {'GPU' if gpus else 'CPU'} workers)"
    if progress:
        progress.start(len(todo), f"embedding with {pack.id} on {device}")
    pending = PendingVectors(store, flush_every)
    errors: dict[str, str] = {}
    done: set[int] = set()
    computed = 0
    try:
        for batch in _batches(ray, dataset):
            if cancel:
                cancel.check()
            fresh = [n for n, i in enumerate(batch["index"]) if int(i) not in done]  # a retried batch
            for n in fresh:
                index = int(batch["index"][n])
                done.add(index)
                if batch["error"][n]:
                    errors[todo[index][0]] = str(batch["error"][n])
                else:
                    pending.add([todo[index][0]], batch["vector"][n : n + 1])
                    computed += 1
            if progress:
                progress.advance(len(fresh))
            if on_batch and len(batch["pid"]):
                on_batch(int(batch["pid"][0]), len(fresh))
    finally:
        pending.flush()
    if progress:
        progress.finish()
    return EmbedSummary(computed, cached, errors, device)


def cluster_embedder(address: str, **options: Any) -> Callable[..., EmbedSummary]:
    """A drop-in for ``services.models.embed_photos`` that embeds on the cluster at ``address``:
    the library's readable photos (``photo_ids``) that the store lacks, into the same store."""

    def embed_photos(
        lib: Any,
        pack: ModelPack,
        *,
        photo_ids: list[int] | None = None,
        device: str = "auto",
        batch_size: int | None = None,
        progress: Progress | None = None,
        cancel: CancelToken | None = None,
        five_crop: bool = False,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> EmbedSummary:
        from sqlalchemy import select

        from geotagger.catalog.schema import STATUS_OK, Photo
        from geotagger.locate.embed import store_model_id
        from geotagger.locate.embedding_store import EmbeddingStore

        with lib.catalog.reader() as session:
            query = select(Photo.fingerprint, Photo.path).where(Photo.status == STATUS_OK)
            if photo_ids is not None:
                query = query.where(Photo.id.in_(photo_ids))
            items = [(fp, path) for fp, path in session.execute(query)]
        store = EmbeddingStore(
            lib, store_model_id(pack.id, five_crop), digest=pack.digest, dim=pack.embedding_dim
        )
        return embed_missing_on_cluster(
            store,
            pack,
            items,
            options=ClusterOptions(address=address, device=device, **options),
            batch_size=batch_size,
            progress=progress,
            cancel=cancel,
            five_crop=five_crop,
            on_batch=on_batch,
        )

    return embed_photos
