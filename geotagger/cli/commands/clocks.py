"""`geotagger clocks [list] | set DEVICE OFFSET | clear DEVICE`: camera clock offsets per device and folder."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows
from geotagger.errors import UserInputError

ORDER = 43
TABLE_COLUMNS = ["device", "folder", "period", "offset", "support", "confidence", "status", "source"]
DATA_COLUMNS = ["device", "folder", "period", "offset_s", "support", "confidence", "status", "source"]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "clocks",
        help="camera clock offsets: as `locate` estimated them, or as you set them",
        description="A camera without GPS often has its clock off (time zone not set, drift). `locate` "
        "estimates each device's offset per folder against the devices with GPS in that folder (the "
        "offset that makes visually similar photos agree in time) and corrects time and track evidence "
        "with the confident ones. OFFSET is how far the camera clock is AHEAD of the true time "
        "(true time = photo time - OFFSET).",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.set_defaults(run=_list)
    actions = parser.add_subparsers(dest="clocks_action", metavar="ACTION")

    listing = actions.add_parser("list", help="devices, estimated offset, supporting photo pairs, confidence")
    listing.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    listing.set_defaults(run=_list)

    setter = actions.add_parser("set", help="set a device's clock offset by hand (wins over the estimate)")
    setter.add_argument(
        "device", metavar="DEVICE", help='device as `geotagger clocks` lists it, e.g. "FUJIFILM X100V"'
    )
    setter.add_argument("offset", metavar="OFFSET", help="camera ahead of true time: +3600, -1h, +9h02m50s")
    setter.add_argument(
        "--folder", type=Path, default=None, metavar="PATH", help="only this folder (default: all)"
    )
    setter.set_defaults(run=_set)
    # "-1h" is an offset, not an option: let the parser read any "-<digit>..." as a value (it has no
    # options that start with a digit).
    setter._negative_number_matcher = re.compile(r"^-\d")

    clear = actions.add_parser("clear", help="forget a clock set by hand (the estimate applies again)")
    clear.add_argument("device", metavar="DEVICE", help="device as `geotagger clocks` lists it")
    clear.add_argument(
        "--folder", type=Path, default=None, metavar="PATH", help="only this folder (default: all)"
    )
    clear.set_defaults(run=_clear)


def _list(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import clocks  # loaded when the command runs

    columns = TABLE_COLUMNS if args.format == "table" else DATA_COLUMNS
    print_rows(clocks.list_clocks(ctx.library), columns, args.format)
    return 0


def _set(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.locate.clocks import parse_offset
    from geotagger.services import clocks

    try:
        offset = parse_offset(args.offset)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    ctx.say(clocks.set_clock(ctx.library, args.device, offset, args.folder))
    return 0


def _clear(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import clocks

    removed = clocks.clear_clock(ctx.library, args.device, args.folder)
    ctx.say(f"removed {removed} clock(s) set by hand; estimates apply at the next `geotagger locate`")
    return 0
