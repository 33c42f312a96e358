"""``GEOTAGGER_GUI_SCREENSHOT=OUT.png``: save the window once it has painted, then quit.

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
# Let the first paint settle (layouts, the map page's first frame) before the grab.
SETTLE_MS = 500


class _FirstPaint(QObject):
    def __init__(self, window: QWidget, out: Path, started: float) -> None:
        super().__init__(window)
        self.window, self.out, self.started, self.done = window, out, started, False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            elapsed = time.monotonic() - self.started
            print(f"geotagger: first window painted after {elapsed:.2f} s", file=sys.stderr)
            QTimer.singleShot(SETTLE_MS, self._grab)
        return False

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
