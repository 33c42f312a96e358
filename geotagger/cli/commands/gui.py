"""``geotagger gui [PATH]``: open the desktop app (Qt is imported only when this command runs).

A PATH that does not exist is not an error here: the window opens on its first-start page and says so
there, so the README's first command works on a machine without ~/Pictures."""

from __future__ import annotations

import argparse
from pathlib import Path

from geotagger.cli.context import CliContext
from geotagger.errors import GeotaggerError

ORDER = 90


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the desktop app (optionally adding a folder first)")
    p.add_argument("path", nargs="?", metavar="PATH", help="a folder of photos to add and show")
    p.set_defaults(run=run_gui, creates_library=True)


def run_gui(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        from geotagger.gui.app import run  # lazy: the rest of the CLI never loads Qt
        from geotagger.gui.window import MainWindow  # noqa: F401 - fails here if Qt is missing
    except ImportError as exc:
        raise GeotaggerError(f"the desktop app needs Qt for Python (pip install pyside6): {exc}") from exc

    folder = str(Path(args.path).expanduser().resolve()) if args.path else None
    return run(ctx.library_location, folder)
