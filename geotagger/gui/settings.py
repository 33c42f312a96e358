"""Persistent preferences (QSettings) and the Settings dialog: every key the app stores is named here
and read only through ``AppSettings`` (one place, so a key that is saved is also a key that is read)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
)

from geotagger.services import models

DEVICE = "locate/device"  # read by LibraryJobs.locate
MIN_CONFIDENCE = "review/min_confidence"  # read by the grid (greyed badges) and batch accept
SIDECAR = "write/sidecar"  # read by LibraryJobs.write
TILES = "map/tiles"  # read by MapSync.apply_tile_setting
DEFAULTS: dict[str, str | float] = {
    DEVICE: "auto",
    MIN_CONFIDENCE: 0.5,
    SIDECAR: "ext.xmp",
    TILES: "offline",
}
# How XMP sidecars are named when a file cannot take the location itself (writing.SIDECAR_POLICIES).
SIDECAR_CHOICES = (
    ("ext.xmp", "Sidecars named IMG_1.jpg.xmp (darktable, digiKam)"),
    ("xmp", "Sidecars named IMG_1.xmp (Lightroom, Capture One)"),
)
TILE_CHOICES = (
    ("offline", "Offline basemap only (Natural Earth)"),
    ("osm", "OpenStreetMap tiles when online"),
)
DEVICE_CHOICES = (("auto", "Automatic"), ("cpu", "CPU"), ("cuda", "CUDA GPU"))


class AppSettings:
    """Typed access to the app's QSettings (an explicit ini file in tests)."""

    def __init__(self, path: str | None = None) -> None:
        if path:
            self.qs = QSettings(path, QSettings.Format.IniFormat)
        else:
            self.qs = QSettings("geotagger", "geotagger")

    def get(self, key: str) -> str | float:
        default = DEFAULTS[key]
        value = self.qs.value(key, default)
        if isinstance(default, float):
            try:
                return float(value)
            except (TypeError, ValueError):
                return default
        return str(value) if value is not None else default

    @property
    def min_confidence(self) -> float:
        return float(self.get(MIN_CONFIDENCE))

    def set(self, key: str, value: str | float) -> None:
        if key not in DEFAULTS:
            raise KeyError(key)
        self.qs.setValue(key, value)
        self.qs.sync()


def _combo(choices, current: str) -> QComboBox:
    combo = QComboBox()
    for value, label in choices:
        combo.addItem(label, value)
    index = combo.findData(current)
    combo.setCurrentIndex(max(index, 0))
    return combo


class SettingsDialog(QDialog):
    """The preferences; the installed model packs are listed for information (locate uses the default
    backbone and every installed geo pack; there is no per-library choice of pack to save)."""

    def __init__(self, settings: AppSettings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        packs = models.list_packs()
        names = ", ".join(f"{p.get('id', '')} ({p.get('kind', '?')})" for p in packs) or "none installed yet"
        self.packs = QLabel(names)
        self.packs.setTextFormat(Qt.TextFormat.PlainText)
        self.packs.setWordWrap(True)
        self.device = _combo(DEVICE_CHOICES, str(settings.get(DEVICE)))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(settings.min_confidence)
        self.threshold.setToolTip(
            "Suggestions below this confidence are shown greyed and never batch-accepted"
        )
        self.sidecar = _combo(SIDECAR_CHOICES, str(settings.get(SIDECAR)))
        self.tiles = _combo(TILE_CHOICES, str(settings.get(TILES)))
        form = QFormLayout()
        form.addRow("Model packs", self.packs)
        form.addRow("Device", self.device)
        form.addRow("Minimum confidence", self.threshold)
        form.addRow("Writing", self.sidecar)
        form.addRow("Map", self.tiles)
        note = QLabel(
            "Map tiles © OpenStreetMap contributors are fetched only when enabled and online.\n"
            "The offline basemap is Natural Earth (public domain)."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def save(self) -> None:
        self.settings.set(DEVICE, self.device.currentData())
        self.settings.set(MIN_CONFIDENCE, float(self.threshold.value()))
        self.settings.set(SIDECAR, self.sidecar.currentData())
        self.settings.set(TILES, self.tiles.currentData())
