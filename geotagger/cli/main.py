"""Entry point of the ``geotagger`` command. The one place that turns typed errors into
``error: ...`` plus an exit code (0 ok, 1 user-facing error, 2 usage)."""

from __future__ import annotations

import argparse
import codecs
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from geotagger import __version__
from geotagger.cli import commands
from geotagger.cli.context import CliContext
from geotagger.errors import GeotaggerError
from geotagger.paths import ENV_LIBRARY, env
from geotagger.textsafe import terminal_text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geotagger",
        description="Find where photos without GPS were taken, see why, and write it back safely.",
    )
    parser.add_argument("--version", action="version", version=f"geotagger {__version__}")
    parser.add_argument(
        "--library",
        metavar="PATH",
        default=env(ENV_LIBRARY),
        help="catalog file (env GEOTAGGER_LIBRARY; default: in the user data folder)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only results and errors")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more detail (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
    ]
    for module in sorted(modules, key=lambda m: m.ORDER):
        module.register(sub)
    _accept_global_options_after(sub)
    return parser


def _accept_global_options_after(sub: argparse._SubParsersAction) -> None:
    """Let ``--library``, ``-q`` and ``-v`` also follow the command (``geotagger write -q``), as users
    type them. SUPPRESS keeps a value given before the command when it is not repeated after."""
    for parser in sub.choices.values():
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            _accept_global_options_after(nested[0])
            continue
        group = parser.add_argument_group("global options (also accepted before the command)")
        group.add_argument("--library", metavar="PATH", default=argparse.SUPPRESS, help="catalog file")
        group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="less")
        group.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more")


PRINTABLE = "geotagger-printable"


def _escape(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte that was not UTF-8 in a file name (a surrogate escape, U+DC80 to
    U+DCFF) prints as the \\xNN it was; anything else the stream cannot encode as \\uNNNN."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    text = "".join(
        f"\\x{ord(ch) - 0xDC00:02x}"
        if 0xDC80 <= ord(ch) <= 0xDCFF
        else ch.encode("ascii", "backslashreplace").decode()
        for ch in bad
    )
    return text, error.end


codecs.register_error(PRINTABLE, _escape)


def _never_fail_to_print() -> None:
    """Paths may hold bytes that are not UTF-8 (surrogate escapes) and the terminal may not take
    every character: printing escapes them instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=PRINTABLE)


def main(argv: Sequence[str] | None = None) -> int:
    _never_fail_to_print()
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx = CliContext(
        library_location=args.library,
        quiet=args.quiet,
        verbose=args.verbose,
        may_create=getattr(args, "creates_library", False),
    )
    try:
        return int(args.run(args, ctx) or 0)
    except GeotaggerError as exc:
        ctx.stop_progress()
        print(f"error: {terminal_text(str(exc))}", file=sys.stderr)  # one line, whatever a name holds
        return exc.exit_code
    except KeyboardInterrupt:
        ctx.stop_progress()
        print("error: interrupted; the work done so far is kept and the next run resumes", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    finally:
        ctx.close()


if __name__ == "__main__":
    raise SystemExit(main())
