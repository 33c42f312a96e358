"""The map pane: one QWebEngineView on a local folium page and one narrow QWebChannel bridge.

Page -> Python: the ``MapBridge`` object (slots only). Python -> page: ``MapPane.call`` is the single
path and only calls functions listed in ``geotagger.maps.JS_API`` or ``HOST_QUERIES`` (read-only
questions whose answer comes back to ``on_result``). The page's console goes to logging.

Photos dragged from the grid are dropped here: the drop point is turned into a coordinate by the page
(``latLngAt``) and ``photos_dropped`` says which photos go where.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineSettings
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QApplication, QWidget

from geotagger.gui.dnd import photo_ids
from geotagger.maps import JS_API, TileSource, build_map_page
from geotagger.maps.tiles import USER_AGENT

log = logging.getLogger(__name__)
js_log = logging.getLogger("geotagger.gui.map.js")

_JS_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "log": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class MapBridge(QObject):
    """The only object the page sees. Slots validate and re-emit as signals; nothing else is exposed."""

    ready = Signal()
    clicked = Signal(float, float)
    dragged = Signal(int, float, float)
    candidate_picked = Signal(int)
    photo_picked = Signal(int)

    @Slot()
    def pageReady(self) -> None:
        self.ready.emit()

    @Slot(float, float)
    def mapClicked(self, lat: float, lon: float) -> None:
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            self.clicked.emit(lat, lon)
        else:
            js_log.warning("ignored click outside the globe: %s, %s", lat, lon)

    @Slot(int, float, float)
    def markerDragged(self, photo_id: int, lat: float, lon: float) -> None:
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            self.dragged.emit(photo_id, lat, lon)

    @Slot(int)
    def candidatePicked(self, index: int) -> None:
        if index >= 0:
            self.candidate_picked.emit(index)

    @Slot(int)
    def photoPicked(self, photo_id: int) -> None:
        self.photo_picked.emit(photo_id)

    @Slot(str, str)
    def jsLog(self, level: str, message: str) -> None:
        js_log.log(_JS_LEVELS.get(level.lower(), logging.INFO), "%s", message[:2000])


class _Page(QWebEnginePage):
    """Routes the page's console to Python logging."""

    _LEVELS = {
        QWebEnginePage.JavaScriptConsoleMessageLevel.InfoMessageLevel: logging.INFO,
        QWebEnginePage.JavaScriptConsoleMessageLevel.WarningMessageLevel: logging.WARNING,
        QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel: logging.ERROR,
    }

    def javaScriptConsoleMessage(self, level, message: str, line: int, source: str) -> None:  # noqa: N802
        js_log.log(self._LEVELS.get(level, logging.INFO), "%s (%s:%d)", message, Path(source).name, line)


def _mix(a: QColor, b: QColor, share: float) -> QColor:
    return QColor(
        round(a.red() * (1 - share) + b.red() * share),
        round(a.green() * (1 - share) + b.green() * share),
        round(a.blue() * (1 - share) + b.blue() * share),
    )


def palette_colors() -> dict[str, str]:
    """Map colours from the application palette, so the basemap follows the light or dark theme."""
    palette = QApplication.palette()
    window = palette.color(QPalette.ColorRole.Window)
    dark = window.lightness() < 128
    highlight = palette.color(QPalette.ColorRole.Highlight)
    if dark:  # land a step above the window, water a blue-tinted step below it
        land = window.lighter(135)
        water = _mix(palette.color(QPalette.ColorRole.Base), highlight, 0.18).darker(115)
    else:
        land = palette.color(QPalette.ColorRole.Base).darker(103)
        water = _mix(palette.color(QPalette.ColorRole.Base), highlight, 0.25)
    return {
        "land": land.name(),
        "water": water.name(),
        "border": palette.color(QPalette.ColorRole.Mid).name(),
        "accent": palette.color(QPalette.ColorRole.Highlight).name(),
        "text": palette.color(QPalette.ColorRole.Text).name(),
    }


