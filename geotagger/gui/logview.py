"""The log view: Python logging (warnings and errors of the app, its tasks and the map page's JS)
shown in a dock, so problems are visible without a crash or a modal dialog."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


class _Emitter(QObject):
    record = Signal(int, str)


class QtLogHandler(logging.Handler):
    """A logging handler safe to call from any thread: records are queued to the GUI thread."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.emitter = _Emitter()
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        # RuntimeError: the window is gone while a worker still logs.
        with contextlib.suppress(RuntimeError):
            self.emitter.record.emit(record.levelno, self.format(record))


class LogView(QWidget):
    """Read-only list of messages; counts errors so the status bar can point to them."""

    errors_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(5000)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        clear = QPushButton("Clear", self)
        clear.clicked.connect(self.clear)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.text)
        layout.addLayout(row)
        self.error_count = 0
        self.handler = QtLogHandler()
        self.handler.emitter.record.connect(self.add)

    def add(self, level: int, message: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        name = logging.getLevelName(level)
        self.text.appendPlainText(f"{stamp} {name:<7} {message}")
        if level >= logging.ERROR:
            self.error_count += 1
            self.errors_changed.emit(self.error_count)

    def clear(self) -> None:
        self.text.clear()
        self.error_count = 0
        self.errors_changed.emit(0)

    def messages(self) -> str:
        return self.text.toPlainText()
