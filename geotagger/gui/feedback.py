"""Task feedback in the status bar: progress and Cancel of the long job, and the error count.

The TaskRunner reports on the GUI thread; these handlers only show what it says. Failures are logged
(one line, into the log view); the errors button opens that log.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

from geotagger.errors import GeotaggerError

if TYPE_CHECKING:
    from geotagger.gui.window import MainWindow

log = logging.getLogger("geotagger.gui.window")  # the log view names the window, as before the split


def build_status_bar(win: MainWindow) -> None:
    """Counts text on the left; progress, Cancel and the error count on the right (hidden when idle)."""
    status = win.statusBar()
    win.status_label = QLabel()
    win.status_label.setTextFormat(Qt.TextFormat.PlainText)  # progress texts name files and albums
    win.progress = QProgressBar()
    win.progress.setMaximumWidth(220)
    win.progress.setVisible(False)
    win.cancel_button = QPushButton("Cancel")
    win.cancel_button.clicked.connect(win.tasks.cancel)
    win.cancel_button.setVisible(False)
    win.errors_button = QPushButton("")
    win.errors_button.setFlat(True)
    win.errors_button.clicked.connect(win.toggle_log)
    win.errors_button.setVisible(False)
    status.addWidget(win.status_label, 1)
    status.addPermanentWidget(win.progress)
    status.addPermanentWidget(win.cancel_button)
    status.addPermanentWidget(win.errors_button)


def connect(win: MainWindow) -> None:
    """Show the TaskRunner's reports and the log view's error count."""
    win.tasks.progress.connect(partial(on_progress, win))
    win.tasks.long_started.connect(partial(on_long_started, win))
    win.tasks.long_finished.connect(partial(on_long_finished, win))
    win.tasks.failed.connect(on_failed)
    win.logview.errors_changed.connect(partial(on_error_count, win))


def on_long_started(win: MainWindow, name: str) -> None:
    win.progress.setVisible(True)
    win.progress.setRange(0, 0)
    win.cancel_button.setVisible(True)
    win.act_cancel.setEnabled(True)
    win.status_label.setText(f"{name.capitalize()}…")
    win.update_actions()


def on_progress(win: MainWindow, name: str, done, total, description: str) -> None:
    if total:
        win.progress.setRange(0, int(total))
        win.progress.setValue(int(done))
        win.progress.setFormat("%v / %m")
    win.status_label.setText(f"{description or name.capitalize()}…")


def on_long_finished(win: MainWindow, name: str, ok: bool, message: str) -> None:
    win.progress.setVisible(False)
    win.cancel_button.setVisible(False)
    win.act_cancel.setEnabled(False)
    if not ok:
        win.statusBar().showMessage(f"{name.capitalize()} stopped: {message}", 10000)
    win.update_actions()


def on_failed(name: str, exc: BaseException) -> None:
    if isinstance(exc, GeotaggerError):
        log.error("%s: %s", name, exc)
    else:
        log.error("%s failed unexpectedly: %s: %s", name, type(exc).__name__, exc)


def on_error_count(win: MainWindow, count: int) -> None:
    win.errors_button.setVisible(count > 0)
    win.errors_button.setText(f"{count} error{'s' if count != 1 else ''} - show log")
