"""Offline maps: Leaflet pages built with folium from locally installed files (never a CDN).

Used by the desktop app's map pane and by album exports. No Qt here: the GUI loads the page that
``build_map_page`` writes and talks to it through the documented ``geotagger.*`` JS functions.
"""

from geotagger.maps.page import JS_API, MapPoint, build_map_page
from geotagger.maps.tiles import OSM, TileSource, tiles_reachable

__all__ = ["JS_API", "OSM", "MapPoint", "TileSource", "build_map_page", "tiles_reachable"]
