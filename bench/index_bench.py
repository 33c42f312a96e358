"""Indexing benchmark: geotagger index (cold, via the service and the CLI) against
``exiftool -fast2 -json -r`` on the same folder, the unchanged rescan, and peak memory at two sizes.

    python bench/index_bench.py                     # generate 10k small JPEGs (+ 50k for memory)
    python bench/index_bench.py --folder PHOTOS     # measure an existing folder instead
    python bench/index_bench.py --library-dev       # also time the shared real-photo library

Every measurement runs in a fresh subprocess (cold catalog, clean peak RSS read from ru_maxrss).
Files are written just before the runs, so every tool sees a warm page cache: the comparison is of
CPU work (parsing, hashing, writing rows), which is what the goals are about. Not a test: numbers
depend on the machine and its load (printed with the results).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
LIBRARY_DEV = ROOT.parent / "shared" / "data" / "library-dev"
FILES_PER_FOLDER = 100


# --------------------------------------------------------------------------- building a folder


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction(round(((value - degrees) * 60 - minutes) * 60 * 1000), 1000)
    return Fraction(degrees), Fraction(minutes), seconds


def _template(i: int) -> bytes:
    """A small JPEG with camera EXIF; every other one geotagged, like a mixed phone/camera library."""
    image = Image.new("RGB", (160, 120), (40 * i % 255, 90, 160))
    ImageDraw.Draw(image).ellipse([20 + i * 5, 20, 100, 90], fill=(230, 200, 30))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = ("Canon", "NIKON", "Apple")[i % 3], f"Model {i}", 1 + i % 8
    sub = exif.get_ifd(0x8769)
    stamp = (datetime(2019, 6, 1, 8, 0, 0) + timedelta(hours=7 * i)).strftime("%Y:%m:%d %H:%M:%S")
    sub[0x9003], sub[0x9291], sub[0x9011] = stamp, f"{i * 37 % 1000:03d}", "+02:00"
    if i % 2 == 0:
        lat, lon = 45.0 + i * 0.37, 7.0 + i * 0.53
        gps = exif.get_ifd(0x8825)
        gps[0], gps[1], gps[2], gps[3], gps[4] = b"\x02\x03\x00\x00", "N", _dms(lat), "E", _dms(lon)
        gps[5], gps[6] = b"\x00", Fraction(12345, 100)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


def build_folder(folder: Path, count: int) -> Path:
    """``count`` distinct JPEGs (a COM segment after SOI makes each fingerprint unique)."""
    templates = [_template(i) for i in range(8)]
    for n in range(count):
        sub = folder / f"d{n // FILES_PER_FOLDER:04d}"
        if n % FILES_PER_FOLDER == 0:
            sub.mkdir(parents=True, exist_ok=True)
        data = templates[n % len(templates)]
        comment = f"geotagger bench photo {n:08d}".encode()
        segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        (sub / f"IMG_{n:06d}.jpg").write_bytes(data[:2] + segment + data[2:])
    return folder


# --------------------------------------------------------------------------- child measurements


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _child_service(folder: str, library: str, workers: str, pool: str) -> None:
    """Runs in a subprocess: cold index, then an unchanged rescan; prints JSON."""
    sys.path.insert(0, str(ROOT))
    from geotagger.services import Library, indexing

    n_workers = None if workers == "auto" else int(workers)
    with Library(library) as lib:
        cpu_before = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        cold = indexing.index(lib, [Path(folder)], workers=n_workers, pool=pool)
        cold_s = time.perf_counter() - started
        # Worker processes are joined at the end of index(), so RUSAGE_CHILDREN now includes them.
        cold_cpu = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) - cpu_before
        cold_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rescan_runs = []  # best of three: the shared machine's load only ever adds time
        for _ in range(3):
            cpu_before = _cpu(resource.RUSAGE_SELF)
            started = time.perf_counter()
            rescan = indexing.index(lib, [Path(folder)], workers=n_workers, pool=pool)
            rescan_runs.append((time.perf_counter() - started, _cpu(resource.RUSAGE_SELF) - cpu_before))
        rescan_s, rescan_cpu = min(rescan_runs)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "files": cold.scanned,
                "added": cold.added,
                "errors": cold.errors,
                "cold_s": cold_s,
                "cold_cpu_s": cold_cpu,
                "rescan_s": rescan_s,
                "rescan_cpu_s": rescan_cpu,
                "rescan_unchanged": rescan.unchanged,
                "cold_peak_rss_mb": cold_rss / 1024,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "worker_peak_rss_mb": children / 1024,
            }
        )
    )


def run_service(folder: Path, workers: str = "auto", pool: str = "auto") -> dict:
    with tempfile.TemporaryDirectory(prefix="gt-bench-lib-") as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "_service", str(folder), f"{tmp}/library.sqlite", workers, pool],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    cpu_before = _cpu(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started, _cpu(resource.RUSAGE_CHILDREN) - cpu_before


def run_cli(folder: Path) -> tuple[tuple[float, float], tuple[float, float]]:
    """Wall time of ``geotagger index`` cold and rescan, Python start-up and imports included."""
    with tempfile.TemporaryDirectory(prefix="gt-bench-cli-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "geotagger",
            "-q",
            "--library",
            f"{tmp}/library.sqlite",
            "index",
            str(folder),
        ]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        return _timed(cmd, env), _timed(cmd, env)


def run_exiftool(folder: Path) -> tuple[float, float]:
    return _timed(["exiftool", "-fast2", "-json", "-r", str(folder)])


# --------------------------------------------------------------------------- report


def _exiftool_version() -> str:
    if not shutil.which("exiftool"):
        return "not installed (no comparison)"
    return subprocess.run(["exiftool", "-ver"], capture_output=True, text=True).stdout.strip()


def count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def measure_speed(folder: Path, label: str, compare_pools: bool) -> dict:
    n = count_files(folder)
    print(f"\n== {label}: {folder} ({n} files)")
    exif_s, exif_cpu = run_exiftool(folder) if shutil.which("exiftool") else (None, None)
    service = run_service(folder)
    (cli_cold, cli_cpu), (cli_rescan, _) = run_cli(folder)
    files = service["files"]
    cold_s, cold_cpu = service["cold_s"], service["cold_cpu_s"]
    print("(wall-clock files/s, and files per CPU-second, which is what a loaded machine cannot distort)")
    print(
        f"geotagger index (service, cold): {cold_s:.2f} s wall = {files / cold_s:,.0f} files/s; "
        f"{cold_cpu:.2f} CPU-s = {files / cold_cpu:,.0f} files/CPU-s"
    )
    print(
        f"geotagger index (CLI, cold, incl. start-up): {cli_cold:.2f} s wall = {files / cli_cold:,.0f} files/s; "
        f"{cli_cpu:.2f} CPU-s"
    )
    if exif_s:
        print(
            f"exiftool -fast2 -json -r: {exif_s:.2f} s wall = {files / exif_s:,.0f} files/s; "
            f"{exif_cpu:.2f} CPU-s = {files / exif_cpu:,.0f} files/CPU-s"
        )
        print(
            f"ratio geotagger/exiftool: wall files/s service {exif_s / cold_s:.1f}x, CLI {exif_s / cli_cold:.1f}x; "
            f"files per CPU-s service {exif_cpu / cold_cpu:.1f}x, CLI {exif_cpu / cli_cpu:.1f}x"
        )
    print(
        f"rescan of {service['rescan_unchanged']} unchanged files (best of 3): {service['rescan_s']:.3f} s "
        f"in-process ({service['rescan_cpu_s']:.3f} CPU-s), {cli_rescan:.2f} s via the CLI (incl. Python start-up)"
    )
    print(f"errors: {service['errors']}, peak RSS main {service['peak_rss_mb']:.0f} MB")
    result = {
        "files": files,
        "exiftool_s": exif_s,
        "service": service,
        "cli_cold_s": cli_cold,
        "cli_rescan_s": cli_rescan,
    }
    if compare_pools:
        for workers, pool in (("0", "auto"), ("auto", "thread"), ("auto", "process")):
            r = run_service(folder, workers, pool)
            name = "sequential" if workers == "0" else f"{pool} pool"
            print(
                f"  {name:<15} cold {r['cold_s']:.2f} s = {r['files'] / r['cold_s']:,.0f} files/s "
                f"({r['cold_cpu_s']:.2f} CPU-s)"
            )
            result[f"pool_{name}"] = r["cold_s"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folder", type=Path, help="measure this folder instead of generated photos")
    parser.add_argument(
        "--count", type=int, default=10_000, help="generated photos for the speed run (0: skip it)"
    )
    parser.add_argument("--rss-sizes", default="10000,50000", help="sizes for the memory runs ('' = skip)")
    parser.add_argument("--library-dev", action="store_true", help="also measure ../shared/data/library-dev")
    parser.add_argument(
        "--no-pools", action="store_true", help="skip the sequential/thread/process comparison"
    )
    parser.add_argument("--work-dir", type=Path, help="where generated folders go (default: a temp dir)")
    args = parser.parse_args(argv)

    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}"
    )
    print(f"exiftool {_exiftool_version()}")
    work = Path(tempfile.mkdtemp(prefix="gt-bench-", dir=args.work_dir))
    try:
        if args.folder:
            measure_speed(args.folder.resolve(), "given folder", not args.no_pools)
        elif args.count > 0:
            folder = build_folder(work / f"gen{args.count}", args.count)
            measure_speed(folder, f"{args.count} generated JPEGs", not args.no_pools)
        if args.library_dev and LIBRARY_DEV.is_dir():
            measure_speed(LIBRARY_DEV, "library-dev (real photos)", False)
        sizes = [int(s) for s in args.rss_sizes.split(",") if s.strip()]
        if sizes:
            print("\n== memory (cold index, each size in its own process)")
        for size in sizes:
            folder = work / f"gen{size}"
            if not folder.is_dir():
                build_folder(folder, size)
            r = run_service(folder)
            print(
                f"{size:>7} files: peak RSS main {r['cold_peak_rss_mb']:.0f} MB after the cold index, "
                f"{r['peak_rss_mb']:.0f} MB after the rescan; largest worker {r['worker_peak_rss_mb']:.0f} MB; "
                f"cold {r['cold_s']:.1f} s, rescan {r['rescan_s']:.3f} s ({r['rescan_cpu_s']:.3f} CPU-s)"
            )
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_service":
        _child_service(*sys.argv[2:6])
    else:
        raise SystemExit(main())
