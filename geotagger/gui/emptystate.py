"""The first-start page shown in place of the photo grid while the catalog holds no photos: a new user
(or a folder that does not exist) gets a clear next step instead of an empty grid or an exit."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

TITLE = "Add a folder to start"
HINT = "geotagger indexes the photos in a folder, finds those without GPS and suggests where they were taken."


class EmptyState(QWidget):
    """A title, a one-line hint, an optional problem line and a button that triggers ``action``."""

    def __init__(self, action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(TITLE)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title.setFont(font)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)  # it names user paths
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.setVisible(False)
        self.button = QPushButton("Choose a folder…")
        self.button.setDefault(True)
        self.button.clicked.connect(action.trigger)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (self.title, self.hint, self.problem):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(widget)
        layout.addSpacing(12)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        layout.setContentsMargins(24, 24, 24, 24)

    def set_problem(self, text: str) -> None:
        """Say why nothing is shown yet (e.g. the folder given on the command line does not exist)."""
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
