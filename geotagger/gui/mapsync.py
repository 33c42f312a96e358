"""Keeps the map in step with the window: the library's geotagged photos, the shown photo's candidates
with the chosen one's outline, and the tile source (online tiles only when enabled and reachable).

The map page is driven through MapPane.call; slow look-ups (outlines, the tile probe) run through the
TaskRunner and are applied on the GUI thread only if the user has not moved on meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from geotagger.maps import OSM, tiles_reachable
from geotagger.services import browse

if TYPE_CHECKING:
    from geotagger.gui.window import MainWindow


def show_library(win: MainWindow, fit: bool = False) -> None:
    """The geotagged photos in the current scope as markers (fit: zoom to show them all)."""
    points = [
        {"id": pid, "lat": lat, "lon": lon, "title": name}
        for pid, lat, lon, name in browse.geotagged_points(win.lib, win.scope)
    ]
    win.map.call("showLibrary", points)
    if points and fit:
        win.map.call("fitAll")


def show_candidates(win: MainWindow, fit: bool) -> None:
    """The shown photo's own location and its candidates (a photo with GPS only: zoom to it)."""
    d = win.current_details
    if d is None:
        return
    payload: dict[str, Any] = {
        "photo": {"id": d.id, "title": d.filename, "lat": d.gps_lat, "lon": d.gps_lon},
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
            for c in d.candidates
        ],
        "fit": fit,
    }
    win.map.call("showCandidates", payload)
    if fit and not d.candidates and d.gps_lat is not None:
        win.map.call("focus", d.gps_lat, d.gps_lon, 12)


def show_outline(win: MainWindow, index: int) -> None:
    """The outline of candidate ``index`` (looked up in the background; dropped if the choice changed)."""
    details = win.current_details
    if details is None or not 0 <= index < len(details.candidates):
        return
    cand = details.candidates[index]
    win.map.call("showOutline", None)

    def done(geometry) -> None:
        if win.current_id == details.id and win.details.current_candidate() == index:
            win.map.call("showOutline", geometry)

    win.tasks.submit("outline", lambda: browse.candidate_outline(cand.address, cand.level), done)


def apply_tile_setting(win: MainWindow) -> None:
    """Online tiles only when enabled and the tile server answers (probed off the GUI thread)."""
    if win.settings.get("map/tiles") != "osm" or not win.check_tiles:
        if win.map.tiles is not None:
            rebuild(win, None)
        return

    def done(reachable: bool) -> None:
        tiles = OSM if reachable else None
        if tiles != win.map.tiles:
            rebuild(win, tiles)
        if not reachable:
            win.statusBar().showMessage("Map tiles unreachable: showing the offline basemap", 6000)

    win.tasks.submit("tiles", lambda: tiles_reachable(OSM), done)


def rebuild(win: MainWindow, tiles) -> None:
    """Reload the map page (new tiles or palette) and show again what it showed."""
    win.map.load_map(tiles)
    show_library(win, fit=win.current_details is None)
    show_candidates(win, fit=True)
