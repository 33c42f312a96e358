"""Throughput of ``locate --cluster``'s embedding (Ray Data, local cluster of 1 and 2 workers) against
the in-process pipeline, on the same photos, in one run.

Usage: python3 bench/cluster_bench.py [--photos 200] [--cpus 2] [--folder DIR]
Photos: the first N JPEGs of ../shared/data/library-dev (real camera and phone photos), else DIR.
Each variant starts from an empty embedding store; the Ray cluster's start-up (ray.init) is timed
apart from the run (it is paid once per `locate --cluster auto`, not per photo). Prints one JSON line
per variant: photos, seconds, photos/s, max abs difference to the in-process vectors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geotagger.locate.cluster import ClusterOptions, embed_missing_on_cluster  # noqa: E402
from geotagger.locate.embed import embed_missing  # noqa: E402
from geotagger.locate.pack import ModelPack  # noqa: E402

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "library-dev" / "photos"


class MemoryStore:
    """The embedding store's interface in memory (the bench measures embedding, not disk writes)."""

    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}

    def missing(self, fingerprints):
        return [fp for fp in dict.fromkeys(fingerprints) if fp not in self.vectors]

    def put(self, fingerprints, vectors) -> None:
        self.vectors.update(zip(fingerprints, np.asarray(vectors, np.float32), strict=True))


def _pack() -> ModelPack:
    from geotagger.services import models

    return models.ensure_default_pack()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    parser.add_argument("--folder", type=Path, default=DEV)
    args = parser.parse_args()
    paths = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))[: args.photos]
    if not paths:
        raise SystemExit(f"no JPEGs under {args.folder}")
    items = [(f"k{i}", str(p)) for i, p in enumerate(paths)]
    pack = _pack()

    store = MemoryStore()
    started = time.monotonic()
    embed_missing(store, pack, items)
    local_s = time.monotonic() - started
    reference = store.vectors
    print(json.dumps({"variant": "in-process", "photos": len(items), "seconds": round(local_s, 2),
                      "photos_per_s": round(len(items) / local_s, 1)}), flush=True)  # fmt: skip

    import ray

    started = time.monotonic()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    print(
        json.dumps(
            {"variant": "ray.init", "cpus": args.cpus, "seconds": round(time.monotonic() - started, 2)}
        )
    )
    try:
        for workers in (1, 2):
            store = MemoryStore()
            started = time.monotonic()
            embed_missing_on_cluster(store, pack, items, options=ClusterOptions(workers=workers))
            seconds = time.monotonic() - started
            diff = max(float(np.abs(store.vectors[k] - reference[k]).max()) for k in reference)
            print(json.dumps({"variant": f"ray {workers} worker(s)", "photos": len(store.vectors),
                              "seconds": round(seconds, 2), "photos_per_s": round(len(items) / seconds, 1),
                              "max_abs_diff": diff}), flush=True)  # fmt: skip
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
