"""`geotagger places search TEXT [--limit N] [--format ...]`: find places by name, offline (GeoNames)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows
from geotagger.errors import UserInputError

ORDER = 26  # next to geocode
COLUMNS = ["name", "kind", "region", "country", "lat", "lon", "population", "zoom"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "places",
        help="find places, regions and countries by name, offline (GeoNames)",
        description="Names match by prefix, ignoring case and accents (zurich finds Zürich), also by a "
        "later word (york finds New York); the most populous first. Place data: GeoNames (CC BY 4.0).",
    )
    actions = parser.add_subparsers(dest="places_action", metavar="ACTION", required=True)
    search = actions.add_parser("search", help="places whose name starts with TEXT")
    search.add_argument("text", nargs="+", metavar="TEXT", help="the start of a name, e.g. Lauterbr")
    search.add_argument("--limit", type=_positive, default=10, help="at most N places (default: 10)")
    search.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    search.set_defaults(run=_search)


def _search(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.geo.place_search import PlaceSearch, normalize  # loaded when the command runs

    text = " ".join(args.text)
    if not normalize(text):
        raise UserInputError("give the start of a place name, e.g. geotagger places search Lauterbr")
    hits = PlaceSearch.default().search(text, args.limit)
    if not hits:
        raise UserInputError(f"no place named like {text!r}")
    rows = [{**asdict(h), "lat": round(h.lat, 5), "lon": round(h.lon, 5), "label": h.label} for h in hits]
    print_rows(rows, COLUMNS, args.format)
    return 0
