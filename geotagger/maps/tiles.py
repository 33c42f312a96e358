"""Online raster tiles: only when the user enabled them and the tile server answers.

OpenStreetMap's tile usage policy asks for an identifying User-Agent and no bulk downloads; the map
only fetches the tiles a person looks at, and the GUI sets ``USER_AGENT`` on its web profile.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from geotagger import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"geotagger/{__version__} (desktop photo geotagger; +https://github.com/geotagger)"


@dataclass(frozen=True)
class TileSource:
    name: str
    url: str  # Leaflet template with {z}/{x}/{y}
    attribution: str
    max_zoom: int = 19
    probe: str = ""  # one small tile fetched to learn whether the network works


OSM = TileSource(
    name="OpenStreetMap",
    url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    attribution='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    probe="https://tile.openstreetmap.org/0/0/0.png",
)

TILE_SOURCES = {"osm": OSM}


def tiles_reachable(source: TileSource = OSM, timeout: float = 3.0) -> bool:
    """Whether one tile of the source can be fetched now (a single request, with our User-Agent)."""
    if not source.probe:
        return True
    request = urllib.request.Request(source.probe, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            ok = 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.info("tile server %s not reachable (%s); using the offline basemap", source.name, exc)
        return False
    return ok
