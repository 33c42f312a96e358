#!/usr/bin/env python3
"""Benchmarks of the geolocation engine's image pipeline.

speed: images/s of geotagger's embedding pipeline (draft-mode JPEG decoding in worker processes,
       overlapped with ONNX Runtime) on a folder of 12 MP JPEGs, next to the paper's reference
       preprocessing (full decode, resize to 256, centre crop, one process) feeding the same ONNX
       model, in the same run.
       python bench/locate_bench.py speed [--n 150] [--device auto|cpu|cuda] [--model ID]
knn:   accuracy of a backbone's embeddings on the dev benchmark: each query photo takes the position
       of the most similar known photo (cosine) of the same library; scored with
       ../shared/bench/score_library_bench.py.
       python bench/locate_bench.py knn [--variant lite0] [--dev PATH]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEFAULT_DEV = SHARED / "data" / "library-dev"
SCORER = SHARED / "bench" / "score_library_bench.py"


# --- synthetic 12 MP photos -----------------------------------------------------------------------


def _make_jpeg(args: tuple[Path, int]) -> None:
    """A 4000x3000 JPEG with texture at several scales, edges and mild sensor-like noise (sigma 3),
    which compresses at quality 92 to about the size of a 12 MP camera photo."""
    path, seed = args
    if path.is_file():
        return
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).resize(
        (4000, 3000), Image.Resampling.BICUBIC
    )
    mid = Image.fromarray(rng.integers(0, 255, (150, 200, 3), dtype=np.uint8)).resize(
        (4000, 3000), Image.Resampling.BILINEAR
    )
    fine = Image.fromarray(rng.integers(0, 255, (750, 1000, 3), dtype=np.uint8)).resize(
        (4000, 3000), Image.Resampling.NEAREST
    )
    image = Image.blend(Image.blend(coarse, mid, 0.35), fine, 0.12)
    arr = np.asarray(image, dtype=np.float32) + rng.normal(0, 3, (3000, 4000, 1)).astype(np.float32)
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, "JPEG", quality=92)


def make_photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"img_{i:04d}.jpg" for i in range(n)]
    todo = [(p, i) for i, p in enumerate(paths) if not p.is_file()]
    if todo:
        print(f"writing {len(todo)} synthetic 12 MP JPEGs to {folder} ...", file=sys.stderr)
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(_make_jpeg, todo))
    return paths


# --- the paper's reference preprocessing ----------------------------------------------------------


def reference_preprocess(path: Path, resize: int, crop: int, mean, std) -> np.ndarray:
    """Full decode, shorter side to ``resize`` (bilinear), centre crop, normalise: [3, crop, crop]."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    scale = resize / min(w, h)
    image = image.resize((round(w * scale), round(h * scale)), Image.Resampling.BILINEAR)
    w, h = image.size
    left, top = (w - crop) // 2, (h - crop) // 2
    arr = np.asarray(image.crop((left, top, left + crop, top + crop)), dtype=np.float32) / 255.0
    arr = (arr - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return arr.transpose(2, 0, 1)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the decoding workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_reference(session, pack, paths: list[Path], batch: int) -> tuple[float, float]:
    """(img/s, CPU ms/img) of the reference: one process decodes a batch, then the model runs it."""
    started, cpu = time.perf_counter(), _cpu_seconds()
    card = pack.card
    for i in range(0, len(paths), batch):
        x = np.stack(
            [
                reference_preprocess(p, 256, card["input_size"], card["mean"], card["std"])
                for p in paths[i : i + batch]
            ]
        )
        session.run(["embedding"], {"images": x})
    wall = time.perf_counter() - started
    return len(paths) / wall, 1000 * (_cpu_seconds() - cpu) / len(paths)


def run_pipeline(embedder, paths: list[Path], batch: int | None, workers: int | None, pool: str):
    """(img/s, CPU ms/img) of geotagger's pipeline (worker start-up included)."""
    from geotagger.locate.embed import embed_paths

    started, cpu = time.perf_counter(), _cpu_seconds()
    done = 0
    for result in embed_paths(
        embedder.pack, paths, batch_size=batch, workers=workers, embedder=embedder, pool_kind=pool
    ):
        done += len(result.indices)
        if result.errors:
            raise SystemExit(f"pipeline errors: {result.errors[:3]}")
    wall = time.perf_counter() - started
    return done / wall, 1000 * (_cpu_seconds() - cpu) / done


def cmd_speed(args: argparse.Namespace) -> None:
    from geotagger.locate.embed import Embedder
    from geotagger.locate.pack import ModelPack
    from geotagger.locate.runtime import cpu_threads
    from geotagger.services import models as model_services

    pack = ModelPack.load(args.model) if args.model else model_services.ensure_default_pack()
    folder = Path(args.dir) if args.dir else Path(tempfile.gettempdir()) / "geotagger-bench-12mp-v2"
    paths = make_photos(folder, args.n)
    cores = cpu_threads()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"model {pack.id} ({pack.input_size} px), {len(paths)} JPEGs 4000x3000, {cores} cores, load {load:.1f}"
    )
    for p in paths:  # warm the OS file cache so both sides read from memory
        p.read_bytes()
    embedder = Embedder(pack, args.device)
    ref_paths = paths[: max(1, min(len(paths), args.reference_n))]
    pipe, ref = [], []
    for _ in range(args.rounds):  # alternate, so load changes on a shared machine hit both sides
        pipe.append(run_pipeline(embedder, paths, args.batch_size, args.workers, args.pool))
        ref.append(run_reference(embedder.session, pack, ref_paths, 32))
    p_rate, p_cpu = (float(np.median([r[i] for r in pipe])) for i in (0, 1))
    r_rate, r_cpu = (float(np.median([r[i] for r in ref])) for i in (0, 1))
    workers = args.workers if args.workers is not None else cores
    print(
        f"geotagger pipeline   : {p_rate:7.1f} img/s  {p_cpu:6.1f} CPU ms/img  (device {embedder.device}, "
        f"{args.pool} workers {workers}, median of {args.rounds})"
    )
    print(
        f"reference (1 process): {r_rate:7.1f} img/s  {r_cpu:6.1f} CPU ms/img  (full decode + resize 256 + "
        f"crop, {len(ref_paths)} images)"
    )
    print(
        f"speed-up, wall clock : {p_rate / r_rate:7.1f}x   (rounds: "
        + ", ".join(f"{a[0] / b[0]:.1f}x" for a, b in zip(pipe, ref, strict=True))
        + ")"
    )
    print(
        f"speed-up, CPU-bound  : {r_cpu / (p_cpu / cores):7.1f}x   (what an idle {cores}-core machine gives)"
    )
    if args.device != "cpu" and embedder.device == "cpu":
        print("(no working CUDA here: figures are CPU)")


