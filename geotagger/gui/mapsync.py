"""Keeps the map in step with the browser: the library's geotagged photos, the shown photo's candidates
with the chosen one's outline, and the tile source (online tiles only when enabled and reachable).

The map page is driven through MapPane.call; slow look-ups (outlines, the tile probe) run through the
TaskRunner and are applied on the GUI thread only if the user has not moved on meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from geotagger.catalog.library import Library
from geotagger.gui import settings as keys
from geotagger.gui.details import accepted_at
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.mappane import MapPane
from geotagger.gui.settings import AppSettings
from geotagger.gui.tasks import TaskRunner
from geotagger.maps import OSM, TileSource, tiles_reachable
from geotagger.services import browse


class MapSync:
    """What the map shows. ``still_showing(photo_id, index)`` tells whether a late outline still applies."""

    def __init__(
        self,
        lib: Library,
        map_pane: MapPane,
        tasks: TaskRunner,
        settings: AppSettings,
        status: StatusFeedback,
        check_tiles: bool = True,
    ) -> None:
        self.lib, self.map, self.tasks, self.settings, self.status = lib, map_pane, tasks, settings, status
        self.check_tiles = check_tiles
        self.scope: browse.Scope | None = None
        self.details: browse.PhotoDetails | None = None
        self.still_showing: Callable[[int, int], bool] = lambda _pid, _index: True

    def show_library(self, scope: browse.Scope | None, fit: bool = False) -> None:
        """The geotagged photos in ``scope`` as markers (fit: zoom to show them all)."""
        self.scope = scope
        points = [
            {"id": pid, "lat": lat, "lon": lon, "title": name}
            for pid, lat, lon, name in browse.geotagged_points(self.lib, scope)
        ]
        self.map.call("showLibrary", points)
        if points and fit:
            self.map.call("fitAll")

    def show_candidates(self, details: browse.PhotoDetails | None, fit: bool) -> None:
        """The photo's own location and its candidates (a photo with GPS only: zoom to it)."""
        self.details = details
        if details is None:
            self.map.call("clearCandidates")
            return
        lat, lon = details.gps_lat, details.gps_lon
        if lat is None:  # accepted or placed, not written yet: show it there (drag the marker to move it)
            lat, lon = accepted_at(details) or (None, None)
        payload: dict[str, Any] = {
            "photo": {"id": details.id, "title": details.filename, "lat": lat, "lon": lon},
            "candidates": [
                {
                    "index": c.index,
                    "lat": c.lat,
                    "lon": c.lon,
                    "radius_km": c.radius_km,
                    "label": c.label,
                    "level": c.level,
                    "confidence": c.confidence,
                    "source": c.source,
                }
                for c in details.candidates
            ],
            "fit": fit,
        }
        self.map.call("showCandidates", payload)
        if fit and not details.candidates and details.gps_lat is not None:
            self.map.call("focus", details.gps_lat, details.gps_lon, 12)

    def show_outline(self, details: browse.PhotoDetails, index: int) -> None:
        """The outline of candidate ``index`` (looked up in the background; dropped if the choice changed)."""
        if not 0 <= index < len(details.candidates):
            return
        cand = details.candidates[index]
        self.map.call("showOutline", None)

        def done(geometry) -> None:
            if self.still_showing(details.id, index):
                self.map.call("showOutline", geometry)

        self.tasks.submit("outline", lambda: browse.candidate_outline(cand.address, cand.level), done)

    def apply_tile_setting(self) -> None:
        """Online tiles only when enabled and the tile server answers (probed off the GUI thread)."""
        if self.settings.get(keys.TILES) != "osm" or not self.check_tiles:
            if self.map.tiles is not None:
                self.rebuild(None)
            return

        def done(reachable: bool) -> None:
            tiles = OSM if reachable else None
            if tiles != self.map.tiles:
                self.rebuild(tiles)
            if not reachable:
                self.status.show("Map tiles unreachable: showing the offline basemap", 6000)

        self.tasks.submit("tiles", lambda: tiles_reachable(OSM), done)

    def rebuild(self, tiles: TileSource | None) -> None:
        """Reload the map page (new tiles or palette) and show again what it showed."""
        self.map.load_map(tiles)
        self.show_library(self.scope, fit=self.details is None)
        self.show_candidates(self.details, fit=True)
