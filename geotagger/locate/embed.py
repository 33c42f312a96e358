"""Batch inference: decode photos in parallel worker processes while the backbone runs.

Producer/consumer: chunks of paths go to a process pool (at most a few chunks per worker in flight,
so memory stays bounded); the main thread collects decoded crops in order, forms batches sized for
the device and runs ONNX Runtime, which releases the GIL, so decoding and inference overlap.
One bad file becomes a recorded error; cancellation stops between chunks.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geotagger.locate.embedding_store import EmbeddingStore, PendingVectors
from geotagger.locate.pack import ModelPack
from geotagger.locate.preprocess import PreprocessSpec, decode_chunk, normalize
from geotagger.locate.runtime import cpu_threads, create_session, default_batch_size
from geotagger.progress import CancelToken, Progress

log = logging.getLogger(__name__)

FIVE_CROP_SUFFIX = "+5crop"  # embedding-store namespace of five-crop vectors (never mixed with single ones)
CHUNK = 8  # paths per worker task: small enough to keep workers balanced, big enough to amortise IPC
IN_FLIGHT_PER_WORKER = 3


@dataclass
class EmbedBatch:
    """Results for some of the input paths (``indices`` are positions in the input sequence)."""

    indices: list[int]
    embeddings: np.ndarray  # float32 [n, C]; the mean over crops with five-crop TTA
    device: str
    crop_embeddings: np.ndarray | None = None  # float32 [n, 5, C] with five-crop TTA
    features: np.ndarray | None = None  # float32 [n, C, h, w] of the centre crop (return_features)
    logits: np.ndarray | None = None  # float32 [n, 1000] of the centre crop (return_logits)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (index, one-line reason)


class Embedder:
    """A pack's backbone in an ONNX Runtime session on the chosen device."""

    def __init__(self, pack: ModelPack, device: str = "auto", *, threads: int | None = None) -> None:
        self.pack = pack
        self.session, self.device = create_session(pack.backbone_path, device, threads=threads)
        self.mean = list(pack.card["mean"])
        self.std = list(pack.card["std"])
        log.info("model %s runs on %s", pack.id, self.device)

    def run(self, images: np.ndarray, outputs: Sequence[str] = ("embedding",)) -> list[np.ndarray]:
        """Run normalised float32 [n, 3, S, S] images; returns the named outputs."""
        return self.session.run(list(outputs), {"images": images})

    def run_uint8(self, crops: np.ndarray, outputs: Sequence[str] = ("embedding",)) -> list[np.ndarray]:
        """Run uint8 crops [n, S, S, 3] (as produced by preprocess)."""
        return self.run(normalize(crops, self.mean, self.std), outputs)


def _outputs_wanted(return_features: bool, return_logits: bool) -> list[str]:
    names = ["embedding"]
    if return_features:
        names.append("features")
    if return_logits:
        names.append("logits")
    return names


def _infer(
    embedder: Embedder,
    indices: list[int],
    crops: np.ndarray,
    spec: PreprocessSpec,
    return_features: bool,
    return_logits: bool,
    errors: list[tuple[int, str]],
) -> EmbedBatch:
    n, k = crops.shape[0], crops.shape[1]
    names = _outputs_wanted(return_features, return_logits)
    flat = crops.reshape(n * k, *crops.shape[2:])
    results = dict(zip(names, embedder.run_uint8(flat, names), strict=True))
    emb = results["embedding"].reshape(n, k, -1)
    batch = EmbedBatch(
        indices=indices,
        embeddings=np.ascontiguousarray(emb.mean(axis=1) if k > 1 else emb[:, 0]),
        device=embedder.device,
        crop_embeddings=emb if k > 1 else None,
        errors=errors,
    )
    if return_features:
        feats = results["features"]
        batch.features = feats.reshape(n, k, *feats.shape[1:])[:, 0]
    if return_logits:
        batch.logits = results["logits"].reshape(n, k, -1)[:, 0]
    return batch


def _decoded_chunks(
    items: list[tuple[int, str]],
    spec: PreprocessSpec,
    workers: int,
    cancel: CancelToken | None,
    pool_kind: str = "process",
) -> Iterator[tuple[list[int], np.ndarray | None, list[tuple[int, str]]]]:
    """Decoded chunks in input order, from a worker pool (or inline when workers == 0)."""
    chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
    if workers <= 0 or len(chunks) <= 1:
        for chunk in chunks:
            if cancel:
                cancel.check()
            yield decode_chunk(chunk, spec)
        return
    # spawn: safe in every host process (Qt GUI, threads of ONNX Runtime); workers import little.
    pool: Executor
    if pool_kind == "thread":
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode")
    else:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    pending: deque[Future] = deque()
    todo = iter(chunks)
    with pool:
        try:
            for chunk in todo:
                pending.append(pool.submit(decode_chunk, chunk, spec))
                if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                    break
            while pending:
                if cancel:
                    cancel.check()
                result = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.submit(decode_chunk, nxt, spec))
                yield result
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


