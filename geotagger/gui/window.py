"""The main window: sidebar | thumbnail grid | details over map. Holds no business logic: it builds the
layout, wires the views together and keeps them in step with the catalog. What the actions do lives
in small modules: actions.py (library jobs), decisions.py (accept/reject/place), review.py (keyboard
review) and feedback.py (progress and errors in the status bar)."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelectionModel, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QStackedWidget, QToolBar, QWidget

from geotagger.catalog.library import Library
from geotagger.errors import GeotaggerError
from geotagger.gui import actions, decisions, feedback, mapsync, ops, review
from geotagger.gui.details import DetailsPane
from geotagger.gui.emptystate import EmptyState
from geotagger.gui.grid import ID_ROLE, PhotoGrid, PhotoGridModel
from geotagger.gui.logview import LogView
from geotagger.gui.mappane import MapPane
from geotagger.gui.plain import tooltip
from geotagger.gui.settings import AppSettings, SettingsDialog
from geotagger.gui.sidebar import Sidebar
from geotagger.gui.tasks import TaskRunner
from geotagger.gui.thumbnails import ThumbnailLoader
from geotagger.services import browse

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, lib: Library, settings: AppSettings | None = None, check_tiles: bool = True) -> None:
        super().__init__()
        self.lib = lib
        self.settings = settings or AppSettings()
        self.setWindowTitle(f"geotagger - {lib.location}")
        self.tasks = TaskRunner(self)
        self.filter_name = "all"
        self.scope: browse.Scope | None = None
        self.current_id: int | None = None
        self.current_details: browse.PhotoDetails | None = None
        self.item_errors: dict[int, str] = {}  # the last failed action per photo, this session

        self.logview = LogView()
        logging.getLogger("geotagger").addHandler(self.logview.handler)
        self.thumbnails = ThumbnailLoader(self._thumbnail_source, parent=self)
        self.model = PhotoGridModel(lambda ids: browse.photo_rows(self.lib, ids), self.thumbnails, self)
        self.grid = PhotoGrid()
        self.grid.setModel(self.model)
        self.sidebar = Sidebar()
        self.details = DetailsPane()
        self.check_tiles = check_tiles
        self.map = MapPane(tiles=None)  # offline first; online tiles once the server answered
        self.map.setMinimumHeight(220)

        self._build_actions()
        self._build_layout()
        self._connect()
        self.update_actions()
        self.reload()
        self.apply_tile_setting()
        # Import the services in the background so the first click does not wait for them.
        self.tasks.submit("prepare", ops.preload, lambda _broken: self.update_actions())

    # ---------------------------------------------------------------- construction
    def add_action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tip or text)
        action.setStatusTip(tip or text)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self.add_action
        self.act_add = a(
            "Add folder…", self.add_folder, QKeySequence.StandardKey.Open, "Index a folder of photos"
        )
        self.act_locate = a("Locate", self.locate, "Ctrl+L", "Estimate where photos without GPS were taken")
        self.act_cancel = a("Cancel", self.tasks.cancel, "Esc", "Stop the running job (work done is kept)")
        self.act_accept = a(
            "Accept", lambda: self.accept(), ["Return", "Enter"], "Accept the chosen candidate (Enter)"
        )
        self.act_accept_region = a(
            "Region only", lambda: self.accept("region"), "Shift+R", "Accept only the region"
        )
        self.act_accept_country = a(
            "Country only", lambda: self.accept("country"), "Shift+C", "Accept only the country"
        )
        self.act_reject = a("Reject", self.reject, ["Del", "Backspace"], "Reject the suggestions (Del)")
        self.act_place = a(
            "Place manually", self.set_place_mode, "M", "Click the map to place the selected photos (M)", True
        )
        self.act_write = a("Write", self.write, "Ctrl+W", "Write accepted locations into the files")
        self.act_undo = a(
            "Undo", self.undo, QKeySequence.StandardKey.Undo, "Undo the last write or decision (Ctrl+Z)"
        )
        self.act_export = a("Export…", self.export, "Ctrl+E", "Export the shown photos as an album")
        self.act_settings = a("Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        self.act_log = a("Log", self.toggle_log, "Ctrl+Shift+L", "Show messages and errors")
        review.add_shortcuts(self)
        self.act_cancel.setEnabled(False)

    def _build_layout(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.setIconSize(QSize(16, 16))
        for action in (
            self.act_add,
            self.act_locate,
            None,
            self.act_write,
            self.act_undo,
            None,
            self.act_export,
        ):
            if action is None:
                bar.addSeparator()
            else:
                bar.addAction(action)
        spacer = QWidget()
        spacer.setSizePolicy(
            spacer.sizePolicy().horizontalPolicy().Expanding, spacer.sizePolicy().verticalPolicy()
        )
        bar.addWidget(spacer)
        bar.addAction(self.act_settings)
        self.addToolBar(bar)

        for action in (
            self.act_accept,
            self.act_accept_region,
            self.act_accept_country,
            self.act_reject,
            self.act_place,
        ):
            self.details.add_action_button(action)
        self.details.finish_buttons()

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.details)
        right.addWidget(self.map)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        right.setSizes([380, 360])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.sidebar)
        self.empty_state = EmptyState(self.act_add)
        self.center = QStackedWidget()  # the grid, or the first-start page while there are no photos
        self.center.addWidget(self.grid)
        self.center.addWidget(self.empty_state)
        main.addWidget(self.center)
        main.addWidget(right)
        main.setStretchFactor(0, 0)
        main.setStretchFactor(1, 1)
        main.setStretchFactor(2, 1)
        main.setSizes([210, 560, 560])
        main.setChildrenCollapsible(False)
        self.setCentralWidget(main)
        self.splitter = main

        dock = QDockWidget("Log", self)
        dock.setObjectName("log-dock")
        dock.setWidget(self.logview)
        dock.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()
        self.log_dock = dock

        feedback.build_status_bar(self)
        self.resize(1366, 768)

    def _connect(self) -> None:
        self.sidebar.filter_changed.connect(self._on_filter)
        self.sidebar.scope_changed.connect(self._on_scope)
        self.grid.selectionModel().currentChanged.connect(self._on_current)
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.details.candidate_selected.connect(self._on_candidate)
        self.details.overlay_toggled.connect(partial(actions.explain_overlay, self))
        self.map.bridge.clicked.connect(partial(decisions.on_map_click, self))
        self.map.bridge.dragged.connect(partial(decisions.on_marker_dragged, self))
        self.map.bridge.candidate_picked.connect(self.pick_candidate)
        self.map.bridge.photo_picked.connect(self.select_photo)
        self.thumbnails.ready.connect(self._on_thumbnail)
        feedback.connect(self)

    # ---------------------------------------------------------------- data -> views
    def _thumbnail_source(self, photo_id: int) -> Path:
        """Called in loader threads: the cached thumbnail file (made by the indexing service)."""
        thumbnail = ops.find("thumbnail")
        if thumbnail is not None:
            return thumbnail(self.lib, photo_id, 256)
        return Path(browse.paths_of(self.lib, [photo_id])[photo_id])

    def reload(self, keep_selection: bool = True) -> None:
        """Re-read counts, folders and the grid from the catalog."""
        albums = []
        list_albums = ops.find("list_albums")
        if list_albums is not None:
            albums = list_albums(self.lib)
        self.sidebar.set_tree(browse.folder_tree(self.lib), albums)
        self.refresh_counts()
        mapsync.show_library(self, fit=True)
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
        self.center.setCurrentWidget(self.empty_state if total == 0 else self.grid)
        self.status_label.setText(
            f"{len(ids):,} shown · {total:,} photos · {self.counts.get('no-gps', 0):,} without GPS"
        )

    def show_photo(self, photo_id: int | None) -> None:
        self.current_id = photo_id
        if photo_id is None:
            self.current_details = None
            self.details.show_details(None)
            self.map.call("clearCandidates")
            self.update_actions()
            return
        try:
            details = browse.photo_details(self.lib, photo_id)
        except GeotaggerError as exc:
            log.error("%s", exc)
            return
        self.current_details = details
        self.details.show_details(details, self.thumbnails.pixmap(photo_id), self.item_errors.get(photo_id))
        mapsync.show_candidates(self, fit=True)
        self.update_actions()

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

    def update_actions(self) -> None:
        has_photo = self.current_details is not None
        has_cands = bool(self.current_details and self.current_details.candidates)
        long_running = self.tasks.long_task is not None
        wanted = {
            self.act_add: ("index", True),
            self.act_locate: ("locate", True),
            self.act_accept: ("accept", has_cands),
            self.act_accept_region: ("accept", has_cands),
            self.act_accept_country: ("accept", has_cands),
            self.act_reject: ("reject", has_photo),
            self.act_place: ("accept", has_photo),
            self.act_write: ("write", True),
            self.act_undo: ("undo", True),
            self.act_export: ("export", True),
        }
        for action, (op, ok) in wanted.items():
            available = ops.available(op)
            action.setEnabled(
                available
                and ok
                and not (long_running and action in (self.act_add, self.act_locate, self.act_write))
            )
            if not available:
                action.setToolTip(tooltip(ops.missing_reason(op)))
        self.details.overlay.setEnabled(has_cands and ops.available("explain"))
        if not ops.available("explain"):
            self.details.overlay.setToolTip(tooltip(ops.missing_reason("explain")))

    # ---------------------------------------------------------------- view events
    def _on_filter(self, name: str) -> None:
        self.filter_name = name
        self._reload_grid(keep_selection=True)

    def _on_scope(self, kind: str, value: str) -> None:
        if kind == "folder":
            self.scope = browse.Scope(folder=value)
        elif kind == "album":
            album_ids = ops.require("album_photo_ids")(self.lib, value)
            self.scope = browse.Scope(album_ids=tuple(album_ids))
        else:
            self.scope = None
        self.refresh_counts()
        mapsync.show_library(self, fit=True)
        self._reload_grid(keep_selection=True)

    def _on_current(self, current, _previous) -> None:
        self.show_photo(current.data(ID_ROLE) if current.isValid() else None)

    def _on_thumbnail(self, photo_id: int) -> None:
        if photo_id == self.current_id and not self.details.overlay.isChecked():
            self.details.set_preview(self.thumbnails.pixmap(photo_id))

    def _on_selection(self) -> None:
        self.map.call("setSelection", self.selected_ids())

    def _on_candidate(self, index: int) -> None:
        actions.explain_overlay(self, self.details.overlay.isChecked())
        mapsync.show_outline(self, index)

    # ---------------------------------------------------------------- actions (see the modules)
    def add_folder(self, folder: str | None = None) -> None:
        if folder and not Path(folder).is_dir():
            self.report_missing_folder(folder)
            return
        self.empty_state.set_problem("")
        actions.add_folder(self, folder)

    def report_missing_folder(self, folder: str) -> None:
        """A folder from the command line that is not there: say so in the window, never exit (first start)."""
        what = "is not a folder" if Path(folder).exists() else "does not exist"
        message = f"{folder} {what}: choose a folder of photos"
        log.warning("%s", message)
        self.empty_state.set_problem(message)
        self.statusBar().showMessage(message, 15000)

    def locate(self) -> None:
        actions.locate(self)

    def write(self) -> None:
        actions.write(self)

    def undo(self) -> None:
        actions.undo(self)

    def export(self) -> None:
        actions.export(self)

    def accept(self, level: str | None = None) -> None:
        decisions.accept(self, level)

    def reject(self) -> None:
        decisions.reject(self)

    def place(self, photo_ids: list[int], lat: float, lon: float, force: bool = False) -> None:
        """Manual placement: an exact location chosen on the map (force: move a photo's own GPS)."""
        decisions.place(self, photo_ids, lat, lon, force)

    def set_place_mode(self, on: bool) -> None:
        decisions.set_place_mode(self, on)

    def pick_candidate(self, index: int) -> None:
        review.pick_candidate(self, index)

    def step(self, delta: int) -> None:
        review.step(self, delta)

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            before = self.settings.get("map/tiles")
            dialog.save()
            if self.settings.get("map/tiles") != before:
                self.apply_tile_setting()

    def apply_tile_setting(self) -> None:
        mapsync.apply_tile_setting(self)

    def toggle_log(self) -> None:
        self.log_dock.setVisible(not self.log_dock.isVisible())

    def changeEvent(self, event) -> None:  # noqa: N802
        """Light/dark switch of the system: rebuild the map page with colours from the new palette."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "map"):
            mapsync.rebuild(self, self.map.tiles)
            if self.details.current_candidate() is not None:
                self._on_candidate(self.details.current_candidate())
        super().changeEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.tasks.cancel()
        self.tasks.wait(5000)
        self.thumbnails.wait(5000)
        logging.getLogger("geotagger").removeHandler(self.logview.handler)
        super().closeEvent(event)
