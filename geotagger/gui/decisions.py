"""Review decisions on the shown photos: accept a candidate, reject the suggestions, place on the map.

Each is one small operation through the TaskRunner; success refreshes the views (and moves review on),
failure keeps the error on the photos it concerns so their details say why nothing was recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from geotagger.gui import mapsync, ops
from geotagger.services import browse

if TYPE_CHECKING:
    from geotagger.gui.window import MainWindow


def accept(win: MainWindow, level: str | None = None) -> None:
    """Accept the chosen candidate of one photo, or each selected photo's best candidate."""
    ids = win.selected_ids()
    if not ids or not win.act_accept.isEnabled():
        return
    accept_fn = ops.lazy("accept")
    chosen = win.details.current_candidate() or 0
    rank = None
    if len(ids) == 1 and win.current_details is not None and win.current_details.candidates:
        rank = win.current_details.candidates[chosen].rank
    lib = win.lib

    def work() -> list[int]:
        # One photo: the candidate chosen in the details; several: each photo's best candidate.
        best = browse.best_ranks(lib, ids) if rank is None else {ids[0]: rank}
        for pid in ids:
            if pid not in best:
                continue
            kwargs: dict[str, Any] = {"candidate": best[pid]}
            if level:
                kwargs["level"] = level
            accept_fn(lib, pid, **kwargs)
        return ids

    win.tasks.submit(
        "accept", work, lambda done: after_decision(win, done, advance=True), failed_for(win, ids)
    )


def reject(win: MainWindow) -> None:
    """Reject the suggestions for the selected photos."""
    ids = win.selected_ids()
    if not ids or not win.act_reject.isEnabled():
        return
    reject_fn = ops.lazy("reject")
    lib = win.lib

    def work() -> list[int]:
        for pid in ids:
            reject_fn(lib, pid)
        return ids

    win.tasks.submit(
        "reject", work, lambda done: after_decision(win, done, advance=True), failed_for(win, ids)
    )


def place(win: MainWindow, photo_ids: list[int], lat: float, lon: float, force: bool = False) -> None:
    """Manual placement: an exact location chosen on the map (force: move a photo's own GPS)."""
    accept_fn = ops.lazy("accept")
    lib = win.lib

    def work() -> list[int]:
        for pid in photo_ids:
            accept_fn(lib, pid, lat=lat, lon=lon, level="exact", force=force)
        return photo_ids

    win.tasks.submit(
        "place",
        work,
        lambda done: after_decision(win, done, advance=False),
        failed_for(win, photo_ids),
    )


def after_decision(win: MainWindow, ids: list[int], advance: bool) -> None:
    """Refresh what the decision changed; with one photo decided, review moves on to the next."""
    for pid in ids:
        win.item_errors.pop(pid, None)
    win.model.refresh(ids)
    win.refresh_counts()
    current = win.current_id
    if advance and len(ids) == 1 and ids[0] == current:
        row = win.model.row_of(current)
        if row is not None and row + 1 < win.model.rowCount():
            win.step(1)
            mapsync.show_library(win)
            return
    win.show_photo(current)
    mapsync.show_library(win)


def failed_for(win: MainWindow, ids: list[int]) -> Callable[[BaseException], None]:
    """A failure callback that keeps the error on the photos it concerns (shown in their details)."""

    def failed(exc: BaseException) -> None:
        for pid in ids:
            win.item_errors[pid] = str(exc)
        win.statusBar().showMessage(f"Not recorded: {exc}", 8000)
        if win.current_id in ids:
            win.show_photo(win.current_id)

    return failed


def set_place_mode(win: MainWindow, on: bool) -> None:
    """Place manually (M): the next map click places the selected photos."""
    win.map.call("setPlaceMode", on)
    if on:
        win.statusBar().showMessage("Click the map where the selected photos were taken (Esc cancels)")
    else:
        win.statusBar().clearMessage()


def on_map_click(win: MainWindow, lat: float, lon: float) -> None:
    if not win.act_place.isChecked():
        win.statusBar().showMessage("To place photos by clicking, switch on Place manually (M)", 4000)
        return
    ids = win.selected_ids()
    win.act_place.setChecked(False)
    if ids:
        place(win, ids, lat, lon)


def on_marker_dragged(win: MainWindow, photo_id: int, lat: float, lon: float) -> None:
    if ops.available("accept"):
        # Dragging the photo's own marker is an explicit request to move its recorded location.
        own = win.current_details is not None and win.current_details.id == photo_id
        place(win, [photo_id], lat, lon, force=own and win.current_details.gps_lat is not None)
