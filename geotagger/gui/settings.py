"""Persistent preferences (QSettings) and the Settings dialog."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
)

from geotagger.gui import ops

DEFAULTS = {
    "locate/model_pack": "",
    "locate/device": "auto",
    "review/min_confidence": 0.5,
    "write/sidecar": "ext.xmp",
    "map/tiles": "offline",
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

    def get(self, key: str):
        default = DEFAULTS[key]
        value = self.qs.value(key, default)
        if isinstance(default, float):
            try:
                return float(value)
            except (TypeError, ValueError):
                return default
        return str(value) if value is not None else default

    def set(self, key: str, value) -> None:
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
    def __init__(self, settings: AppSettings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        packs = []
        list_packs = ops.find("list_packs")
        if list_packs is not None:
            try:
                packs = [
                    (p.get("id", ""), f"{p.get('id', '')} {p.get('version', '')}".strip())
                    for p in list_packs()
                ]
            except Exception as exc:  # a broken models folder must not block the settings
                packs = []
                self._pack_error = str(exc)
        self.pack = _combo((("", "Default model pack"), *packs), settings.get("locate/model_pack"))
        self.device = _combo(DEVICE_CHOICES, settings.get("locate/device"))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(settings.get("review/min_confidence"))
        self.threshold.setToolTip(
            "Suggestions below this confidence are shown greyed and never batch-accepted"
        )
        self.sidecar = _combo(SIDECAR_CHOICES, settings.get("write/sidecar"))
        self.tiles = _combo(TILE_CHOICES, settings.get("map/tiles"))
        form = QFormLayout()
        form.addRow("Model pack", self.pack)
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
        self.settings.set("locate/model_pack", self.pack.currentData())
        self.settings.set("locate/device", self.device.currentData())
        self.settings.set("review/min_confidence", float(self.threshold.value()))
        self.settings.set("write/sidecar", self.sidecar.currentData())
        self.settings.set("map/tiles", self.tiles.currentData())
