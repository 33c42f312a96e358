"""Build the self-contained bundle: one folder (and a tarball of it) that runs without Python.

    python packaging/build_bundle.py [--dist DIR] [--work DIR] [--no-tarball]

Steps: build the default model pack (EfficientNet-Lite0 to ONNX; needs the pip install with torch),
copy the OCR models (PP-OCRv4 from rapidocr-onnxruntime) next to it, then run PyInstaller on
packaging/bundle/geotagger.spec, which ships both under ``<bundle>/_internal/models`` (where
geotagger.paths.models_dir looks when frozen) and leaves torch out. Output: DIST/geotagger/ (run
DIST/geotagger/geotagger) and DIST/geotagger-VERSION-linux-ARCH.tar.gz. Prints sizes and times.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "bundle" / "geotagger.spec"
# The checkout this script lives in is what gets bundled (PyInstaller analyses it too, through the
# spec's pathex), even where another checkout is the installed one.
sys.path.insert(0, str(ROOT))


def stage_models(folder: Path) -> None:
    """The built default pack and the two OCR models, in the layout models_dir() expects."""
    from geotagger.explain.text import DET_MODEL, INSTALL_HINT, REC_MODEL, ocr_model_dir
    from geotagger.locate.build import DEFAULT_VARIANT, build_backbone_pack

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    pack = build_backbone_pack(DEFAULT_VARIANT, dest_root=folder)
    print(f"model pack {pack.id}: {_size_mb(pack.dir):.1f} MB")
    ocr = ocr_model_dir()
    if ocr is None:
        raise SystemExit(f"error: the OCR models are not installed: {INSTALL_HINT}")
    (folder / "ocr").mkdir()
    for name in (DET_MODEL, REC_MODEL):
        shutil.copy2(ocr / name, folder / "ocr" / name)
    print(f"OCR models from {ocr}")


def run_pyinstaller(models: Path, dist: Path, work: Path) -> Path:
    env = dict(os.environ, GEOTAGGER_BUNDLE_MODELS=str(models))
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    cmd += ["--distpath", str(dist), "--workpath", str(work / "pyinstaller"), str(SPEC)]
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    return dist / "geotagger"


def make_tarball(bundle: Path, dist: Path) -> Path:
    from geotagger import __version__

    out = dist / f"geotagger-{__version__}-linux-{platform.machine()}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname="geotagger")
    return out


def _size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bundle", help="build folder")
    parser.add_argument("--no-tarball", action="store_true", help="only the folder")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    models = args.work / "models"
    stage_models(models)
    t_models = time.perf_counter() - started
    bundle = run_pyinstaller(models, args.dist, args.work)
    t_bundle = time.perf_counter() - started
    print(f"bundle: {bundle} ({_size_mb(bundle):.0f} MB); run {bundle / 'geotagger'}")
    if not args.no_tarball:
        tarball = make_tarball(bundle, args.dist)
        print(f"tarball: {tarball} ({_size_mb(tarball):.0f} MB)")
    total = time.perf_counter() - started
    print(f"times: model pack {t_models:.0f} s, PyInstaller {t_bundle - t_models:.0f} s, total {total:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