def _json_or_none(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


# Read-only page functions the host may ask (their answer is handed to a callback).
HOST_QUERIES = frozenset({"latLngAt"})


class MapPane(QWebEngineView):
    """Shows the library's geotagged photos and the selected photo's candidates."""

    photos_dropped = Signal(list, float, float)  # photo ids, lat, lon

    def __init__(self, parent=None, tiles: TileSource | None = None, folder: Path | None = None) -> None:
        super().__init__(parent)
        self.bridge = MapBridge(self)
        self._ready = False
        self._queue: list[str] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="geotagger-map-") if folder is None else None
        self._folder = Path(self._tmp.name) if self._tmp else folder
        # An off-the-record profile, parented to the view after the page: Qt deletes children in order,
        # so the page goes first and the profile never outlives... nor predeceases it.
        profile = QWebEngineProfile()
        profile.setHttpUserAgent(USER_AGENT)
        page = _Page(profile, self)
        profile.setParent(self)
        self._profile = profile
        settings = page.settings()
        settings.setAttribute(
            QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, tiles is not None
        )
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        self.setPage(page)
        self.channel = QWebChannel(page)
        self.channel.registerObject("bridge", self.bridge)
        page.setWebChannel(self.channel)
        self.bridge.ready.connect(self._on_ready)
        self.setAcceptDrops(True)
        self.load_map(tiles)

    @property
    def is_ready(self) -> bool:
        return self._ready

    def load_map(self, tiles: TileSource | None = None) -> None:
        """(Re)build the page, e.g. after the tile source or the theme changed."""
        self._ready = False
        self.tiles = tiles
        colors = palette_colors()
        dark = QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
        html = build_map_page(
            self._folder / "map.html", interactive=True, tiles=tiles, dark=dark, colors=colors
        )
        self.page().settings().setAttribute(
            QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, tiles is not None
        )
        self.load(QUrl.fromLocalFile(str(html)))

    def call(self, function: str, *args: Any, on_result: Callable[[Any], None] | None = None) -> None:
        """The one Python -> JS path: ``geotagger.<function>(args as JSON)``, whitelisted functions only;
        a HOST_QUERIES function's answer goes to ``on_result`` (only once the page is ready)."""
        if function not in JS_API and function not in HOST_QUERIES:
            raise ValueError(f"{function} is not part of the map page's API")
        arguments = ", ".join(json.dumps(a, ensure_ascii=True, allow_nan=False) for a in args)
        script = f"geotagger.{function}({arguments});"
        if on_result is not None:  # answers travel as JSON text (arrays do not cross as lists)
            if self._ready:
                query = f"JSON.stringify(geotagger.{function}({arguments}));"
                self.page().runJavaScript(query, 0, lambda text: on_result(_json_or_none(text)))
            return
        if self._ready:
            self.page().runJavaScript(script)
        else:
            self._queue.append(script)

    # Drops land on the page's render widget (a child): watch every child for drags of photos.
    def childEvent(self, event) -> None:  # noqa: N802
        super().childEvent(event)
        if event.type() == QEvent.Type.ChildAdded and isinstance(event.child(), QWidget):
            event.child().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and photo_ids(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            return True
        if kind == QEvent.Type.Drop:
            ids = photo_ids(event.mimeData())
            if ids:
                event.setDropAction(Qt.DropAction.CopyAction)
                event.accept()
                self.drop_at(ids, event.position().toPoint())
                return True
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if photo_ids(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        ids = photo_ids(event.mimeData())
        if ids:
            event.acceptProposedAction()
            self.drop_at(ids, event.position().toPoint())
        else:
            super().dropEvent(event)

    def drop_at(self, ids: list[int], point: QPoint) -> None:
        """Photos dropped at ``point`` (widget px): ask the page where that is, then say so."""
        if not self._ready:
            log.warning("the map is not ready; drop ignored")
            return

        def placed(answer: Any) -> None:
            if not (isinstance(answer, list) and len(answer) == 2):
                js_log.warning("no coordinate for the drop at %s, %s: %r", point.x(), point.y(), answer)
                return
            lat, lon = float(answer[0]), float(answer[1])
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                self.photos_dropped.emit(ids, lat, lon)

        self.call("latLngAt", point.x(), point.y(), on_result=placed)

    def _on_ready(self) -> None:
        self._ready = True
        queued, self._queue = self._queue, []
        for script in queued:
            self.page().runJavaScript(script)
        log.debug("map page ready, %d queued calls sent", len(queued))

    def closeEvent(self, event) -> None:  # noqa: N802
        if self._tmp is not None:
            self._tmp.cleanup()
        super().closeEvent(event)
