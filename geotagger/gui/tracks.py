"""Tracks in the window: import GPX / KML / NMEA files, the Tracks panel, the tracks drawn on the map and
where the selected photos fall on them for the trial camera clock the clock panel sets.

Importing runs ``services.tracks.import_tracks`` (the code behind ``geotagger tracks import``) in the
background, one file at a time so that one unreadable file is one line in the log and the others still
come in. The tracks are kept in memory as arrays once loaded, so the preview can follow the offset
spin boxes live; the positions come from ``services.track_preview`` (no Qt there)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from geotagger.catalog.library import Library
from geotagger.errors import GeotaggerError
from geotagger.gui.browsing import Browser
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.mappane import MapPane
from geotagger.gui.qaction import make_action
from geotagger.gui.tasks import TaskRunner
from geotagger.locate.tracks import TrackArrays
from geotagger.services import track_preview
from geotagger.services import tracks as track_service

log = logging.getLogger("geotagger.gui.tracks")
MAX_PREVIEWED = 2000  # selected photos placed live (1,000 take ~0.2 s when the zone is looked up)
FILE_FILTER = "Tracks (*.gpx *.kml *.nmea *.nma *.log *.txt);;All files (*)"


class TracksPanel(QWidget):
    """The imported tracks (name, points, time span in UTC) with Import and Remove buttons."""

    remove_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tracks-panel")
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Track", "Points", "Time span (UTC)"])
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.setMinimumWidth(440)  # name, points and a same-day span fit side by side
        self.import_button = QPushButton("Import track…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the selected track (the file is left alone)")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._remove)
        self.list.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.list.selectedItems()))
        )
        self.summary = QLabel("No tracks imported")
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

    def set_tracks(self, rows: list[dict[str, Any]]) -> None:
        self.list.clear()
        for row in rows:
            span = f"{row['start_utc']} – {row['end_utc'][11:] if row['start_utc'][:10] == row['end_utc'][:10] else row['end_utc']}"
            item = QTreeWidgetItem([row["name"], str(row["points"]), span])
            item.setData(0, Qt.ItemDataRole.UserRole, row["id"])
            item.setToolTip(0, row["path"])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        points = sum(r["points"] for r in rows)
        self.summary.setText(f"{len(rows)} track(s), {points} points" if rows else "No tracks imported")

    def names(self) -> list[str]:
        return [self.list.topLevelItem(i).text(0) for i in range(self.list.topLevelItemCount())]

    def _remove(self) -> None:
        for item in self.list.selectedItems():
            self.remove_requested.emit(int(item.data(0, Qt.ItemDataRole.UserRole)))


def _import_each(lib: Library, paths: Sequence[str], progress, cancel) -> tuple[list[str], dict[str, str]]:
    """Import the files one by one: (summary lines, path -> error) so one bad file stops nothing."""
    done: list[str] = []
    errors: dict[str, str] = {}
    progress.start(len(paths), "importing tracks")
    for path in paths:
        cancel.check()
        try:
            report = track_service.import_tracks(lib, [path])
        except GeotaggerError as exc:
            errors[path] = str(exc)
        else:
            done.append(f"{Path(path).name}: {report.summary()}")
            errors.update(report.errors)
        progress.advance()
    progress.finish()
    return done, errors


class TracksController(QObject):
    """Owns "Import track…", the Tracks panel, the tracks on the map and the photos' preview on them."""

    tracks_changed = Signal()
    preview_changed = Signal(list)  # TrackMatch of the selected photos

    def __init__(
        self,
        owner: QWidget,
        lib: Library,
        tasks: TaskRunner,
        browser: Browser,
        map_pane: MapPane,
        status: StatusFeedback,
    ) -> None:
        super().__init__(owner)
        self.owner, self.lib, self.tasks, self.browser, self.map, self.status = (
            owner,
            lib,
            tasks,
            browser,
            map_pane,
            status,
        )
        self.tracks: list[TrackArrays] = []
        self.ahead_s = 0.0  # the trial clock: how far the camera clock is ahead of true time
        self.zone: str | None = None  # None: where the tracks were
        self.unit: tuple[str, str] | None = None  # the (camera, folder) the trial clock is for
        self.matches: list[track_preview.TrackMatch] = []
        self.act_import = make_action(
            owner,
            "Import track…",
            self.choose_files,
            None,
            "Import GPS tracks (GPX, KML, NMEA) into the library",
        )
        self.panel = TracksPanel()
        self.panel.import_button.clicked.connect(self.choose_files)
        self.panel.remove_requested.connect(self.remove)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(120)  # debounce: spin boxes and selection changes come in bursts
        self._preview_timer.timeout.connect(self.update_preview)
        browser.grid.selectionModel().selectionChanged.connect(lambda *_: self._preview_timer.start())
        map_pane.bridge.ready.connect(self._redraw)  # a rebuilt page (theme, tiles) starts empty

    # ------------------------------------------------------------------ importing and removing
    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.owner, "Import GPS tracks", "", FILE_FILTER)
        if paths:
            self.import_files(paths)

    def import_files(self, paths: Sequence[str]) -> None:
        """Import in the background; each file that cannot be read is one error line in the log."""
        files = [str(p) for p in paths]

        def done(result: tuple[list[str], dict[str, str]]) -> None:
            lines, errors = result
            for line in lines:
                log.info("%s", line)
            for path, reason in errors.items():
                log.error("track import: %s", reason if path in reason else f"{path}: {reason}")
            message = f"{len(lines)} of {len(files)} track file(s) imported (Locate uses them)"
            if errors:
                message += f"; {len(errors)} could not be read (see the Log)"
            self.status.show(message, 10000)
            self.reload(fit=True)

        self.tasks.submit(
            "import tracks",
            lambda progress, cancel: _import_each(self.lib, files, progress, cancel),
            done,
            long=True,
        )

    def remove(self, track_id: int) -> None:
        def done(name: str) -> None:
            self.status.show(f"Track {name} removed (run Locate to update the suggestions)", 8000)
            self.reload()

        self.tasks.submit("remove track", lambda: track_service.remove_track(self.lib, track_id), done)

    # ------------------------------------------------------------------ what is shown
    def reload(self, fit: bool = False) -> None:
        """Read the tracks (list and points) in the background, then list, draw and preview them."""

        def read() -> tuple[list[dict[str, Any]], list[TrackArrays]]:
            return track_service.list_tracks(self.lib), track_service.load_tracks(self.lib)

        def done(result: tuple[list[dict[str, Any]], list[TrackArrays]]) -> None:
            rows, self.tracks = result
            self.panel.set_tracks(rows)
            self.map.call("showTracks", track_preview.track_drawing(self.tracks))
            self.update_preview()  # the photos move to (or off) the tracks now held
            if fit and self.tracks:
                self.map.call("fitTracks")
            self.tracks_changed.emit()

        self.tasks.submit("load tracks", read, done)

    def _redraw(self) -> None:
        self.map.call("showTracks", track_preview.track_drawing(self.tracks))
        self.map.call("showTrackMatches", [m.as_json() for m in self.matches])

    def set_trial_clock(self, ahead_s: float, zone: str | None, unit: tuple[str, str] | None = None) -> None:
        """The clock panel's current values for the photos of ``unit`` (camera key, folder or "" for all
        its folders; None: every selected photo): move the preview (debounced). Other photos keep their stored clocks."""
        if (ahead_s, zone, unit) != (self.ahead_s, self.zone, self.unit):
            self.ahead_s, self.zone, self.unit = float(ahead_s), zone, unit
            self._preview_timer.start()

    def _in_unit(self, photo: track_preview.PhotoTime) -> bool:
        """Whether the trial clock is for this photo's camera (folder "" : every folder of it)."""
        if self.unit is None:
            return True
        device, folder = self.unit
        return photo.device == device and folder in ("", photo.folder)

    def update_preview(self) -> None:
        """Where the selected photos fall on the tracks for the trial clock."""
        ids = self.browser.selected_ids()[:MAX_PREVIEWED]
        photos = track_preview.photo_times(self.lib, ids) if self.tracks else []
        try:
            others = [p for p in photos if not self._in_unit(p)]
            own = track_preview.stored_offsets(self.lib, others) if others else {}
            self.matches = track_preview.match_photos(photos, self.tracks, self.ahead_s, self.zone, own)
        except GeotaggerError as exc:
            log.error("track preview: %s", exc)
            self.matches = []
        self.map.call("showTrackMatches", [m.as_json() for m in self.matches])
        self.preview_changed.emit(self.matches)
