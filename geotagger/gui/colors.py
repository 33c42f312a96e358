"""Colours with a meaning (errors) chosen against the current palette, so they read in light and dark
themes: Qt's palette has no error role, and BrightText (used before) is near-white on a light theme."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

# Candidate error reds, darkest first; the first that reads on the background (WCAG AA, 4.5:1) wins.
_ERROR_REDS = ("#b00020", "#c62828", "#ff6b6b", "#ff8a80", "#ffb4ab")


def _luminance(color: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio (1 to 21)."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def error_color(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> QColor:
    """A red that reads on ``palette``'s ``role`` background (the one with the most contrast if none
    reaches 4.5:1)."""
    background = palette.color(role)
    reds = [QColor(c) for c in _ERROR_REDS]
    ordered = reds if background.lightness() >= 128 else list(reversed(reds))
    for red in ordered:
        if contrast(red, background) >= 4.5:
            return red
    return max(reds, key=lambda red: contrast(red, background))
