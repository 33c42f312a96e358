"""`geotagger tracks import FILE... | list [--format ...] | remove ID`: GPS tracks as evidence for locate."""

from __future__ import annotations

import argparse
from pathlib import Path

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows

ORDER = 42
COLUMNS = ["id", "name", "points", "start_utc", "end_utc", "path"]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "tracks",
        help="import GPS tracks (GPX/KML/NMEA): photos taken on them get their position",
        description="Photos taken while a GPS logger or phone recorded a track are placed on it by time "
        "when you run `geotagger locate`, with the camera clock corrections of `geotagger clocks` "
        "(set one by hand when a camera clock was off: geotagger clocks set DEVICE OFFSET).",
    )
    actions = parser.add_subparsers(dest="tracks_action", metavar="ACTION", required=True)

    imp = actions.add_parser("import", help="import track files (or the track files under folders)")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".gpx, .kml or NMEA log (or folder)")
    imp.set_defaults(run=_import, creates_library=True)

    listing = actions.add_parser("list", help="imported tracks with their time spans (UTC)")
    listing.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    listing.set_defaults(run=_list)

    remove = actions.add_parser("remove", help="forget an imported track (the file is untouched)")
    remove.add_argument("id", type=int, metavar="ID", help="track id from `geotagger tracks list`")
    remove.set_defaults(run=_remove)


def _import(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import tracks  # loaded when the command runs

    report = tracks.import_tracks(ctx.library, args.files, progress=ctx.progress(), cancel=ctx.cancel)
    for path, reason in report.errors.items():
        ctx.say(f"warning: {path}: {reason}")
    print(report.summary())
    return 0


def _list(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import tracks

    print_rows(tracks.list_tracks(ctx.library), COLUMNS, args.format)
    return 0


def _remove(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import tracks

    name = tracks.remove_track(ctx.library, args.id)
    ctx.say(f"removed track {args.id} ({name})")
    return 0
