"""`geotagger locate [PATH...]` and `geotagger suggestions [--format csv|json|table]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows
from geotagger.errors import UserInputError

ORDER = 40
COLUMNS = ["file", "lat", "lon", "radius_km", "confidence", "level", "address", "source"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "locate",
        help="estimate where photos without GPS were taken",
        description="Fuses evidence from capture time (geotagged photos taken shortly before or after), "
        "the library model (heads + nearest neighbours on your own geotagged photos) and place names "
        "read on signs in the photos (OCR; --no-ocr turns it off) into ranked "
        "suggestions with calibrated confidence. Only changed photos are recomputed.",
    )
    p.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="only photos under these (default: all)"
    )
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where embeddings run")
    p.add_argument("--batch-size", type=int, default=None, metavar="N", help="images per inference batch")
    p.add_argument(
        "--sources",
        default=None,
        metavar="LIST",
        help="evidence to use, comma-separated: time,library,track (default: all; one alone for benchmarks)",
    )
    p.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="one clock correction of every photo for GPS tracks, overriding `geotagger clocks`: "
        "photo time + SECONDS = true time (e.g. -3600; the opposite sign of `clocks set`, which says how far "
        "a camera is ahead). Prefer `geotagger clocks set DEVICE OFFSET`",
    )
    p.add_argument(
        "--five-crop",
        action="store_true",
        help="five-crop test-time augmentation: embed each photo from 5 crops and average them "
        "(costs ~5x inference time; the library model is retrained on that recipe)",
    )
    p.add_argument(
        "--no-ocr",
        action="store_true",
        help="do not read text on the photos (place names on signs are evidence by default; "
        "OCR costs about 0.3 s per photo once, then it is cached)",
    )
    p.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="decode and embed on a Ray cluster: ADDRESS of its head (host:6379 on a node of it, "
        "ray://host:10001 from outside) or auto for a local one; needs the cluster extra. The photos "
        "and model packs must be at the same paths on every node; this process alone writes the catalog",
    )
    p.set_defaults(run=run_locate)

    p = sub.add_parser(
        "suggestions", help="best suggestion per photo (file, lat, lon, radius, confidence ...)"
    )
    p.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (json adds alternatives)"
    )
    p.set_defaults(run=run_suggestions)


def run_locate(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import locating  # loaded when the command runs

    if args.batch_size is not None and args.batch_size < 1:
        raise UserInputError("--batch-size must be 1 or more")
    sources = [s.strip() for s in args.sources.split(",") if s.strip()] if args.sources else None
    for path in args.paths:
        _check_utf8(path)
    report = locating.locate(
        ctx.library,
        args.paths or None,
        device=args.device,
        batch_size=args.batch_size,
        progress=ctx.progress(),
        cancel=ctx.cancel,
        sources=sources,
        clock_offset_s=args.clock_offset,
        five_crop=args.five_crop,
        ocr=not args.no_ocr,
        cluster=args.cluster,
    )
    if report.retrained:
        ctx.say(f"library model retrained ({report.model_version})")
    for path, reason in list(report.errors.items())[:20]:
        ctx.say(f"warning: {path}: {reason}")
    if report.ocr_note:
        ctx.say(f"note: {report.ocr_note}")
    print(report.summary())
    return 0


def _check_utf8(path: Path) -> None:
    """A folder whose name is not UTF-8 holds no catalogued photo: say so rather than search."""
    import os

    from geotagger.services.selection import is_catalog_text, not_utf8

    if not (is_catalog_text(str(path)) and is_catalog_text(os.path.abspath(path))):
        raise not_utf8(os.path.abspath(path), "locate photos under")


def run_suggestions(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import locating  # loaded when the command runs

    rows = locating.suggestions(ctx.library)
    if args.format == "json":
        for row in rows:  # numbered as `accept --candidate N` and the GUI count them
            row["candidate"] = 1
            for number, alternative in enumerate(row.get("alternatives", []), start=2):
                alternative["candidate"] = number
        print_rows(rows, COLUMNS, "json")
    else:
        print_rows(rows, COLUMNS, args.format)
    return 0
