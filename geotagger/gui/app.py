"""Entry point of the desktop app: ``geotagger gui [PATH]`` and ``geotagger-gui``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence

from geotagger.errors import GeotaggerError
from geotagger.paths import ENV_LIBRARY, env


def create_application(argv: Sequence[str] | None = None):
    """The QApplication, created with the attributes QtWebEngine needs (before any widget)."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")  # Chromium refuses to run as root otherwise
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication(list(argv or [sys.argv[0]]))
    app.setApplicationName("geotagger")
    app.setOrganizationName("geotagger")
    app.setApplicationDisplayName("geotagger")
    return app


def run(library_location: str | None = None, folder: str | None = None) -> int:
    """Open the window on a library; with ``folder``, index it first (the window shows progress). A folder
    that does not exist is reported in the window, which opens on its "Add a folder to start" page."""
    started = time.monotonic()
    from geotagger.catalog.library import Library
    from geotagger.gui.first_paint import screenshot_on_first_paint
    from geotagger.gui.window import MainWindow

    app = create_application()
    try:
        lib = Library(library_location)
    except GeotaggerError as exc:
        from geotagger.gui.plain import critical

        critical(None, "geotagger", str(exc))
        return 1
    window = MainWindow(lib)
    screenshot_on_first_paint(window, started)
    window.show()
    if folder:
        window.add_folder(folder)
    code = app.exec()
    lib.close()
    return int(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="geotagger-gui", description="The geotagger desktop app.")
    parser.add_argument("path", nargs="?", help="a folder of photos to add and show")
    parser.add_argument("--library", default=env(ENV_LIBRARY), help="catalog file")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING
    )
    return run(args.library, args.path)


if __name__ == "__main__":
    raise SystemExit(main())
