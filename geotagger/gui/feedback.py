"""Task feedback in the status bar: counts, progress and Cancel of the long job, the error count, and
short messages. Controllers get this object as their status sink; it only shows what it is told.

The TaskRunner reports on the GUI thread; failures are logged (one line, into the log view); the errors
button opens that log."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from geotagger.errors import GeotaggerError
from geotagger.gui.logview import LogView
from geotagger.gui.tasks import TaskRunner

log = logging.getLogger("geotagger.gui.window")  # the log view names the window, as before the split


class StatusFeedback:
    """Counts text on the left; progress, Cancel and the error count on the right (hidden when idle)."""

    def __init__(
        self,
        bar: QStatusBar,
        tasks: TaskRunner,
        logview: LogView,
        cancel_action: QAction,
        show_log: Callable[[], None],
    ) -> None:
        self.bar = bar
        self.cancel_action = cancel_action
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # progress texts name files and albums
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(tasks.cancel)
        self.cancel_button.setVisible(False)
        self.errors_button = QPushButton("")
        self.errors_button.setFlat(True)
        self.errors_button.clicked.connect(show_log)
        self.errors_button.setVisible(False)
        bar.addWidget(self.label, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.errors_button)
        tasks.progress.connect(self._on_progress)
        tasks.long_started.connect(self._on_long_started)
        tasks.long_finished.connect(self._on_long_finished)
        tasks.failed.connect(self._on_failed)
        logview.errors_changed.connect(self._on_error_count)

    def show(self, message: str, msecs: int = 8000) -> None:
        """A transient message (0: until the next one)."""
        self.bar.showMessage(message, msecs)

    def clear(self) -> None:
        self.bar.clearMessage()

    def set_counts(self, text: str) -> None:
        self.label.setText(text)

    def _on_long_started(self, name: str) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.cancel_button.setVisible(True)
        self.cancel_action.setEnabled(True)
        self.label.setText(f"{name.capitalize()}…")

    def _on_progress(self, name: str, done, total, description: str) -> None:
        if total:
            self.progress.setRange(0, int(total))
            self.progress.setValue(int(done))
            self.progress.setFormat("%v / %m")
        self.label.setText(f"{description or name.capitalize()}…")

    def _on_long_finished(self, name: str, ok: bool, message: str) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.cancel_action.setEnabled(False)
        if not ok:
            self.show(f"{name.capitalize()} stopped: {message}", 10000)

    @staticmethod
    def _on_failed(name: str, exc: BaseException) -> None:
        if isinstance(exc, GeotaggerError):
            log.error("%s: %s", name, exc)
        else:
            log.error("%s failed unexpectedly: %s: %s", name, type(exc).__name__, exc)

    def _on_error_count(self, count: int) -> None:
        self.errors_button.setVisible(count > 0)
        self.errors_button.setText(f"{count} error{'s' if count != 1 else ''} - show log")
