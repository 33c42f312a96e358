"""Keyboard review: move through the grid (J/K) and choose a candidate (1-5) without the mouse.

Deciding is in decisions.py (Enter accepts, Del rejects); this controller only moves the review along."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from geotagger.gui.browsing import Browser
from geotagger.gui.details import DetailsPane
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.qaction import make_action

CANDIDATE_KEYS = 5  # keys 1..5 pick the candidates the details pane lists


class ReviewController:
    """Next/previous photo and the candidate number keys."""

    def __init__(
        self, owner: QWidget, browser: Browser, details: DetailsPane, status: StatusFeedback
    ) -> None:
        self.browser, self.details, self.status = browser, details, status
        self.act_next = make_action(
            owner, "Next photo", lambda: browser.step(1), ["Ctrl+Right", "J"], "Next photo (J)"
        )
        self.act_prev = make_action(
            owner, "Previous photo", lambda: browser.step(-1), ["Ctrl+Left", "K"], "Previous photo (K)"
        )
        self.candidate_actions = [
            make_action(owner, f"Candidate {n}", lambda _=False, i=n - 1: self.pick_candidate(i), str(n))
            for n in range(1, CANDIDATE_KEYS + 1)
        ]

    def pick_candidate(self, index: int) -> None:
        """Choose candidate ``index`` in the details (from a number key or a click on the map)."""
        if self.details.select_candidate(index):
            self.status.show(f"Candidate {index + 1} chosen; Enter accepts", 3000)
