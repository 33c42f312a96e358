"""Write-back commands: ``write`` (accepted locations into files or sidecars), ``undo`` and ``history``.

``undo`` takes the newest entry of the one history the desktop app uses too (services/history.py): a
write (exact old bytes back, also after a restart) or a decision (the photo back to its state before).
``undo --writes`` keeps the behaviour before the history: the last N written photos, decisions untouched.
"""

from __future__ import annotations

import argparse
import shutil
from typing import Any

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows
from geotagger.errors import UserInputError
from geotagger.metadata.xmp_write import PLACE_NAME_MODES, SIDECAR_POLICIES
from geotagger.textsafe import terminal_text

ORDER = 55
TABLE_COLUMNS = ("path", "status", "lat", "lon", "level", "radius_km", "places", "targets", "detail")
KIND_NAMES = {"exif": "EXIF", "xmp": "XMP", "sidecar": "sidecar"}
MIN_PATH = 12


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

    p = sub.add_parser(
        "undo", help="undo the newest write (exact previous bytes) or decision, newest first; see history"
    )
    p.add_argument(
        "--last", type=int, default=1, metavar="N", help="how many history entries to undo (default 1)"
    )
    p.add_argument(
        "--writes",
        action="store_true",
        help="only file writes: --last counts written photos, decisions stay (the behaviour before history)",
    )
    p.set_defaults(run=run_undo)

    p = sub.add_parser("history", help="the decisions and writes that undo takes back, newest first")
    p.add_argument("--all", action="store_true", help="also list what was already undone")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N entries (default 50)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.set_defaults(run=run_history)


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
    if args.format == "table":
        print_rows(table_rows(report.items), TABLE_COLUMNS, "table")
    else:  # JSON keeps the list; in a CSV cell "; " separates them (paths may contain spaces)
        rows = [
            {**item.to_dict(), "targets": item.targets if args.format == "json" else "; ".join(item.targets)}
            for item in report.items
        ]
        print_rows(
            rows, ("photo_id", "path", "status", *TABLE_COLUMNS[2:-2], "targets", "detail"), args.format
        )
    verb = "would write" if args.dry_run else "written"
    ctx.say(f"{report.written} {verb}, {report.failed} failed")
    return 1 if report.failed else 0


def shorten(text: str, width: int) -> str:
    """``text`` cut in the middle to ``width`` characters (the folder's start and the name's end stay)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def table_rows(items: list[Any], width: int | None = None) -> list[dict[str, Any]]:
    """Table rows that fit the terminal: targets summarised ("EXIF + sidecar"), the path shortened in
    the middle and the detail at the end, so each line stays within ``width`` columns."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    rows = []
    for item in items:
        rows.append(
            {
                "path": item.path,
                "status": item.status,
                "lat": f"{item.lat:.5f}" if item.lat is not None else "",
                "lon": f"{item.lon:.5f}" if item.lon is not None else "",
                "level": item.level or "",
                "radius_km": f"±{item.radius_km:g} km" if item.radius_km is not None else "",
                "places": item.places,
                "targets": " + ".join(KIND_NAMES.get(t.split(":", 1)[0], t) for t in item.targets),
                "detail": item.detail,
            }
        )
    if not rows:
        return rows

    def widest(key: str) -> int:
        return max(len(key), *(len(str(r[key])) for r in rows))

    fixed = sum(widest(k) for k in TABLE_COLUMNS if k not in ("path", "places", "detail"))
    room = width - fixed - 2 * (len(TABLE_COLUMNS) - 1)
    places_w = min(widest("places"), max(len("places"), room // 4))
    path_w = min(widest("path"), max(MIN_PATH, (room - places_w) * 2 // 3))
    detail_w = max(len("detail"), room - places_w - path_w)
    for row in rows:
        row["path"] = shorten(row["path"], path_w)
        row["places"] = shorten(row["places"], places_w)
        row["detail"] = shorten(row["detail"], detail_w)
    return rows


def run_undo(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import history, writing  # loaded when the command runs

    if args.writes:
        records = writing.undo(ctx.library, last=args.last)
        for record in records:
            action = "removed" if record.before_sha256 is None else "restored"
            print(f"{action} {terminal_text(record.target_path)}")
        failures = records.failures
        nothing = not records and not failures
    else:
        outcome = history.undo(ctx.library, last=args.last)
        for entry in outcome.entries:
            print(f"undone {terminal_text(entry.label)}")
        for path in outcome.restored:
            print(f"restored {terminal_text(path)}")
        for path in outcome.removed:
            print(f"removed {terminal_text(path)}")
        failures = outcome.failures
        nothing = not outcome.entries and not failures
    for path, reason in failures:
        print(f"not undone {terminal_text(path)}: {terminal_text(reason)}")
    if nothing:
        ctx.say("nothing to undo")
    return 1 if failures else 0


def run_history(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import history  # loaded when the command runs

    if args.limit < 1:
        raise UserInputError("--limit must be 1 or more")
    rows = [e.to_dict() for e in history.entries(ctx.library, include_undone=args.all, limit=args.limit)]
    for row in rows:
        row["photos"] = len(row["photos"]) if args.format != "json" else row["photos"]
    print_rows(rows, ("at", "kind", "what", "photos", "files", "undone"), args.format)
    if not rows:
        ctx.say("nothing to undo")
    return 0
