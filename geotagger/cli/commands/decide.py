"""Decision commands: ``accept`` and ``reject`` (catalog only; ``write`` changes the files)."""

from __future__ import annotations

import argparse

from geotagger.cli.context import CliContext
from geotagger.errors import UserInputError
from geotagger.geo.address import LEVELS, Address

ORDER = 50


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("accept", help="accept a suggested or manual location for a photo")
    p.add_argument("photo", metavar="PHOTO", help="path or catalog id")
    p.add_argument(
        "--candidate",
        type=int,
        metavar="N",
        help="which candidate to accept, numbered from 1 as `suggestions` and the GUI list them (1 = best)",
    )
    p.add_argument("--lat", type=float, metavar="X", help="manual latitude (degrees, WGS-84)")
    p.add_argument("--lon", type=float, metavar="Y", help="manual longitude (degrees, WGS-84)")
    p.add_argument("--level", choices=LEVELS, help="precision to write (default: the candidate's)")
    p.add_argument("--force", action="store_true", help="replace GPS the file already has")
    p.set_defaults(run=run_accept)

    p = sub.add_parser("reject", help="reject the suggestions for a photo")
    p.add_argument("photo", metavar="PHOTO", help="path or catalog id")
    p.set_defaults(run=run_reject)


def run_accept(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import decisions  # loaded when the command runs

    decision = decisions.accept(
        ctx.library,
        args.photo,
        candidate=None if args.candidate is None else candidate_index(args.candidate),
        lat=args.lat,
        lon=args.lon,
        level=args.level,
        force=args.force,
    )
    place = Address.from_dict(decision.address).display
    print(
        f"accepted photo {decision.photo_id}: {decision.lat:.6f}, {decision.lon:.6f} "
        f"({decision.level}, ±{decision.radius_km:g} km, {place}, from {decision.source})"
    )
    ctx.say("run 'geotagger write' to write accepted locations into the files")
    return 0


def candidate_index(number: int) -> int:
    """The catalog rank (0-based) of candidate ``number`` as the user counts (1 = best)."""
    if number < 1:
        raise UserInputError(f"candidates are numbered from 1 (1 = best), not {number}")
    return number - 1


def run_reject(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import decisions  # loaded when the command runs

    decision = decisions.reject(ctx.library, args.photo)
    print(f"rejected photo {decision.photo_id}")
    return 0
