"""How precise a shared location is: ``keep`` (as is), ``city`` / ``region`` (moved to the centre of
the place, so the exact spot stays private), ``strip`` (no location at all)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the geocoder loads scipy; import it only when coarsening
    from geotagger.geo.geocoder import ReverseGeocoder

LOCATION_MODES = ("keep", "city", "region", "strip")
# The uncertainty written with a coarsened position, so readers do not take it for a precise fix.
COARSE_RADIUS_KM = {"city": 10.0, "region": 100.0}


CITY_SNAP_KM = 25.0


def _city_centre(
    geocoder: ReverseGeocoder, lat: float, lon: float, country: str | None
) -> tuple[float, float, str] | None:
    """The town people would name, or None where no town is near (open country, open sea).

    Only places of the point's country and admin-1 count (a photo in Jersey City is not coarsened to
    New York). Sections of a city (Paris's arrondissements, boroughs, wards: GeoNames lists them as
    places of their own) count as their city (``ReverseGeocoder.seats``). Inside a big place's urban
    radius that place's seat wins; elsewhere the nearest seat within CITY_SNAP_KM whose population is
    at least a tenth of the largest one there (and >= 1000). The plain nearest place can be a monument
    80 m away, which would give the position away.
    """
    from geotagger.geo.geocoder import EARTH_RADIUS_KM, unit_vectors

    raw = geocoder.lookup_arrays([lat], [lon])
    poly = raw.polygon
    if poly[0] < 0:
        return None
    point = unit_vectors(np.array([lat]), np.array([lon]))[0]
    chord = 2.0 * np.sin(CITY_SNAP_KM / EARTH_RADIUS_KM / 2.0)
    near = np.array(sorted(geocoder.kdtree.query_ball_point(point, chord)), np.int64)
    if country and len(near):
        near = near[np.asarray(geocoder.country_codes)[geocoder.place_country[near]] == country]
    if len(near):
        near = near[geocoder.same_admin1(near[None, :], poly)[0]]
    city, _km = geocoder.enclosing_city(point[None, :], geocoder.poly_country[poly], poly)
    inside = int(geocoder.seats(city)[0]) if city[0] >= 0 else -1
    seats = np.unique(geocoder.seats(near)) if len(near) else np.zeros(0, np.int64)
    if inside >= 0:
        seats = np.union1d(seats, [inside])
    if not len(seats):
        return None
    population = geocoder.place_population[seats]
    towns = seats[population >= max(1000, int(population.max()) // 10)]
    if inside in towns:  # inside a big place's urban radius: that place (or the city it is part of)
        best = inside
    elif len(towns):
        distance = np.sum((geocoder.kdtree.data[towns] - point) ** 2, axis=1)
        best = int(towns[int(np.argmin(distance))])
    else:
        return None
    return float(geocoder.place_lat[best]), float(geocoder.place_lon[best]), geocoder.place_names[best]


def _region_centre(geocoder: ReverseGeocoder, address: dict[str, Any]) -> tuple[float, float] | None:
    import shapely

    ids = address.get("ids") or {}
    for key in ("admin1", "country"):
        if key in ids:
            shape = geocoder.outline(ids[key])
            if shape is not None:
                centre = shapely.centroid(shape)
                if not shapely.contains(shape, centre):  # a crescent-shaped region: a point inside it
                    centre = shapely.point_on_surface(shape)
                return float(centre.y), float(centre.x)
    return None


def coarsen(
    lat: float, lon: float, address: dict[str, Any], mode: str, geocoder: ReverseGeocoder | None = None
) -> tuple[float, float, dict[str, Any]] | None:
    """(lat, lon, address reduced to the mode's level), or None for ``strip``.

    ``city`` falls back to the region's centre where the point has no nearby locality.
    """
    if mode == "keep":
        return lat, lon, address
    if mode == "strip":
        return None
    if geocoder is None:
        from geotagger.geo.geocoder import ReverseGeocoder

        geocoder = ReverseGeocoder.default()
    reduced = {k: address.get(k) for k in ("country_code", "country", "admin1", "admin1_code")}
    reduced["ids"] = {k: v for k, v in (address.get("ids") or {}).items() if k in ("country", "admin1")}
    centre = None
    if mode == "city":
        city = _city_centre(geocoder, lat, lon, address.get("country_code"))
        if city is not None:
            centre = city[:2]
            reduced["locality"] = city[2]
    if centre is None:
        centre = _region_centre(geocoder, address)
    if centre is None:  # open sea: nothing coarser to snap to, so round to about 100 km
        centre = (round(lat), round(lon))
    parts = [reduced.get("locality"), reduced.get("admin1"), reduced.get("country")]
    reduced["display"] = ", ".join(dict.fromkeys(p for p in parts if p)) or "unknown place"
    return centre[0], centre[1], reduced
