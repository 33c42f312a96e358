"""Text from photos (file names, paths, EXIF, evidence) shown as text, never interpreted as HTML.

Qt guesses: a QLabel, QMessageBox or tool tip in AutoText mode renders its text as rich text when
``Qt.mightBeRichText`` says so, so a file named ``<img src=x.png>.jpg`` would show a local image.
Labels that show photo values get PlainText; tool tips (which have no format setting) are escaped.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that always shows its text literally."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def rich(text: str) -> str:
    """``text`` escaped for a place that renders rich text (line breaks kept)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    return html.escape(lines, quote=False).replace("\n", "<br>")


def tooltip(text: str) -> str:
    """A tool tip showing ``text`` literally: escaped and marked as rich text when Qt would guess HTML."""
    if not GuiQt.mightBeRichText(text):
        return text
    return f"<p style='white-space:pre-wrap'>{rich(text)}</p>"


def critical(parent: QWidget | None, title: str, text: str) -> None:
    """QMessageBox.critical with the text shown as plain text (it often holds a path)."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()
