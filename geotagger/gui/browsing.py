"""What the user is looking at: the filter and scope, the grid's photos, the current photo's details and
the selection. Other controllers ask it which photos to act on and tell it which photos they changed;
it re-reads them from the catalog and keeps the sidebar, grid, details and map in step."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QObject, Signal

from geotagger.catalog.library import Library
from geotagger.errors import GeotaggerError
from geotagger.gui.details import DetailsPane
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.grid import ID_ROLE, PhotoGrid, PhotoGridModel
from geotagger.gui.mapsync import MapSync
from geotagger.gui.sidebar import Sidebar
from geotagger.gui.thumbnails import ThumbnailLoader
from geotagger.services import albums, browse

log = logging.getLogger("geotagger.gui.window")


class Browser(QObject):
    """Owns the view state; ``changed`` fires when the current photo or its details change."""

    changed = Signal()

    def __init__(
        self,
        lib: Library,
        sidebar: Sidebar,
        grid: PhotoGrid,
        model: PhotoGridModel,
        details: DetailsPane,
        thumbnails: ThumbnailLoader,
        mapsync: MapSync,
        status: StatusFeedback,
        show_empty: Callable[[bool], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.lib, self.sidebar, self.grid, self.model = lib, sidebar, grid, model
        self.details, self.thumbnails, self.mapsync, self.status = details, thumbnails, mapsync, status
        self.show_empty = show_empty  # the first-start page instead of the grid while there are no photos
        self.filter_name = "all"
        self.scope: browse.Scope | None = None
        self.current_id: int | None = None
        self.current_details: browse.PhotoDetails | None = None
        self.counts: dict[str, int] = {}
        self.item_errors: dict[int, str] = {}  # the last failed action per photo, this session
        mapsync.still_showing = self._still_showing
        sidebar.filter_changed.connect(self._on_filter)
        sidebar.scope_changed.connect(self._on_scope)
        grid.selectionModel().currentChanged.connect(self._on_current)
        grid.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        details.candidate_selected.connect(self._on_candidate)
        thumbnails.ready.connect(self._on_thumbnail)

    # ------------------------------------------------------------------ reading the catalog
    def reload(self, keep_selection: bool = True) -> None:
        """Re-read counts, folders, albums and the grid from the catalog."""
        self.sidebar.set_tree(browse.folder_tree(self.lib), albums.list_albums(self.lib))
        self.refresh_counts()
        self.mapsync.show_library(self.scope, fit=True)
        self._reload_grid(keep_selection)

    def refresh_counts(self) -> None:
        self.counts = browse.filter_counts(self.lib, self.scope)
        self.sidebar.set_counts(self.counts)

    def _reload_grid(self, keep_selection: bool = True) -> None:
        previous = self.current_id if keep_selection else None
        ids = browse.photo_ids(self.lib, self.filter_name, self.scope)
        self.model.set_ids(ids)
        row = self.model.row_of(previous) if previous is not None else None
        if row is None and ids:
            row = 0
        if row is not None:
            self.grid.setCurrentIndex(self.model.index(row))
        else:
            self.show_photo(None)
        total = self.counts.get("all", 0)
        self.show_empty(total == 0)
        self.status.set_counts(
            f"{len(ids):,} shown · {total:,} photos · {self.counts.get('no-gps', 0):,} without GPS"
        )

    def show_photo(self, photo_id: int | None) -> None:
        self.current_id = photo_id
        details = None
        if photo_id is not None:
            try:
                details = browse.photo_details(self.lib, photo_id)
            except GeotaggerError as exc:
                log.error("%s", exc)
                return
        self.current_details = details
        if details is None:
            self.details.show_details(None)
        else:
            self.details.show_details(
                details, self.thumbnails.pixmap(details.id), self.item_errors.get(details.id)
            )
        self.mapsync.show_candidates(details, fit=True)
        self.changed.emit()

    def after_change(self, ids: list[int], advance: bool = False) -> None:
        """Photos ``ids`` changed in the catalog: refresh them (one decided photo: review moves on)."""
        for pid in ids:
            self.item_errors.pop(pid, None)
        self.model.refresh(ids)
        self.refresh_counts()
        current = self.current_id
        self.mapsync.show_library(self.scope)
        if advance and len(ids) == 1 and ids[0] == current:
            row = self.model.row_of(current)
            if row is not None and row + 1 < self.model.rowCount():
                self.step(1)
                return
        self.show_photo(current)

    def keep_error(self, ids: list[int], exc: BaseException) -> None:
        """An action on ``ids`` failed: their details say why until the next success."""
        for pid in ids:
            self.item_errors[pid] = str(exc)
        if self.current_id in ids:
            self.show_photo(self.current_id)

    # ------------------------------------------------------------------ selection
    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        ids = [self.model.data(self.model.index(r), ID_ROLE) for r in rows]
        if not ids and self.current_id is not None:
            ids = [self.current_id]
        return ids

    def select_photo(self, photo_id: int) -> bool:
        row = self.model.row_of(photo_id)
        if row is None:
            self.sidebar.set_filter("all")
            row = self.model.row_of(photo_id)
        if row is None:
            return False
        index = self.model.index(row)
        self.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.grid.scrollTo(index)
        return True

    def step(self, delta: int) -> None:
        """Make the photo ``delta`` rows away current (stays put at either end of the grid)."""
        current = self.grid.currentIndex()
        row = (current.row() if current.isValid() else -1) + delta
        if 0 <= row < self.model.rowCount():
            index = self.model.index(row)
            self.grid.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.grid.scrollTo(index)

    # ------------------------------------------------------------------ view events
    def _on_filter(self, name: str) -> None:
        self.filter_name = name
        self._reload_grid(keep_selection=True)

    def _on_scope(self, kind: str, value: str) -> None:
        if kind == "folder":
            self.scope = browse.Scope(folder=value)
        elif kind == "album":
            self.scope = browse.Scope(album_ids=tuple(albums.album_photo_ids(self.lib, value)))
        else:
            self.scope = None
        self.refresh_counts()
        self.mapsync.show_library(self.scope, fit=True)
        self._reload_grid(keep_selection=True)

    def _on_current(self, current, _previous) -> None:
        self.show_photo(current.data(ID_ROLE) if current.isValid() else None)

    def _on_thumbnail(self, photo_id: int) -> None:
        if photo_id == self.current_id and not self.details.overlay.isChecked():
            self.details.set_preview(self.thumbnails.pixmap(photo_id))

    def _on_selection(self) -> None:
        self.mapsync.map.call("setSelection", self.selected_ids())

    def _on_candidate(self, index: int) -> None:
        if self.current_details is not None:
            self.mapsync.show_outline(self.current_details, index)

    def _still_showing(self, photo_id: int, index: int) -> bool:
        return self.current_id == photo_id and self.details.current_candidate() == index
