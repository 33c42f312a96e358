"""Time to explain one photo (decode + backbone + attribution + concepts + influence [+ OCR]).

Goal (issue 5): < 1 s per photo on the project's CPU without OCR, < 2 s with it.
Each photo is explained against a neighbour target (similarity to the previous photo's embedding,
what most library candidates need) and a class target (CAM of its top ImageNet class), alternating.

    python bench/explain_bench.py [FOLDER] [--n 40] [--pack ID] [--threads N]

FOLDER defaults to ../shared/data/library-dev/photos. Prints mean / median / p90 seconds per photo.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geotagger.explain.explainer import OCR_MIN_SIDE, WORK_LONG_SIDE, Explainer, Target, load_photo  # noqa: E402
from geotagger.explain.text import ocr_available  # noqa: E402
from geotagger.locate.pack import ModelPack  # noqa: E402
from geotagger.services import models  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "library-dev" / "photos"


def run(explainer: Explainer, files: list[Path], ocr: bool) -> list[float]:
    times: list[float] = []
    previous: np.ndarray | None = None
    for i, path in enumerate(files):
        t0 = time.perf_counter()
        image = load_photo(path, OCR_MIN_SIDE if ocr else WORK_LONG_SIDE)
        if i % 2 == 0 and previous is not None:
            target = Target("neighbour", "previous photo", embedding=previous)
        else:
            _f, emb, logits = explainer.run(image)
            k = int(np.argmax(logits))
            target = Target("class", f"ImageNet {k}", weights=explainer.head_w[k])
            previous = emb
        explainer.explain(image, target, ocr=ocr)
        times.append(time.perf_counter() - t0)
    return times


def summary(label: str, times: list[float]) -> str:
    s = sorted(times)
    p90 = s[min(len(s) - 1, int(0.9 * len(s)))]
    return f"{label:12s} n={len(s)}  mean {statistics.mean(s):.3f} s  median {statistics.median(s):.3f} s  p90 {p90:.3f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--pack", help="model pack id or folder (default: the default pack)")
    ap.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: all cores)")
    args = ap.parse_args()
    files = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    if not files:
        print(f"no JPEG photos under {args.folder}", file=sys.stderr)
        return 1
    step = max(1, len(files) // args.n)
    files = files[::step][: args.n]
    pack = ModelPack.load(args.pack) if args.pack else models.ensure_default_pack()
    t0 = time.perf_counter()
    plain = Explainer(pack, ocr=False, threads=args.threads)
    print(f"pack {pack.id}; explainer ready in {time.perf_counter() - t0:.2f} s (once per session)")
    run(plain, files[:2], False)  # warm-up
    print(summary("without OCR", run(plain, files, False)))
    if ocr_available():
        t0 = time.perf_counter()
        with_ocr = Explainer(pack, ocr=True, threads=args.threads)
        print(f"OCR sessions ready in {time.perf_counter() - t0:.2f} s")
        run(with_ocr, files[:2], True)
        print(summary("with OCR", run(with_ocr, files, True)))
    else:
        print(
            "with OCR     skipped: OCR models not installed (pip install --no-deps rapidocr-onnxruntime==1.4.4)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
