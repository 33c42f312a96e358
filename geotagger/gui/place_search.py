"""A search box for places (GeoNames, offline): type "lauterbr", pick Lauterbrunnen, the map goes there.

The list under the box is a QCompleter over our own ranked hits (prefix, accent-insensitive, by
population), so Qt's completer does no filtering of its own. The index takes a second or two to build,
so it is built in a background thread when the box is made. Choosing a hit (click, arrows + Enter, or
Enter for the first one) emits ``placeChosen(lat, lon, name, zoom)``; ``connect_map`` centres a MapPane.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QModelIndex, QStringListModel, Qt, Signal
from PySide6.QtWidgets import QCompleter, QHBoxLayout, QLineEdit, QWidget

from geotagger.geo.place_search import PlaceHit, PlaceSearch

MAX_HITS = 8


class PlaceSearchBox(QWidget):
    """Line edit + popup list of places; emits placeChosen(lat, lon, name, zoom)."""

    placeChosen = Signal(float, float, str, int)  # noqa: N815 - Qt signal naming

    def __init__(self, parent: QWidget | None = None, index: PlaceSearch | None = None) -> None:
        super().__init__(parent)
        self._index = index
        self._hits: list[PlaceHit] = []
        self.chosen: PlaceHit | None = None  # the last place taken (the selection can be placed there)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Search a place…")
        self.edit.setClearButtonEnabled(True)
        self.edit.setToolTip(
            "Find a town, region or country by name (offline, GeoNames) and show it on the map"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        self.model = QStringListModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(MAX_HITS)
        self.completer.setWidget(self.edit)
        self.completer.activated[QModelIndex].connect(self._chosen_index)
        self.edit.textEdited.connect(self._update)
        self.edit.returnPressed.connect(self._chosen_first)
        if self._index is None:
            threading.Thread(target=PlaceSearch.default, name="place-index", daemon=True).start()

    @property
    def index(self) -> PlaceSearch:
        if self._index is None:
            self._index = PlaceSearch.default()  # waits for the background build if it still runs
        return self._index

    def hits(self) -> list[PlaceHit]:
        """What the list shows now (best first)."""
        return list(self._hits)

    def _update(self, text: str) -> None:
        self._hits = self.index.search(text, MAX_HITS) if text.strip() else []
        self.model.setStringList([self._describe(h) for h in self._hits])
        if self._hits:
            self.completer.complete()
        else:
            self.completer.popup().hide()

    @staticmethod
    def _describe(hit: PlaceHit) -> str:
        kind = {"country": " (country)", "region": " (region)"}.get(hit.kind, "")
        return hit.label + kind

    def _chosen_index(self, index: QModelIndex) -> None:
        if 0 <= index.row() < len(self._hits):
            self.choose(self._hits[index.row()])

    def _chosen_first(self) -> None:
        popup = self.completer.popup()
        if popup.isVisible() and popup.currentIndex().isValid():
            return  # the completer's own activated signal handles the highlighted row
        if not self._hits and self.edit.text().strip():
            self._update(self.edit.text())
        if self._hits:
            self.choose(self._hits[0])

    def choose(self, hit: PlaceHit) -> None:
        """Take ``hit``: show its name in the box and emit placeChosen."""
        self.completer.popup().hide()
        self.edit.setText(hit.name)
        self.chosen = hit
        self.placeChosen.emit(hit.lat, hit.lon, hit.name, hit.zoom)

    def connect_map(self, map_pane) -> None:
        """Centre ``map_pane`` (a MapPane) on every chosen place, at the place's zoom."""
        self.placeChosen.connect(lambda lat, lon, _name, zoom: map_pane.call("focus", lat, lon, zoom))
