"""Library commands: ``index``, ``status``, ``list``."""

from __future__ import annotations

import argparse
import json
import sys

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows
from geotagger.services.filters import FILTERS

ORDER = 10
MAX_WARNINGS_SHOWN = 20
TABLE_COLUMNS = (
    "id",
    "path",
    "taken_at",
    "gps_lat",
    "gps_lon",
    "gps_source",
    "status",
    "review_state",
    "error",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="add or refresh folders of photos (incremental)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="folders or photo files")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="parallel metadata readers (default: one per core)",
    )
    p.set_defaults(run=run_index, creates_library=True)

    p = sub.add_parser(
        "status", help="counts: photos, with GPS, without, suggested, accepted, written, errors"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run_status)

    p = sub.add_parser(
        "list",
        help="list photos of the library",
        description="status: ok, error (the file could not be read), metadata-error (read, but its "
        "metadata had problems: see the error column), missing (the file is gone).",
    )
    p.add_argument("--filter", choices=[f for f in FILTERS if f != "all"], help="only photos in this state")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.set_defaults(run=run_list)


def run_index(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import indexing  # loaded when the command runs

    if args.workers is not None and args.workers < 0:
        from geotagger.errors import UserInputError

        raise UserInputError("--workers must be 0 or more")
    report = indexing.index(
        ctx.library, args.paths, progress=ctx.progress(), cancel=ctx.cancel, workers=args.workers
    )
    if ctx.verbose or len(report.warnings) <= MAX_WARNINGS_SHOWN:
        shown = report.warnings
    else:
        shown = report.warnings[:MAX_WARNINGS_SHOWN]
    for line in shown:
        ctx.say("warning: " + " ".join(line.split()))
    if len(shown) < len(report.warnings):
        ctx.say(f"... and {len(report.warnings) - len(shown)} more warnings (-v shows all)")
    if report.errors > report.skipped:  # error rows exist; skipped paths were named in the warnings
        ctx.say("files that could not be read, or whose metadata is broken: geotagger list --filter error")
    print(str(report))
    return 0


def run_status(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import indexing  # loaded when the command runs

    counts = indexing.status(ctx.library)
    if args.json:
        json.dump(counts, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        width = max(len(k) for k in counts)
        for key, value in counts.items():
            print(f"{key.replace('_', ' '):<{width}}  {value}")
    return 0


def run_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import indexing  # loaded when the command runs

    rows = [_status_says_why(row) for row in indexing.list_photos(ctx.library, args.filter)]
    if args.format == "table":  # one line per photo: the table escapes newlines and control characters
        print_rows(rows, TABLE_COLUMNS, "table")
    else:
        print_rows(rows, indexing.LIST_COLUMNS, args.format)
    return 0


METADATA_ERROR = "metadata-error"


def _status_says_why(row: dict) -> dict:
    """A readable photo whose metadata had problems is not plain "ok" beside its error: its status
    says the metadata is what is wrong ("error" stays: the file itself could not be read)."""
    if row.get("status") == "ok" and row.get("error"):
        row["status"] = METADATA_ERROR
    return row
