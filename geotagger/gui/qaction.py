"""QActions made one way: text, shortcut(s), tool tip and status tip, window-wide shortcut context.

Each controller creates the actions it owns with ``make_action`` on the window (the shortcut scope) and
connects them to its own slots; the window only places them in tool bars, menus and buttons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

Shortcut = str | QKeySequence | QKeySequence.StandardKey


def make_action(
    owner: QWidget,
    text: str,
    slot: Callable[..., Any],
    shortcut: Shortcut | Sequence[Shortcut] | None = None,
    tip: str = "",
    checkable: bool = False,
) -> QAction:
    """An action on ``owner`` (its shortcuts work anywhere in that window)."""
    action = QAction(text, owner)
    if shortcut is not None:
        shortcuts = list(shortcut) if isinstance(shortcut, list | tuple) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip(tip or text)
    action.setStatusTip(tip or text)
    action.setCheckable(checkable)
    (action.toggled if checkable else action.triggered).connect(slot)
    owner.addAction(action)
    return action


class _TypingKeys(QObject):
    """Claims plain keys (no Ctrl/Alt/Meta) for a text field, so review shortcuts (J, K, M, 1-5, Enter,
    Del, Backspace) type or edit there instead of acting on photos. Esc still reaches the window."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ShortcutOverride:
            mods = (
                event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier & ~Qt.KeyboardModifier.KeypadModifier
            )
            if mods == Qt.KeyboardModifier.NoModifier and event.key() != Qt.Key.Key_Escape:
                event.accept()
        return False


def keep_typing_keys(field: QWidget) -> None:
    """Let ``field`` (a line edit in a window with single-key shortcuts) keep the keys typed into it."""
    field.installEventFilter(_TypingKeys(field))
