"""`geotagger tag PATH... [--min-confidence X] [--level L] [--dry-run] [--report FILE]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from geotagger.cli.context import CliContext
from geotagger.cli.output import print_rows
from geotagger.geo.address import LEVELS

ORDER = 70


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "tag",
        help="batch: index, locate, accept confident suggestions and write them",
        description="Geotags every photo without GPS under PATH whose best suggestion is confident enough. "
        "Re-running continues where an interrupted run stopped.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="folders or photo files")
    parser.add_argument(
        "--min-confidence", type=float, default=0.9, metavar="X", help="accept at or above this (default 0.9)"
    )
    parser.add_argument("--level", choices=LEVELS, help="write at this precision (default: the suggestion's)")
    parser.add_argument("--dry-run", action="store_true", help="show what would be written; change no file")
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where embeddings run (default: auto)",
    )
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="save the report as CSV (or JSON: *.json)"
    )
    parser.set_defaults(run=run, creates_library=True)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import tagging

    if args.report:
        tagging.check_report_path(args.report)
    report = tagging.tag(
        ctx.library,
        args.paths,
        min_confidence=args.min_confidence,
        level=args.level,
        dry_run=args.dry_run,
        device=args.device,
        progress=ctx.progress(),
        cancel=ctx.cancel,
    )
    ctx.say(f"index: {report.index_summary}")
    ctx.say(f"locate: {report.locate_summary}")
    if not ctx.quiet:
        columns = ["file", "action", "reason", "confidence", "level", "address"]
        print_rows(tagging.rows_as_dicts(report), columns, "table")
    if args.report:
        report.save(args.report)
        ctx.say(f"report saved to {args.report}")
    print(report.summary())
    return 0
