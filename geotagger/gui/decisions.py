"""Review decisions on the shown photos: accept a candidate, reject the suggestions, place on the map.

Each is one small operation through the TaskRunner around ``services.decisions``; success refreshes the
views (and moves review on) and tells the history; failure keeps the error on the photos it concerns so
their details say why nothing was recorded. A written photo's location is final here: undo the write
(history) to decide again."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QWidget

from geotagger.catalog.library import Library
from geotagger.errors import UserInputError
from geotagger.gui.browsing import Browser
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.mappane import MapPane
from geotagger.gui.qaction import make_action
from geotagger.gui.settings import AppSettings
from geotagger.gui.tasks import TaskRunner
from geotagger.services import browse, decisions

log = logging.getLogger("geotagger.gui.window")


def _batch(ids: list[int]) -> str | None:
    """One id for the decisions of one action on several photos: the history undoes them together."""
    return uuid.uuid4().hex if len(ids) > 1 else None


class DecisionController:
    """Accept (Enter), Region only, Country only, Reject (Del) and Place manually (M)."""

    def __init__(
        self,
        owner: QWidget,
        lib: Library,
        tasks: TaskRunner,
        browser: Browser,
        map_pane: MapPane,
        status: StatusFeedback,
        settings: AppSettings,
        on_recorded: Callable[[], None],
    ) -> None:
        self.lib, self.tasks, self.browser, self.map, self.status = lib, tasks, browser, map_pane, status
        self.settings = settings
        self.on_recorded = on_recorded
        a = make_action
        self.act_accept = a(
            owner, "Accept", lambda: self.accept(), ["Return", "Enter"], "Accept the chosen candidate (Enter)"
        )
        self.act_accept_region = a(
            owner, "Region only", lambda: self.accept("region"), "Shift+R", "Accept only the region"
        )
        self.act_accept_country = a(
            owner, "Country only", lambda: self.accept("country"), "Shift+C", "Accept only the country"
        )
        self.act_reject = a(
            owner, "Reject", self.reject, ["Del", "Backspace"], "Reject the suggestions (Del)"
        )
        self.act_place = a(
            owner,
            "Place manually",
            self.set_place_mode,
            "M",
            "Click the map to place the selected photos (M)",
            True,
        )
        map_pane.bridge.clicked.connect(self.on_map_click)
        map_pane.bridge.dragged.connect(self.on_marker_dragged)
        browser.changed.connect(self.update)

    @property
    def actions(self) -> list:
        return [
            self.act_accept,
            self.act_accept_region,
            self.act_accept_country,
            self.act_reject,
            self.act_place,
        ]

    def update(self) -> None:
        """Enable what applies to the current photo: nothing to accept once its location is written."""
        d = self.browser.current_details
        written = d is not None and d.review_state == "written"
        can_accept = bool(d and d.candidates) and not written
        for action in (self.act_accept, self.act_accept_region, self.act_accept_country):
            action.setEnabled(can_accept)
            action.setToolTip(
                "The location is written to the file; undo the write to choose again"
                if written
                else action.statusTip()
            )
        self.act_reject.setEnabled(d is not None and not written)
        self.act_place.setEnabled(d is not None)

    def accept(self, level: str | None = None) -> None:
        """Accept the chosen candidate of one photo; with several selected, each one's best candidate
        when its confidence reaches the review threshold (Settings: Minimum confidence)."""
        ids = self.browser.selected_ids()
        if not ids or not self.act_accept.isEnabled():
            return
        details = self.browser.current_details
        chosen = self.browser.details.current_candidate() or 0
        rank = None
        if len(ids) == 1 and details is not None and details.candidates:
            rank = details.candidates[chosen].rank
        lib, threshold = self.lib, self.settings.min_confidence
        batch = _batch(ids)

        def work() -> list[int]:
            if rank is not None:
                best = {ids[0]: rank}
            else:
                rows = browse.photo_rows(lib, ids)
                confident = [p for p in ids if p in rows and (rows[p].best_confidence or 0.0) >= threshold]
                best = browse.best_ranks(lib, confident)
            done = []
            for pid in ids:
                if pid not in best:
                    continue
                kwargs: dict[str, Any] = {"candidate": best[pid], "batch": batch}
                if level:
                    kwargs["level"] = level
                decisions.accept(lib, pid, **kwargs)
                done.append(pid)
            return done

        def accepted(done: list[int]) -> None:
            if len(ids) > 1:
                skipped = len(ids) - len(done)
                note = (
                    f"; {skipped} below {threshold:.0%} confidence or without suggestions left"
                    if skipped
                    else ""
                )
                self.status.show(f"Accepted {len(done)} photo(s){note}", 8000)
            self._recorded(done, advance=True)

        self.tasks.submit("accept", work, accepted, self._failed_for(ids))

    def reject(self) -> None:
        """Reject the suggestions for the selected photos."""
        ids = self.browser.selected_ids()
        if not ids or not self.act_reject.isEnabled():
            return
        lib = self.lib
        batch = _batch(ids)

        def work() -> list[int]:
            for pid in ids:
                decisions.reject(lib, pid, batch=batch)
            return ids

        self.tasks.submit(
            "reject", work, lambda done: self._recorded(done, advance=True), self._failed_for(ids)
        )

    def place(
        self, photo_ids: list[int], lat: float, lon: float, force: bool = False, level: str = "exact"
    ) -> None:
        """Manual placement: a location chosen on the map or copied from a photo (``level``: how precise
        it is; force: move a photo's own GPS). Photos that cannot take it keep the reason."""
        lib = self.lib
        batch = _batch(photo_ids)

        def work() -> tuple[list[int], list[tuple[int, UserInputError]]]:
            done: list[int] = []
            refused: list[tuple[int, UserInputError]] = []
            for pid in photo_ids:
                try:
                    decisions.accept(lib, pid, lat=lat, lon=lon, level=level, force=force, batch=batch)
                except UserInputError as exc:
                    refused.append((pid, exc))
                    continue
                done.append(pid)
            if refused and not done:
                raise refused[0][1]
            return done, refused

        def placed(result: tuple[list[int], list[tuple[int, UserInputError]]]) -> None:
            done, refused = result
            self._recorded(done, advance=False)
            for pid, exc in refused:  # the others were placed; these keep their reason
                log.error("place: %s", exc)
                self.browser.keep_error([pid], exc)

        self.tasks.submit("place", work, placed, self._failed_for(photo_ids))

    def _recorded(self, ids: list[int], advance: bool) -> None:
        self.browser.after_change(ids, advance=advance)
        self.on_recorded()

    def _failed_for(self, ids: list[int]) -> Callable[[BaseException], None]:
        """A failure callback that keeps the error on the photos it concerns (shown in their details)."""

        def failed(exc: BaseException) -> None:
            self.status.show(f"Not recorded: {exc}", 8000)
            self.browser.keep_error(ids, exc)

        return failed

    def set_place_mode(self, on: bool) -> None:
        """Place manually (M): the next map click places the selected photos."""
        self.map.call("setPlaceMode", on)
        if on:
            self.status.show("Click the map where the selected photos were taken (Esc cancels)", 0)
        else:
            self.status.clear()

    def on_map_click(self, lat: float, lon: float) -> None:
        if not self.act_place.isChecked():
            self.status.show("To place photos by clicking, switch on Place manually (M)", 4000)
            return
        ids = self.browser.selected_ids()
        self.act_place.setChecked(False)
        if ids:
            self.place(ids, lat, lon)

    def on_marker_dragged(self, photo_id: int, lat: float, lon: float) -> None:
        # Dragging the photo's own marker is an explicit request to move its recorded location.
        d = self.browser.current_details
        own = d is not None and d.id == photo_id and d.gps_lat is not None
        self.place([photo_id], lat, lon, force=own)
