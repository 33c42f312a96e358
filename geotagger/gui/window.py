"""The main window: sidebar | thumbnail grid | details over map, a Log and a History dock.

It only lays out and wires. What the actions do lives in controllers, each built here with what it
needs: Browser (browsing.py: what is shown), MapSync (mapsync.py), ReviewController (review.py: J/K,
1-5), DecisionController (decisions.py: accept/reject/place), LibraryJobs (actions.py: index, locate,
write, export, explain), HistoryController (history.py: undo and the History panel) and StatusFeedback
(feedback.py: the status bar) and PlacingController (placing.py: drop on the map, copy/paste a
location, place like a photo)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QStackedWidget, QToolBar, QWidget

from geotagger.catalog.library import Library
from geotagger.gui.actions import LibraryJobs
from geotagger.gui.browsing import Browser
from geotagger.gui.clock_dialog import ClockPanel
from geotagger.gui.decisions import DecisionController
from geotagger.gui.details import DetailsPane
from geotagger.gui.emptystate import EmptyState
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.grid import PhotoGrid, PhotoGridModel
from geotagger.gui.history import HistoryController
from geotagger.gui.logview import LogView
from geotagger.gui.mappane import MapPane
from geotagger.gui.mapsync import MapSync
from geotagger.gui.place_search import PlaceSearchBox
from geotagger.gui.placing import PlacingController
from geotagger.gui.qaction import keep_typing_keys, make_action
from geotagger.gui.review import ReviewController
from geotagger.gui.settings import TILES, AppSettings, SettingsDialog
from geotagger.gui.sidebar import Sidebar
from geotagger.gui.tasks import TaskRunner
from geotagger.gui.thumbnails import ThumbnailLoader
from geotagger.gui.tracks import TracksController
from geotagger.services import browse, indexing

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, lib: Library, settings: AppSettings | None = None, check_tiles: bool = True) -> None:
        super().__init__()
        self.lib = lib
        self.settings = settings or AppSettings()
        self.setWindowTitle(f"geotagger - {lib.location}")
        self.tasks = TaskRunner(self)

        # Views
        self.logview = LogView()
        logging.getLogger("geotagger").addHandler(self.logview.handler)
        self.thumbnails = ThumbnailLoader(self._thumbnail_source, parent=self)
        self.model = PhotoGridModel(lambda ids: browse.photo_rows(lib, ids), self.thumbnails, self)
        self.grid = PhotoGrid()
        self.grid.setModel(self.model)
        self.grid.set_min_confidence(self.settings.min_confidence)
        self.sidebar = Sidebar()
        self.details = DetailsPane()
        self.map = MapPane(tiles=None)  # offline first; online tiles once the server answered
        self.map.setMinimumHeight(220)
        self.center = QStackedWidget()  # the grid, or the first-start page while there are no photos

        # Controllers
        self.act_log = make_action(self, "Log", self.toggle_log, "Ctrl+Shift+L", "Show messages and errors")
        self.act_cancel = make_action(
            self, "Cancel", self.cancel, "Esc", "Stop the running job (work done is kept) or placing"
        )
        self.act_cancel.setEnabled(False)
        self.feedback = StatusFeedback(
            self.statusBar(), self.tasks, self.logview, self.act_cancel, self.toggle_log
        )
        self.mapsync = MapSync(lib, self.map, self.tasks, self.settings, self.feedback, check_tiles)
        self.browser = Browser(
            lib,
            self.sidebar,
            self.grid,
            self.model,
            self.details,
            self.thumbnails,
            self.mapsync,
            self.feedback,
            self._show_empty,
            self,
        )
        self.history = HistoryController(self, lib, self.tasks, self.browser, self.feedback)
        self.review = ReviewController(self, self.browser, self.details, self.feedback)
        self.decisions = DecisionController(
            self, lib, self.tasks, self.browser, self.map, self.feedback, self.settings, self.history.refresh
        )
        self.placing = PlacingController(self, self.browser, self.map, self.feedback, self.decisions.place)
        self.tracks = TracksController(self, lib, self.tasks, self.browser, self.map, self.feedback)
        self.clock_panel = ClockPanel(lib, self.browser, self.tracks, self.feedback)
        self.jobs = LibraryJobs(
            self,
            lib,
            self.tasks,
            self.browser,
            self.details,
            self.thumbnails,
            self.feedback,
            self.settings,
            self.history.refresh,
        )
        self.empty_state = EmptyState(self.jobs.act_add)
        self.act_settings = make_action(
            self, "Settings…", self.open_settings, QKeySequence.StandardKey.Preferences
        )
        self.decisions.act_place.toggled.connect(
            lambda on: self.act_cancel.setEnabled(on or self.tasks.long_task is not None)
        )
        self.map.bridge.candidate_picked.connect(self.review.pick_candidate)
        self.map.bridge.photo_picked.connect(self.browser.select_photo)

        self._build_layout()
        self.browser.reload()
        self.history.refresh()
        self.tracks.reload()
        self.mapsync.apply_tile_setting()

    # ---------------------------------------------------------------- layout
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
            None,
            self.tracks.act_import,
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
        self.place_search = PlaceSearchBox()
        self.place_search.setMaximumWidth(260)
        self.place_search.connect_map(self.map)
        keep_typing_keys(self.place_search.edit)
        self.place_search.placeChosen.connect(self._place_found)
        bar.addWidget(self.place_search)
        bar.addAction(self.placing.act_here)
        bar.addAction(self.act_settings)
        self.addToolBar(bar)

        for action in self.decisions.actions:
            self.details.add_action_button(action)
        self.details.finish_buttons()
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for action in (
            self.placing.act_copy,
            self.placing.act_paste,
            self.placing.act_like,
            self.placing.act_here,
        ):
            self.grid.addAction(action)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.details)
        right.addWidget(self.map)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        right.setSizes([380, 360])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.sidebar)
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

        self.log_dock = self._dock("Log", "log-dock", self.logview)
        self.history_dock = self._dock("History", "history-dock", self.history.panel)
        self.history_dock.visibilityChanged.connect(
            lambda shown: shown and self.resizeDocks([self.history_dock], [170], Qt.Orientation.Vertical)
        )
        self.act_history = self.history_dock.toggleViewAction()
        self.act_history.setShortcut("Ctrl+H")
        self.addAction(self.act_history)
        self.tracks_dock = self._dock("Tracks", "tracks-dock", self.tracks.panel)
        self.clock_dock = self._dock("Camera clock", "clock-dock", self.clock_panel)
        self.act_clock = self.clock_dock.toggleViewAction()
        self.act_clock.setText("Camera clock…")
        self.act_clock.setToolTip(
            "Set the camera clock offset while watching the photos move along the tracks"
        )
        self.tracks.act_import.triggered.connect(self.tracks_dock.show)
        self.act_clock.toggled.connect(lambda on: on and self.tracks_dock.show())
        bar.insertAction(self.act_settings, self.act_clock)
        self.resize(1366, 768)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()
        return dock

    def _show_empty(self, empty: bool) -> None:
        self.center.setCurrentWidget(self.empty_state if empty else self.grid)

    def _thumbnail_source(self, photo_id: int) -> Path:
        """Called in loader threads: the cached thumbnail file (made by the indexing service)."""
        return indexing.thumbnail(self.lib, photo_id, 256)

    # ---------------------------------------------------------------- the controllers' actions
    @property
    def act_add(self):
        return self.jobs.act_add

    @property
    def act_locate(self):
        return self.jobs.act_locate

    @property
    def act_write(self):
        return self.jobs.act_write

    @property
    def act_export(self):
        return self.jobs.act_export

    @property
    def act_undo(self):
        return self.history.act_undo

    @property
    def act_accept(self):
        return self.decisions.act_accept

    @property
    def act_place(self):
        return self.decisions.act_place

    # ---------------------------------------------------------------- shortcuts for callers and tests
    @property
    def current_id(self) -> int | None:
        return self.browser.current_id

    @property
    def current_details(self) -> browse.PhotoDetails | None:
        return self.browser.current_details

    @property
    def errors_button(self):
        return self.feedback.errors_button

    @property
    def check_tiles(self) -> bool:
        return self.mapsync.check_tiles

    @check_tiles.setter
    def check_tiles(self, value: bool) -> None:
        self.mapsync.check_tiles = value

    def reload(self) -> None:
        self.browser.reload()

    def select_photo(self, photo_id: int) -> bool:
        return self.browser.select_photo(photo_id)

    def add_folder(self, folder: str | None = None) -> None:
        if folder and not Path(folder).is_dir():
            self.report_missing_folder(folder)
            return
        self.empty_state.set_problem("")
        self.jobs.add_folder(folder)

    def report_missing_folder(self, folder: str) -> None:
        """A folder from the command line that is not there: say so in the window, never exit (first start)."""
        what = "is not a folder" if Path(folder).exists() else "does not exist"
        message = f"{folder} {what}: choose a folder of photos"
        log.warning("%s", message)
        self.empty_state.set_problem(message)
        self.feedback.show(message, 15000)

    def locate(self) -> None:
        self.jobs.locate()

    def undo(self) -> None:
        self.history.undo()

    def place(self, photo_ids: list[int], lat: float, lon: float, force: bool = False) -> None:
        self.decisions.place(photo_ids, lat, lon, force)

    def apply_tile_setting(self) -> None:
        self.mapsync.apply_tile_setting()

    # ---------------------------------------------------------------- window-level actions
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            before = self.settings.get(TILES)
            dialog.save()
            self.grid.set_min_confidence(self.settings.min_confidence)
            if self.settings.get(TILES) != before:
                self.mapsync.apply_tile_setting()

    def _place_found(self, _lat: float, _lon: float, name: str, _zoom: int) -> None:
        hit = self.place_search.chosen
        if hit is not None:
            self.placing.search_chosen(hit)
        self.feedback.show(
            f"Showing {name}: Ctrl+Shift+H places the selected photos there (or drag them onto the map)", 8000
        )

    def cancel(self) -> None:
        """Esc: leave place mode, else stop the running job."""
        if self.decisions.act_place.isChecked():
            self.decisions.act_place.setChecked(False)
        else:
            self.tasks.cancel()

    def toggle_log(self) -> None:
        self.log_dock.setVisible(not self.log_dock.isVisible())

    def changeEvent(self, event) -> None:  # noqa: N802
        """Light/dark switch of the system: rebuild the map page with colours from the new palette."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "mapsync"):
            self.mapsync.rebuild(self.map.tiles)
            index = self.details.current_candidate()
            if index is not None and self.browser.current_details is not None:
                self.mapsync.show_outline(self.browser.current_details, index)
        super().changeEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.tasks.cancel()
        self.tasks.wait(5000)
        self.thumbnails.wait(5000)
        logging.getLogger("geotagger").removeHandler(self.logview.handler)
        super().closeEvent(event)