# --- nearest-neighbour accuracy on the dev benchmark -----------------------------------------------


def cmd_knn(args: argparse.Namespace) -> None:
    from geotagger.locate.embed import embed_paths
    from geotagger.locate.pack import ModelPack
    from geotagger.services import models as model_services

    dev = Path(args.dev)
    with open(dev / "truth.csv", newline="") as handle:
        truth = list(csv.DictReader(handle))
    pack = ModelPack.load(args.model) if args.model else model_services.build_pack(args.variant)
    if args.norm == "imagenet":
        pack.card["mean"], pack.card["std"] = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    if args.resize:
        pack.card["resize_size"] = args.resize
    paths = [dev / r["file"] for r in truth]
    emb = np.zeros((len(paths), pack.embedding_dim), np.float32)
    started = time.perf_counter()
    for batch in embed_paths(pack, paths, device=args.device, five_crop=args.five_crop):
        emb[batch.indices] = batch.embeddings
        if batch.errors:
            print("errors:", batch.errors, file=sys.stderr)
    seconds = time.perf_counter() - started
    emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12
    out = Path(tempfile.gettempdir()) / f"knn-{pack.id}-{args.norm}.csv"
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "lat", "lon"])
        for i, row in enumerate(truth):
            if row["role"] != "query":
                continue
            known = [
                j for j, r in enumerate(truth) if r["library"] == row["library"] and r["role"] == "known"
            ]
            if not known:
                continue
            best = known[int(np.argmax(emb[known] @ emb[i]))]
            writer.writerow([row["file"], truth[best]["lat"], truth[best]["lon"]])
    print(
        f"{pack.id} norm={args.norm}: embedded {len(paths)} photos in {seconds:.1f} s ({len(paths) / seconds:.0f} img/s)"
    )
    name = f"knn-{pack.id}-{args.norm}" + ("-5crop" if args.five_crop else "")
    subprocess.run(
        [sys.executable, str(SCORER), str(dev / "truth.csv"), str(out), "--name", name], check=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    speed = sub.add_parser("speed", help="img/s of the pipeline vs the reference preprocessing")
    speed.add_argument("--n", type=int, default=150, help="number of 12 MP JPEGs (default 150)")
    speed.add_argument("--reference-n", type=int, default=64, help="images for the (slow) reference")
    speed.add_argument("--dir", help="folder for the synthetic JPEGs (kept for reruns)")
    speed.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    speed.add_argument("--model", help="pack id or folder (default: the default backbone)")
    speed.add_argument("--batch-size", type=int)
    speed.add_argument("--workers", type=int)
    speed.add_argument("--pool", default="process", choices=("process", "thread"))
    speed.add_argument("--rounds", type=int, default=3)
    speed.set_defaults(run=cmd_speed)
    knn = sub.add_parser("knn", help="nearest-known-photo accuracy of a backbone on the dev benchmark")
    knn.add_argument("--variant", default="lite0", choices=("lite0", "lite1", "lite2"))
    knn.add_argument("--model", help="pack id or folder instead of --variant")
    knn.add_argument("--norm", default="card", choices=("card", "imagenet"))
    knn.add_argument("--resize", type=int, help="override the card's resize size")
    knn.add_argument("--five-crop", action="store_true")
    knn.add_argument("--dev", default=str(DEFAULT_DEV))
    knn.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    knn.set_defaults(run=cmd_knn)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
