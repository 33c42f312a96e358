"""``GEOTAGGER_GUI_SCREENSHOT=OUT.png``: save the window once it has painted and its map page has
loaded, then quit.

For smoke tests of installs without a test framework (the self-contained bundle) and for measuring
start-up: the time from the start of the app (Qt, catalog, window) to its first paint is printed on
stderr.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from geotagger.paths import ENV_GUI_SCREENSHOT, env

ENV = ENV_GUI_SCREENSHOT
# After the first paint, wait for the map page (its bridge connected) up to MAP_WAIT_S, then let it
# draw its first frame for SETTLE_MS before the grab.
MAP_WAIT_S = 30.0
SETTLE_MS = 500


def _map_ready(window: QWidget) -> bool:
    ready = getattr(getattr(window, "map", None), "is_ready", True)  # MapPane.is_ready: a property
    return bool(ready() if callable(ready) else ready)


class _FirstPaint(QObject):
    def __init__(self, window: QWidget, out: Path, started: float) -> None:
        super().__init__(window)
        self.window, self.out, self.started, self.done = window, out, started, False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            elapsed = time.monotonic() - self.started
            print(f"geotagger: first window painted after {elapsed:.2f} s", file=sys.stderr)
            self._wait_for_map()
        return False

    def _wait_for_map(self) -> None:
        if _map_ready(self.window):
            elapsed = time.monotonic() - self.started
            print(f"geotagger: map ready after {elapsed:.2f} s", file=sys.stderr)
            QTimer.singleShot(SETTLE_MS, self._grab)
        elif time.monotonic() - self.started > MAP_WAIT_S:
            print(f"geotagger: map not ready after {MAP_WAIT_S:.0f} s", file=sys.stderr)
            QTimer.singleShot(0, self._grab)
        else:
            QTimer.singleShot(50, self._wait_for_map)

    def _grab(self) -> None:
        if not self.window.grab().save(str(self.out)):
            print(f"geotagger: could not save the screenshot to {self.out}", file=sys.stderr)
            QApplication.instance().exit(1)
            return
        QApplication.instance().quit()


def screenshot_on_first_paint(window: QWidget, started: float) -> None:
    """When the environment asks for it, grab ``window`` after its first paint and quit the app."""
    out = env(ENV)
    if out:
        window.installEventFilter(_FirstPaint(window, Path(out).expanduser(), started))
