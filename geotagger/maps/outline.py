"""One outer boundary for a region drawn on the map.

A region made of several Natural Earth polygons (a Spanish autonomous community of provinces, a
country of admin-1 regions) is their union; the simplified, float32 polygons do not share their edges
exactly, so the union keeps hair-thin gaps along the old province borders, and the map draws them as
internal borders. Closing by a small buffer and back, then dropping holes below a size, leaves the outer
boundary and keeps real holes (Berlin inside Brandenburg, Lesotho inside South Africa).
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from shapely.geometry import Polygon, shape

GAP_DEG = 0.005  # closes slivers up to about 1 km wide
MIN_HOLE_DEG2 = 0.005  # about 50 km2 at mid latitudes: smaller holes are slivers, not enclaves


def _fill_small_holes(polygon: Polygon, min_area: float) -> Polygon:
    holes = [ring for ring in polygon.interiors if Polygon(ring).area >= min_area]
    return Polygon(polygon.exterior, holes)


def dissolve(geometry: dict[str, Any] | None, gap_deg: float = GAP_DEG) -> dict[str, Any] | None:
    """The GeoJSON geometry with internal seams closed: one outer ring per separate part."""
    if not geometry:
        return geometry
    region = shape(geometry)
    if region.is_empty:
        return geometry
    closed = region.buffer(gap_deg, join_style="mitre").buffer(-gap_deg, join_style="mitre")
    parts = [
        _fill_small_holes(p, MIN_HOLE_DEG2) for p in getattr(closed, "geoms", [closed]) if not p.is_empty
    ]
    if not parts:
        return geometry
    result = shapely.union_all(parts)
    return json.loads(shapely.to_geojson(result))
