"""Embeddings of a library's photos, per model, stored compactly outside the catalog.

Layout under <library>.data/embeddings/<model_id>/: ``meta.json`` (model id, backbone digest,
dimension) and append-only shards ``shard-NNNNNN.npy`` (float16 [n, C]) each with its
``shard-NNNNNN.keys`` (one photo fingerprint per line, written last, so a shard without keys is an
interrupted write and is ignored). 10k photos x 1280 dims take 25 MB; a later shard wins for a
fingerprint stored twice. ``compact()`` merges shards into one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from geotagger.errors import ModelError

P = TypeVar("P")  # what a (fingerprint, path) item carries as its path

_SHARD_RE = re.compile(r"^shard-(\d{6})\.keys$")
COMPACT_AFTER_SHARDS = 32


class EmbeddingStore:
    """Fingerprint -> embedding vector for one library and one model (backbone digest)."""

    def __init__(self, lib: Any, model_id: str, *, digest: str | None = None, dim: int | None = None) -> None:
        self.model_id = model_id
        self.dir: Path = lib.side_dir(f"embeddings/{model_id}")
        self._meta_path = self.dir / "meta.json"
        meta = self._read_meta()
        if meta and digest and meta.get("digest") and meta["digest"] != digest:
            # The pack was rebuilt with other weights: old vectors are not comparable, start over.
            self.clear()
            meta = {}
        self.digest = digest or meta.get("digest")
        self.dim: int | None = dim or meta.get("dim")
        if not meta:
            self._write_meta()
        self._index: dict[str, tuple[int, int]] = {}
        self._arrays: dict[int, np.ndarray] = {}
        self._load_index()

    # --- bookkeeping ------------------------------------------------------------------------------
    def _read_meta(self) -> dict[str, Any]:
        if not self._meta_path.is_file():
            return {}
        try:
            return json.loads(self._meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"embedding store {self.dir} is damaged ({exc}); delete the folder") from exc

    def _write_meta(self) -> None:
        meta = {"model_id": self.model_id, "digest": self.digest, "dim": self.dim, "dtype": "float16"}
        tmp = self._meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta) + "\n", encoding="utf-8")
        os.replace(tmp, self._meta_path)

    def _shard_ids(self) -> list[int]:
        return sorted(int(m.group(1)) for p in self.dir.iterdir() if (m := _SHARD_RE.match(p.name)))

    def _paths(self, shard: int) -> tuple[Path, Path]:
        return self.dir / f"shard-{shard:06d}.npy", self.dir / f"shard-{shard:06d}.keys"

    def _load_index(self) -> None:
        self._index.clear()
        self._arrays.clear()
        for shard in self._shard_ids():
            vec_path, key_path = self._paths(shard)
            if not vec_path.is_file():
                continue
            keys = key_path.read_text(encoding="utf-8").split()
            for row, key in enumerate(keys):
                self._index[key] = (shard, row)

    def _array(self, shard: int) -> np.ndarray:
        if shard not in self._arrays:
            self._arrays[shard] = np.load(self._paths(shard)[0], mmap_mode="r")
        return self._arrays[shard]

    # --- public API ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, fingerprint: object) -> bool:
        return fingerprint in self._index

    def missing(self, fingerprints: Iterable[str]) -> list[str]:
        """The fingerprints that still need computing (order kept, duplicates dropped)."""
        seen: set[str] = set()
        out = []
        for fp in fingerprints:
            if fp not in self._index and fp not in seen:
                seen.add(fp)
                out.append(fp)
        return out

    def todo(self, items: Iterable[tuple[str, P]]) -> tuple[list[tuple[str, P]], int]:
        """(fingerprint, path) items still to compute, the first path of each fingerprint, and how many
        distinct fingerprints are already stored (what an embedding run reports as cached)."""
        items = list(items)
        wanted = set(self.missing(fp for fp, _ in items))
        todo = []
        for fp, path in items:
            if fp in wanted:
                todo.append((fp, path))
                wanted.discard(fp)
        return todo, len({fp for fp, _ in items}) - len(todo)

    def get(self, fingerprints: Sequence[str]) -> dict[str, np.ndarray]:
        """float32 vectors of the fingerprints that are stored (absent ones are left out)."""
        out: dict[str, np.ndarray] = {}
        for fp in fingerprints:
            where = self._index.get(fp)
            if where is not None:
                out[fp] = np.asarray(self._array(where[0])[where[1]], dtype=np.float32)
        return out

    def get_matrix(self, fingerprints: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(float32 [n, C] with zero rows where absent, bool [n] found) in the given order."""
        dim = self.dim or 0
        matrix = np.zeros((len(fingerprints), dim), dtype=np.float32)
        found = np.zeros(len(fingerprints), dtype=bool)
        for i, fp in enumerate(fingerprints):
            where = self._index.get(fp)
            if where is not None:
                matrix[i] = self._array(where[0])[where[1]]
                found[i] = True
        return matrix, found

    def put(self, fingerprints: Sequence[str], vectors: np.ndarray) -> None:
        """Append vectors [n, C]; durable when this returns (keys written after the data)."""
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(fingerprints):
            raise ValueError(f"expected [{len(fingerprints)}, C] vectors, got {vectors.shape}")
        if not len(fingerprints):
            return
        if self.dim is None:
            self.dim = int(vectors.shape[1])
            self._write_meta()
        elif vectors.shape[1] != self.dim:
            raise ModelError(f"embedding size {vectors.shape[1]} does not match the store's {self.dim}")
        if any(not fp or any(c.isspace() for c in fp) for fp in fingerprints):
            raise ValueError("fingerprints must be non-empty and contain no whitespace")
        shard = (self._shard_ids() or [0])[-1] + 1
        vec_path, key_path = self._paths(shard)
        tmp_vec = vec_path.with_suffix(".npy.tmp")
        with open(tmp_vec, "wb") as handle:
            np.save(handle, vectors.astype(np.float16))
        os.replace(tmp_vec, vec_path)
        tmp_keys = key_path.with_suffix(".keys.tmp")
        tmp_keys.write_text("\n".join(fingerprints) + "\n", encoding="utf-8")
        os.replace(tmp_keys, key_path)
        for row, fp in enumerate(fingerprints):
            self._index[fp] = (shard, row)
        if len(self._shard_ids()) > COMPACT_AFTER_SHARDS:
            self.compact()

    def load_all(self) -> tuple[list[str], np.ndarray]:
        """Every stored (fingerprint, vector) as (list, float32 [N, C])."""
        keys = list(self._index)
        matrix, _ = self.get_matrix(keys)
        return keys, matrix

    def compact(self) -> None:
        """Merge all shards into one (drops superseded rows)."""
        old = self._shard_ids()
        if len(old) <= 1:
            return
        keys, matrix = self.load_all()
        self._arrays.clear()
        new_id = old[-1] + 1
        vec_path, key_path = self._paths(new_id)
        with open(vec_path.with_suffix(".npy.tmp"), "wb") as handle:
            np.save(handle, matrix.astype(np.float16))
        os.replace(vec_path.with_suffix(".npy.tmp"), vec_path)
        key_path.with_suffix(".keys.tmp").write_text("\n".join(keys) + "\n", encoding="utf-8")
        os.replace(key_path.with_suffix(".keys.tmp"), key_path)
        for shard in old:
            for path in self._paths(shard):
                path.unlink(missing_ok=True)
        self._load_index()

    def clear(self) -> None:
        """Forget every vector of this model (e.g. the backbone changed)."""
        self._arrays = {}
        if self.dir.is_dir():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._index = {}


class PendingVectors:
    """Vectors computed but not yet stored: written to ``store`` in runs of ``every`` (a run killed or
    cancelled loses at most that many; ``flush`` in a ``finally`` keeps the rest)."""

    def __init__(self, store: EmbeddingStore, every: int) -> None:
        self.store, self.every = store, every
        self.fingerprints: list[str] = []
        self.vectors: list[np.ndarray] = []

    def add(self, fingerprints: Sequence[str], vectors: np.ndarray) -> None:
        self.fingerprints.extend(fingerprints)
        self.vectors.append(vectors)
        if len(self.fingerprints) >= self.every:
            self.flush()

    def flush(self) -> None:
        if self.fingerprints:
            self.store.put(list(self.fingerprints), np.concatenate(self.vectors))
            self.fingerprints.clear()
            self.vectors.clear()
