"""`geotagger backups list | prune [--keep-days D] [--dry-run] [--forget-undo]`: the write backups."""

from __future__ import annotations

import argparse

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows

ORDER = 57


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "backups",
        help="the exact copies `write` keeps so `undo` can restore them: list, prune",
        description="A backup is kept while a write that can still be undone needs it. Others (undone, "
        "failed, or no longer in the catalog) are pruned after --keep-days.",
    )
    actions = parser.add_subparsers(dest="backups_action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="count and size of the backups, needed and prunable")
    listing.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    listing.set_defaults(run=_list)

    prune = actions.add_parser("prune", help="delete backups that no undoable write needs")
    prune.add_argument("--keep-days", type=float, default=30.0, metavar="D", help="keep younger ones (30)")
    prune.add_argument("--dry-run", action="store_true", help="show what would be deleted; delete nothing")
    prune.add_argument(
        "--forget-undo",
        action="store_true",
        help="also delete backups of written photos older than D days (those writes can no longer be undone)",
    )
    prune.set_defaults(run=_prune)


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _list(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import backups  # loaded when the command runs

    report = backups.inventory(ctx.library)
    needed = [f for f in report.files if f.needed]
    rows = [
        {"backups": "all", "files": len(report.files), "size": _mb(report.totals()[1])},
        {"backups": "needed by undo", "files": len(needed), "size": _mb(report.totals(needed)[1])},
    ]
    if args.format == "json":
        rows = [{"folder": report.folder, "files": [vars(f) for f in report.files]}]
        print_rows(rows, ("folder", "files"), "json")
        return 0
    print_rows(rows, ("backups", "files", "size"), args.format)
    ctx.say(f"folder: {report.folder}")
    return 0


def _prune(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import backups  # loaded when the command runs

    report = backups.prune(
        ctx.library, keep_days=args.keep_days, dry_run=args.dry_run, forget_undo=args.forget_undo
    )
    for backup in report.pruned:
        print(f"{'would delete' if args.dry_run else 'deleted'} {backup.path}")
    count, size = report.totals(report.pruned)
    kept = len(report.files) - count
    verb = "would free" if args.dry_run else "freed"
    ctx.say(f"{count} backups pruned ({verb} {_mb(size)}), {kept} kept")
    return 0
