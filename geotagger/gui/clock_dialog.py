"""The "Camera clock" panel: the clock of the shown photo's camera in its folder, as an offset the user
turns while the selected photos move along the tracks on the map (live, debounced by the tracks
controller), the time zone for photos whose files carry no UTC offset, locate's automatic estimate for
that clock with "Use estimate", and Apply.

Sign: the same as ``geotagger clocks set`` (positive = the camera clock is AHEAD of true time), and the
panel says it in words ("camera clock is ahead by / behind by"). Apply calls ``services.clocks.set_clock``,
the function behind ``geotagger clocks set``, so the next locate uses it. Apply is not in the undo history;
"Back to estimate" removes an offset set by hand (``services.clocks.clear_clock``, as ``clocks clear``)."""

from __future__ import annotations

import html
import logging
from zoneinfo import available_timezones

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from geotagger.catalog.library import Library
from geotagger.errors import GeotaggerError
from geotagger.gui.browsing import Browser
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.tracks import TracksController
from geotagger.locate.clocks import STATUS_CONFIDENT, format_offset
from geotagger.services import clocks, track_preview

log = logging.getLogger("geotagger.gui.clocks")
AUTO_ZONE = "Where the tracks were (automatic)"


class ClockPanel(QWidget):
    """Offset and zone for the current photo's (camera, folder); drives ``TracksController``'s preview."""

    def __init__(
        self, lib: Library, browser: Browser, tracks: TracksController, status: StatusFeedback
    ) -> None:
        super().__init__()
        self.setObjectName("clock-panel")
        self.lib, self.browser, self.tracks, self.status = lib, browser, tracks, status
        self.device: str | None = None  # camera key of the shown photo ("" = no Make/Model)
        self.folder: str | None = None
        self.estimate_s: float | None = None

        self.unit = QLabel("Select a photo to set its camera's clock")
        self.unit.setWordWrap(True)
        self.direction = QComboBox()
        self.direction.addItems(["ahead by", "behind by"])
        self.hours, self.minutes, self.seconds = QSpinBox(), QSpinBox(), QSpinBox()
        for spin, top, suffix in (
            (self.hours, 999, " h"),
            (self.minutes, 59, " min"),
            (self.seconds, 59, " s"),
        ):
            spin.setRange(0, top)
            spin.setSuffix(suffix)
            spin.setAccelerated(True)
            spin.valueChanged.connect(self._changed)
        self.direction.currentIndexChanged.connect(self._changed)
        offset_row = QHBoxLayout()
        offset_row.addWidget(QLabel("Camera clock is"))
        offset_row.addWidget(self.direction)
        for spin in (self.hours, self.minutes, self.seconds):
            offset_row.addWidget(spin)
        offset_row.addStretch(1)
        self.zone = QComboBox()
        self.zone.addItem(AUTO_ZONE)
        self.zone.addItems(sorted(available_timezones()))
        self.zone.setToolTip("How to read photo times whose files do not say their UTC offset")
        self.zone.currentIndexChanged.connect(self._changed)
        self.estimate = QLabel("No automatic estimate for this camera")
        self.estimate.setWordWrap(True)
        self.use_estimate = QPushButton("Use estimate")
        self.use_estimate.setEnabled(False)
        self.use_estimate.clicked.connect(lambda: self.set_offset(self.estimate_s or 0.0))
        estimate_row = QHBoxLayout()
        estimate_row.addWidget(self.estimate, 1)
        estimate_row.addWidget(self.use_estimate)
        self.all_folders = QCheckBox("For all folders of this camera")
        self.all_folders.toggled.connect(self._changed)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip(
            "Store this offset (as `geotagger clocks set` does); Locate then uses it"
        )
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.clear_button = QPushButton("Back to estimate")
        self.clear_button.setToolTip("Remove the offset set by hand (as `geotagger clocks clear` does)")
        self.clear_button.setEnabled(False)
        self.clear_button.clicked.connect(self.clear)
        self.matched = QLabel("")
        self.matched.setWordWrap(True)
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.all_folders)
        apply_row.addStretch(1)
        apply_row.addWidget(self.clear_button)
        apply_row.addWidget(self.apply_button)

        form = QFormLayout()
        form.addRow(self.unit)
        form.addRow(offset_row)
        form.addRow("Photo times without UTC offset:", self.zone)
        form.addRow(estimate_row)
        form.addRow(self.matched)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(form)
        layout.addLayout(apply_row)
        layout.addStretch(1)
        browser.changed.connect(self.follow_photo)
        tracks.preview_changed.connect(self._show_matches)

    # ------------------------------------------------------------------ values
    def offset_s(self) -> int:
        """Seconds the camera clock is ahead (negative: behind), as `geotagger clocks set` takes it."""
        total = self.hours.value() * 3600 + self.minutes.value() * 60 + self.seconds.value()
        return -total if self.direction.currentIndex() == 1 else total

    def set_offset(self, seconds: float) -> None:
        total = round(abs(seconds))
        for widget, value in (
            (self.direction, 1 if seconds < 0 else 0),
            (self.hours, total // 3600),
            (self.minutes, total % 3600 // 60),
            (self.seconds, total % 60),
        ):
            widget.blockSignals(True)
            if isinstance(widget, QComboBox):
                widget.setCurrentIndex(value)
            else:
                widget.setValue(value)
            widget.blockSignals(False)
        self._changed()

    def zone_name(self) -> str | None:
        return None if self.zone.currentIndex() == 0 else self.zone.currentText()

    def set_zone(self, zone: str | None) -> None:
        self.zone.setCurrentIndex(0 if zone is None else max(0, self.zone.findText(zone)))

    def _changed(self) -> None:
        folder = "" if self.all_folders.isChecked() else self.folder
        unit = None if self.device is None or folder is None else (self.device, folder)
        self.tracks.set_trial_clock(self.offset_s(), self.zone_name(), unit)

    # ------------------------------------------------------------------ the shown photo's clock
    def follow_photo(self, force: bool = False) -> None:
        """A new current photo: show its (camera, folder) and load the clock stored for it (``force``:
        again, after the stored clock changed)."""
        details = self.browser.current_details
        times = track_preview.photo_times(self.lib, [details.id]) if details is not None else []
        unit = (times[0].device, times[0].folder) if times else None
        if unit == (self.device, self.folder) and not force:
            return
        self.device, self.folder = unit if unit else (None, None)
        self.apply_button.setEnabled(unit is not None)
        self.clear_button.setEnabled(False)
        if unit is None:
            self.unit.setText("Select a photo with a capture time to set its camera's clock")
            return
        self.unit.setText(f"<b>{html.escape(times[0].camera)}</b> in {html.escape(self.folder)}")
        stored = track_preview.unit_clock(self.lib, self.device, self.folder)
        self.estimate_s = stored.estimate_s
        if stored.estimate_s is None:
            self.estimate.setText("No automatic estimate for this camera here (run Locate)")
        else:
            self.estimate.setText(
                f"Estimated by locate: {format_offset(stored.estimate_s)} "
                f"(confidence {stored.confidence:.2f}, {stored.support} supporting pairs, {stored.status})"
            )
        self.use_estimate.setEnabled(stored.estimate_s is not None)
        self.clear_button.setEnabled(stored.manual_s is not None)
        self.all_folders.setChecked(stored.manual_all_folders)
        # Start from the clock locate applies now: set by hand, else a confident estimate, else none.
        if stored.manual_s is not None:
            self.set_offset(stored.manual_s)
        else:
            self.set_offset(stored.estimate_s if stored.status == STATUS_CONFIDENT else 0.0)

    def _show_matches(self, matches: list) -> None:
        placed = [m for m in matches if m.lat is not None]
        if not matches:
            none = "Import a track (Tracks panel) to see where the selected photos fall on it"
            self.matched.setText("" if self.tracks.tracks else none)
            return
        gaps = [m.gap_s for m in placed]
        text = f"{len(placed)} of {len(matches)} selected photo(s) on a track"
        if gaps:
            low, high = round(min(gaps)), round(max(gaps))
            span = f"{low} s" if low == high else f"{low}–{high} s"
            text += f"; the nearest track point is {span} from the photo time"
        self.matched.setText(text)

    # ------------------------------------------------------------------ storing
    def apply(self) -> None:
        """Store the offset through the clocks service (`geotagger clocks set`); errors go to the log."""
        if self.device is None:
            return
        device = self.device or clocks.UNKNOWN_DEVICE
        folder = None if self.all_folders.isChecked() else self.folder
        try:
            message = clocks.set_clock(self.lib, device, self.offset_s(), folder)
        except GeotaggerError as exc:
            log.error("camera clock: %s", exc)
            self.status.show(f"Camera clock not set: {exc}", 10000)
            return
        log.info("%s", message)
        self.status.show(message.replace("`geotagger locate`", "Locate"), 10000)
        self.follow_photo(force=True)

    def clear(self) -> None:
        """Remove the offset set by hand for this camera (`geotagger clocks clear`): estimates apply again."""
        if self.device is None:
            return
        folder = None if self.all_folders.isChecked() else self.folder
        try:
            removed = clocks.clear_clock(self.lib, self.device or clocks.UNKNOWN_DEVICE, folder)
        except GeotaggerError as exc:
            log.error("camera clock: %s", exc)
            self.status.show(f"Camera clock not cleared: {exc}", 10000)
            return
        self.status.show(
            f"{removed} clock offset(s) set by hand removed; run Locate to apply the estimate", 10000
        )
        self.follow_photo(force=True)
