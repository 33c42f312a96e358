"""`geotagger album create|add|remove|list|delete`."""

from __future__ import annotations

import argparse

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows
from geotagger.services.filters import FILTERS

ORDER = 80


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("album", help="create albums and put photos in them (for export)")
    actions = parser.add_subparsers(dest="album_action", metavar="ACTION", required=True)

    create = actions.add_parser(
        "create", help="a new album; with --filter it always holds the matching photos"
    )
    create.add_argument("name", metavar="NAME", help="album name")
    create.add_argument("--filter", choices=FILTERS, help="make a smart album of the photos matching FILTER")
    create.set_defaults(run=_create)

    for verb, helptext, fn in (("add", "add photos", _add), ("remove", "remove photos", _remove)):
        action = actions.add_parser(verb, help=f"{helptext} (paths or catalog ids)")
        action.add_argument("name", metavar="NAME", help="album name")
        action.add_argument("photos", nargs="+", metavar="PHOTO", help="paths or catalog ids")
        action.set_defaults(run=fn)

    listing = actions.add_parser("list", help="albums with their photo counts")
    listing.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    listing.set_defaults(run=_list)

    remove = actions.add_parser("delete", help="delete an album (its photos stay in the library)")
    remove.add_argument("name", metavar="NAME", help="album name")
    remove.set_defaults(run=_delete)


def _create(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import albums

    album = albums.create_album(ctx.library, args.name, filter=args.filter)
    ctx.say(f"created album {album.name!r}")
    return 0


def _add(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import albums

    added = albums.add_photos(ctx.library, args.name, args.photos)
    ctx.say(f"added {added} photo(s) to {args.name!r}")
    return 0


def _remove(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import albums

    removed = albums.remove_photos(ctx.library, args.name, args.photos)
    ctx.say(f"removed {removed} photo(s) from {args.name!r}")
    return 0


def _list(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import albums

    print_rows(albums.list_albums(ctx.library), ["name", "photos", "filter", "created"], args.format)
    return 0


def _delete(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import albums

    albums.delete_album(ctx.library, args.name)
    ctx.say(f"deleted album {args.name!r}")
    return 0