def embed_paths(
    pack: ModelPack,
    paths: Sequence[str | Path],
    *,
    device: str = "auto",
    batch_size: int | None = None,
    workers: int | None = None,
    five_crop: bool = False,
    return_features: bool = False,
    return_logits: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    embedder: Embedder | None = None,
    pool_kind: str = "process",
) -> Iterator[EmbedBatch]:
    """Embed photos; yields EmbedBatch objects as batches finish (errors ride along with them).

    ``workers``: decoding processes (default: one per core; 0 decodes in this process).
    ``batch_size``: photos per inference call (default per device: 32 CPU, 256 CUDA).
    ``pool_kind``: "process" (default; a decoder crash becomes an error, not a dead app) or "thread"
    (no start-up cost; Pillow releases the GIL while decoding and resizing).
    """
    if pool_kind not in ("process", "thread"):
        raise ValueError(f"pool_kind must be 'process' or 'thread', not {pool_kind!r}")
    embedder = embedder or Embedder(pack, device)
    size = batch_size or default_batch_size(embedder.device)
    if workers is None:
        workers = cpu_threads()
    spec = PreprocessSpec.from_card(pack.card, five_crop=five_crop)
    items = [(i, str(p)) for i, p in enumerate(paths)]
    if progress:
        progress.start(len(items), f"embedding with {pack.id} on {embedder.device}")
    buf_idx: list[int] = []
    buf_arr: list[np.ndarray] = []
    buf_err: list[tuple[int, str]] = []
    buffered = 0
    for ok, arrays, errors in _decoded_chunks(items, spec, workers, cancel, pool_kind):
        buf_err.extend(errors)
        if arrays is not None:
            buf_idx.extend(ok)
            buf_arr.append(arrays)
            buffered += len(ok)
        while buffered >= size:
            stacked = np.concatenate(buf_arr)
            head, tail = stacked[:size], stacked[size:]
            batch = _infer(embedder, buf_idx[:size], head, spec, return_features, return_logits, buf_err)
            buf_idx, buf_arr, buf_err = buf_idx[size:], ([tail] if len(tail) else []), []
            buffered = len(buf_idx)
            if progress:
                progress.advance(len(batch.indices) + len(batch.errors))
            yield batch
    if buffered or buf_err:
        if buffered:
            batch = _infer(
                embedder, buf_idx, np.concatenate(buf_arr), spec, return_features, return_logits, buf_err
            )
        else:
            dim = embedder.pack.embedding_dim
            batch = EmbedBatch([], np.zeros((0, dim), np.float32), embedder.device, errors=buf_err)
        if progress:
            progress.advance(len(batch.indices) + len(batch.errors))
        yield batch
    if progress:
        progress.finish()


def store_model_id(pack_id: str, five_crop: bool) -> str:
    """The embedding-store namespace of a pack's vectors made by one recipe (single or five-crop)."""
    return pack_id + FIVE_CROP_SUFFIX if five_crop else pack_id


def is_five_crop(model_id: str) -> bool:
    """Whether a store / library model id names five-crop vectors."""
    return model_id.endswith(FIVE_CROP_SUFFIX)


def five_crop_vectors(crop_embeddings: np.ndarray) -> np.ndarray:
    """One vector per photo from its crop embeddings [n, 5, C]: the mean over the crops, scaled to
    unit length as the library model scales every embedding before use.

    The paper takes the maximum over crops of each level's softmax; the library model's linear heads
    and neighbour search work on one pooled embedding, so averaging the crop embeddings is the
    equivalent here (dev library, library evidence alone, acc@1/25/200/750/2500 km: 21.7/35.8/48.3/
    60.1/79.0 % against 20.8/33.7/45.5/58.0/77.4 % with the centre crop alone).
    """
    mean = np.asarray(crop_embeddings, dtype=np.float32).mean(axis=1)
    return mean / np.maximum(np.linalg.norm(mean, axis=-1, keepdims=True), 1e-12)


@dataclass
class EmbedSummary:
    computed: int
    cached: int
    errors: dict[str, str]  # fingerprint -> reason
    device: str | None


def embed_missing(
    store: EmbeddingStore,
    pack: ModelPack,
    items: Sequence[tuple[str, str | Path]],
    *,
    device: str = "auto",
    batch_size: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    flush_every: int = 1024,
    five_crop: bool = False,
) -> EmbedSummary:
    """Compute and store embeddings of (fingerprint, path) items not yet in ``store`` (resumable:
    vectors are flushed every ``flush_every`` photos and on cancellation). ``five_crop`` stores
    ``five_crop_vectors`` (about 5x the inference time); give it a store of its own (store_model_id)."""
    todo, cached = store.todo(items)
    errors: dict[str, str] = {}
    if not todo:
        return EmbedSummary(0, cached, errors, None)
    embedder = Embedder(pack, device)
    pending = PendingVectors(store, flush_every)
    computed = 0
    try:
        for batch in embed_paths(
            pack,
            [p for _, p in todo],
            batch_size=batch_size,
            workers=workers,
            progress=progress,
            cancel=cancel,
            embedder=embedder,
            five_crop=five_crop,
        ):
            crops = five_crop and batch.crop_embeddings is not None
            vectors = five_crop_vectors(batch.crop_embeddings) if crops else batch.embeddings
            pending.add([todo[i][0] for i in batch.indices], vectors)
            computed += len(batch.indices)
            for i, reason in batch.errors:
                errors[todo[i][0]] = reason
    finally:
        pending.flush()
    return EmbedSummary(computed, cached, errors, embedder.device)
