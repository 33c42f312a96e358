"""`geotagger geocode LAT,LON... | --csv FILE`: offline reverse geocoding."""

from __future__ import annotations

import argparse
import re

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows
from geotagger.errors import UserInputError

ORDER = 25
# "-33.9,18.4" must be a positional, not an unknown option: argparse treats strings that look like
# negative numbers as positionals, so widen its notion of a negative number to coordinate pairs.
_NEGATIVE_POINT = re.compile(r"^-\d+$|^-\d*\.\d+$|^-?\d*\.?\d+\s*[,;]\s*-?\d*\.?\d+$")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "geocode",
        help="offline reverse geocoding of coordinates (country, region, place)",
        description="Print the address of each point. Negative coordinates work as is "
        "(geotagger geocode -33.92,18.42); 'LAT LON' with a space needs quotes.",
    )
    p._negative_number_matcher = _NEGATIVE_POINT  # see _NEGATIVE_POINT
    p.add_argument("points", nargs="*", metavar="LAT,LON", help="points, e.g. 46.593,7.909")
    p.add_argument("--csv", metavar="FILE", help="read points from a CSV file with lat,lon columns")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.set_defaults(run=run_geocode)


def run_geocode(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import geocoding  # loaded when the command runs

    if args.csv and args.points:
        raise UserInputError("give points or --csv FILE, not both")
    if args.csv:
        rows = geocoding.geocode_csv(args.csv)
    elif args.points:
        rows = geocoding.geocode_points([geocoding.parse_point(text) for text in args.points])
    else:
        raise UserInputError("no points: give LAT,LON (e.g. 46.593,7.909) or --csv FILE")
    print_rows(rows, geocoding.COLUMNS, args.format)
    return 0
