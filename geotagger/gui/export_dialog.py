"""The album export dialog: destination, which photos, formats and location precision."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from geotagger.services.browse import FILTER_LABELS

LOCATION_CHOICES = (
    ("keep", "Exact locations"),
    ("city", "Rounded to the city"),
    ("region", "Rounded to the region"),
    ("strip", "No locations"),
)


class ExportDialog(QDialog):
    def __init__(self, parent=None, current_filter: str = "all", albums: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export album")
        self.dest = QLineEdit()
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.dest, 1)
        row.addWidget(browse)
        self.filter = QComboBox()
        for name, label in FILTER_LABELS:
            self.filter.addItem(f"{label} photos" if name == "all" else f"Filter: {label}", f"filter:{name}")
        for album in albums or []:
            self.filter.addItem(f"Album: {album}", f"album:{album}")
        self.filter.setCurrentIndex(max(0, self.filter.findData(f"filter:{current_filter}")))
        labels = {"html_map": "Map page", "kml": "KML", "gpx": "GPX", "geojson": "GeoJSON"}
        self.formats = {key: QCheckBox(label) for key, label in labels.items()}
        self.formats["html_map"].setChecked(True)
        fmt_row = QHBoxLayout()
        for box in self.formats.values():
            fmt_row.addWidget(box)
        self.location = QComboBox()
        for value, label in LOCATION_CHOICES:
            self.location.addItem(label, value)
        form = QFormLayout()
        form.addRow("Destination", row)
        form.addRow("Photos", self.filter)
        form.addRow("Formats", fmt_row)
        form.addRow("Locations", self.location)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to")
        if folder:
            self.dest.setText(folder)

    def _ok(self) -> None:
        if self.dest.text().strip():
            self.accept()
        else:
            self.dest.setFocus()

    def values(self) -> dict:
        """Keyword arguments for the export service."""
        kind, value = self.filter.currentData().split(":", 1)
        values = {
            "dest": Path(self.dest.text().strip()).expanduser(),
            "album": value if kind == "album" else None,
            "filter": value if kind == "filter" and value != "all" else None,
            "location": self.location.currentData(),
        }
        values.update({name: box.isChecked() for name, box in self.formats.items()})
        return values
