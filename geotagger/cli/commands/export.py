"""`geotagger export DEST [--album NAME | --filter F] [--kml] [--gpx] [--geojson] [--html] [--location ...]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from geotagger.cli.context import CliContext
from geotagger.export.privacy import LOCATION_MODES
from geotagger.services.filters import FILTERS
from geotagger.textsafe import terminal_text

ORDER = 85


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="copy an album with its locations written in, plus KML/GPX/GeoJSON/HTML map",
        description="Copies go to DEST/<album name>; the originals are only read.",
    )
    parser.add_argument("dest", metavar="DEST", type=Path, help="folder that receives DEST/<name>")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--album", metavar="NAME", help="the album to export")
    which.add_argument("--filter", choices=FILTERS, help="export the photos matching a filter (default: all)")
    parser.add_argument("--name", help="folder name inside DEST (default: the album or filter name)")
    parser.add_argument("--kml", action="store_true", help="a KML file of the placemarks (Google Earth)")
    parser.add_argument("--gpx", action="store_true", help="GPX waypoints")
    parser.add_argument("--geojson", action="store_true", help="a GeoJSON feature collection")
    parser.add_argument("--html", action="store_true", help="an offline HTML map with thumbnails")
    parser.add_argument(
        "--location",
        choices=LOCATION_MODES,
        default="keep",
        help="precision in the copies: keep, city or region centre, or strip GPS entirely",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import exporting

    report = exporting.export(
        ctx.library,
        args.dest,
        album=args.album,
        filter=args.filter,
        name=args.name,
        kml=args.kml,
        gpx=args.gpx,
        geojson=args.geojson,
        html_map=args.html,
        location=args.location,
        progress=ctx.progress(),
        cancel=ctx.cancel,
    )
    for path, reason in report.skipped:
        ctx.say(f"skipped {path}: {reason}")
    for path, note in report.notes:
        ctx.say(f"note {path}: {note}")
    print(terminal_text(report.summary()))
    return 0
