"""Screenshots of the desktop app on a real library, for the README and for looking at the UI.

    python packaging/screenshots.py [--photos DIR] [--out DIR] [--size 1366x768]

Indexes DIR (default: ../shared/data/library-dev/photos) into a temporary library, runs Locate when
the locating service is installed, selects a photo without GPS and saves main.png (system palette)
and main-dark.png (a dark palette) into --out. Runs offscreen when no display is set.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PHOTOS = ROOT.parent / "shared" / "data" / "library-dev" / "photos"


def _dark_palette():
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2b2d",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1f1f21",
        QPalette.ColorRole.AlternateBase: "#2a2a2c",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#353538",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.Highlight: "#3d7fd9",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Mid: "#5a5a5e",
        QPalette.ColorRole.Light: "#4a4a4e",
        QPalette.ColorRole.Midlight: "#404044",
        QPalette.ColorRole.Dark: "#18181a",
        QPalette.ColorRole.Shadow: "#101010",
        QPalette.ColorRole.ToolTipBase: "#353538",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#9a9a9a",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def _wait(app, condition, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return False


def _settle(app, seconds: float) -> None:
    _wait(app, lambda: False, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "geotagger-screenshots")
    parser.add_argument("--size", default="1366x768")
    parser.add_argument("--no-locate", action="store_true", help="skip Locate even when available")
    parser.add_argument("--sources", default="", help="evidence for Locate, e.g. 'time' (default: all)")
    parser.add_argument("--library", type=Path, help="catalog to use; reused as is when it exists")
    args = parser.parse_args()
    if not args.photos.is_dir():
        print(f"error: {args.photos} is not a folder", file=sys.stderr)
        return 1
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)

    from geotagger.gui.app import create_application

    app = create_application()
    from geotagger.gui import ops
    from geotagger.gui.settings import AppSettings
    from geotagger.gui.window import MainWindow
    from geotagger.services import Library, browse

    with tempfile.TemporaryDirectory(prefix="geotagger-shots-") as tmp:
        reuse = args.library is not None and args.library.exists()
        lib = Library(args.library or Path(tmp) / "library.sqlite")
        started = time.monotonic()
        if not reuse:
            ops.require("index")(lib, [args.photos])
            print(f"indexed {args.photos} in {time.monotonic() - started:.1f} s")
        locate = ops.find("locate")
        if locate is not None and not args.no_locate and not reuse:
            started = time.monotonic()
            sources = [x for x in args.sources.split(",") if x] or None
            try:
                locate(lib, sources=sources) if sources else locate(lib)
                print(f"located in {time.monotonic() - started:.1f} s")
            except Exception as exc:  # screenshots are still worth taking; say why there are no suggestions
                print(
                    f"warning: locate failed, no suggestions shown: {type(exc).__name__}: {exc}",
                    file=sys.stderr,
                )
        window = MainWindow(lib, AppSettings(str(Path(tmp) / "settings.ini")), check_tiles=False)
        window.resize(width, height)
        window.show()
        _wait(app, lambda: window.map.is_ready)
        # A photographer's folder and a photo that has suggestions (else any photo without GPS).
        suggested = browse.photo_ids(lib, "suggested") or browse.photo_ids(lib, "no-gps")
        if suggested:
            folder = browse.photo_details(lib, suggested[len(suggested) // 3]).folder
            window.sidebar.select_folder(folder)
            in_folder = [i for i in window.model.ids() if i in set(suggested)]
            window.select_photo(in_folder[min(3, len(in_folder) - 1)])
        _wait(app, lambda: not window.thumbnails.pool.activeThreadCount(), 30)
        _settle(app, 2.0)
        window.statusBar().clearMessage()
        shots = [args.out / "main.png"]
        window.grab().save(str(shots[0]))
        app.setPalette(_dark_palette())  # the window rebuilds its map page for the new palette
        _wait(app, lambda: window.map.is_ready)
        _settle(app, 2.0)
        window.statusBar().clearMessage()
        shots.append(args.out / "main-dark.png")
        window.grab().save(str(shots[1]))
        window.close()
        lib.close()
    for shot in shots:
        print(shot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
