"""Write-back commands: ``write`` (accepted locations into files or sidecars) and ``undo``."""

from __future__ import annotations

import argparse

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows
from geotagger.metadata.xmp_write import PLACE_NAME_MODES, SIDECAR_POLICIES

ORDER = 55


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("write", help="write accepted locations into the photos (EXIF) or XMP sidecars")
    p.add_argument("--dry-run", action="store_true", help="show what would be written; change nothing")
    p.add_argument(
        "--sidecar",
        choices=SIDECAR_POLICIES,
        default="ext.xmp",
        help="sidecar naming: photo.jpg.xmp (ext.xmp, default) or photo.xmp (xmp)",
    )
    p.add_argument(
        "--place-names",
        choices=PLACE_NAME_MODES,
        default="sidecar",
        help="where city/region/country names go: XMP sidecar (default), embedded in the JPEG's XMP, or none",
    )
    p.add_argument(
        "--touch",
        action="store_true",
        help="give written photos the current modification time (default: keep the original's)",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="report format (default: table)")
    p.set_defaults(run=run_write)

    p = sub.add_parser("undo", help="restore the exact previous bytes of the last written photos")
    p.add_argument("--last", type=int, default=1, metavar="N", help="how many photos to undo (default 1)")
    p.set_defaults(run=run_undo)


def run_write(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import writing  # loaded when the command runs

    report = writing.write(
        ctx.library,
        dry_run=args.dry_run,
        sidecar_policy=args.sidecar,
        place_names=args.place_names,
        keep_mtime=not args.touch,
        progress=ctx.progress(),
        cancel=ctx.cancel,
    )
    for record_id in report.reconciled:
        ctx.say(f"note: settled write #{record_id} left unfinished by an interrupted run")
    # JSON keeps the list; in a table or CSV cell "; " separates them (paths may contain spaces).
    rows = [
        {**item.to_dict(), "targets": item.targets if args.format == "json" else "; ".join(item.targets)}
        for item in report.items
    ]
    print_rows(rows, ("photo_id", "path", "status", "targets", "detail"), args.format)
    verb = "would write" if args.dry_run else "written"
    ctx.say(f"{report.written} {verb}, {report.failed} failed")
    return 1 if report.failed else 0


def run_undo(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import writing  # loaded when the command runs

    records = writing.undo(ctx.library, last=args.last)
    for record in records:
        action = "removed" if record.before_sha256 is None else "restored"
        print(f"{action} {record.target_path}")
    if not records:
        ctx.say("nothing to undo")
    return 0
