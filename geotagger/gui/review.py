"""Keyboard review: move through the grid (J/K) and choose a candidate (1-5) without the mouse.

Deciding is in decisions.py (Enter accepts, Del rejects); this module only moves the review along.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel

if TYPE_CHECKING:
    from geotagger.gui.window import MainWindow

CANDIDATE_KEYS = 5  # keys 1..5 pick the candidates the details pane lists


def add_shortcuts(win: MainWindow) -> None:
    """The review-only actions: next/previous photo and the candidate number keys."""
    win.act_next = win.add_action("Next photo", lambda: step(win, 1), ["Ctrl+Right", "J"], "Next photo (J)")
    win.act_prev = win.add_action(
        "Previous photo", lambda: step(win, -1), ["Ctrl+Left", "K"], "Previous photo (K)"
    )
    for n in range(1, CANDIDATE_KEYS + 1):
        win.add_action(
            f"Candidate {n}",
            lambda _=False, i=n - 1: pick_candidate(win, i),
            str(n),
            f"Pick candidate {n}",
        )


def pick_candidate(win: MainWindow, index: int) -> None:
    """Choose candidate ``index`` in the details (from a number key or a click on the map)."""
    if win.details.select_candidate(index):
        win.statusBar().showMessage(f"Candidate {index + 1} chosen; Enter accepts", 3000)


def step(win: MainWindow, delta: int) -> None:
    """Make the photo ``delta`` rows away current (stays put at either end of the grid)."""
    current = win.grid.currentIndex()
    row = (current.row() if current.isValid() else -1) + delta
    if 0 <= row < win.model.rowCount():
        index = win.model.index(row)
        win.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        win.grid.scrollTo(index)
