"""Offline reverse geocoding: point -> Address (country > admin-1 > admin-2 > locality).

Why not a nearest-neighbour package alone: nearest-city lookups on raw lat/lon name the wrong country at
borders, ignore the dateline and accept lat 91. Here:

1. Country and admin-1 come from *containment* in Natural Earth 1:10m admin-1 polygons (public domain,
   simplified to 0.005 deg, resources/geo). A point outside every polygon (a beach photo just past the
   simplified coastline) snaps to the nearest polygon within ``COAST_SNAP_DEG`` (0.05 deg, at most ~5.5 km);
   further out it is open sea (no country; ``ocean`` stays None because no ocean polygons are shipped).
   A snapped point goes to the region of its nearest place when that region is within the snap distance
   too (Liberty Island lies in New Jersey's waters on the simplified map but is New York).
   Where Natural Earth's admin-1 is finer than GeoNames' (provinces of ES/FR/IT, districts of GB, ...)
   the GeoNames admin-1 above it is the admin-1 and the polygon becomes admin-2 (see build_geodata.py).
2. Locality = nearest GeoNames place (cities500, CC-BY) *in the same country and admin-1* within
   ``LOCALITY_MAX_KM`` (30 km: beyond that a town name misleads more than it helps), searched in a
   KD-tree on 3-D unit vectors so the dateline and the poles need no special case. GeoNames also lists
   neighbourhoods ("Barri Gòtic"), so inside a big place (population >= ``CITY_MIN_POPULATION``) the
   city itself wins: a point within the city's urban radius sqrt(population / (pi * 15000 / km^2))
   (Paris ~6.7 km, a 50k town ~1 km) of the same country and admin-1 gets the most populous such city.
   "Same admin-1" (``same_admin1``) is decided by the place's own coordinate in the point's admin-1
   polygons, or by GeoNames codes where those agree with the polygons: codes alone disagree at some
   borders (Hong Kong districts), and a locality from across a state line would be named for the wrong
   state ("Battery Park City, New Jersey").
3. admin-2 (where not from the polygon) = GeoNames admin-2 of the nearest place in the same admin-1
   within ``ADMIN2_MAX_KM`` (50 km).
"""

from __future__ import annotations

import gzip
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from geotagger.errors import UserInputError
from geotagger.geo.address import Address
from geotagger.paths import resources_dir

EARTH_RADIUS_KM = 6371.0
LOCALITY_MAX_KM = 30.0
ADMIN2_MAX_KM = 50.0
COAST_SNAP_DEG = 0.05
CITY_MIN_POPULATION = 50_000
URBAN_DENSITY_PER_KM2 = 15000.0
SEAT_POPULATION_RATIO = 3  # a section is at most a third of its city; twin cities stay apart
_K_NEIGHBOURS = 16
_K_CITIES = 32
_CHUNK = 16_384


class GeocodeInputError(UserInputError):
    """A coordinate is missing, not a number, or outside lat [-90, 90] / lon [-180, 180]."""

    def __init__(self, message: str, bad_rows: Sequence[int] = (), problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.bad_rows = list(bad_rows)  # 0-based row indices of the batch
        self.problems = list(problems)  # what is wrong with each bad row, same order


def _as_float(value: Any) -> float:
    if value is None or isinstance(value, (str, bytes, bool)):
        raise TypeError
    return float(value)


def validate_coordinates(lats: Any, lons: Any) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of valid coordinates, or GeocodeInputError naming the bad rows and values."""
    lat_arr, lon_arr = np.asarray(lats), np.asarray(lons)
    if lat_arr.dtype.kind in "fiu" and lon_arr.dtype.kind in "fiu" and lat_arr.shape == lon_arr.shape:
        lat, lon = lat_arr.astype(np.float64).reshape(-1), lon_arr.astype(np.float64).reshape(-1)
        with np.errstate(invalid="ignore"):
            if np.all((np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)):  # NaN fails this test
                return lat, lon
    lat_list = list(np.atleast_1d(np.asarray(lats, dtype=object)))
    lon_list = list(np.atleast_1d(np.asarray(lons, dtype=object)))
    if len(lat_list) != len(lon_list):
        raise GeocodeInputError(f"got {len(lat_list)} latitudes but {len(lon_list)} longitudes")
    lat = np.full(len(lat_list), np.nan)
    lon = np.full(len(lon_list), np.nan)
    problems: list[tuple[int, str]] = []
    for i, (la, lo) in enumerate(zip(lat_list, lon_list, strict=True)):
        try:
            lat[i], lon[i] = _as_float(la), _as_float(lo)
        except (TypeError, ValueError):
            problems.append((i, f"lat={la!r}, lon={lo!r} is not a pair of numbers"))
            continue
        if math.isnan(lat[i]) or math.isnan(lon[i]):
            problems.append((i, f"lat={la!r}, lon={lo!r} is not a pair of numbers (NaN)"))
        elif not (-90.0 <= lat[i] <= 90.0):
            problems.append((i, f"latitude {la!r} is outside [-90, 90]"))
        elif not (-180.0 <= lon[i] <= 180.0):
            problems.append((i, f"longitude {lo!r} is outside [-180, 180]"))
    if problems:
        rows, msgs = [i for i, _ in problems], [m for _, m in problems]
        if len(lat) == 1:
            raise GeocodeInputError(f"invalid coordinate: {msgs[0]}", rows, msgs)
        shown = "; ".join(f"row {i}: {msg}" for i, msg in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise GeocodeInputError(
            f"{len(problems)} invalid coordinate(s) (0-based rows): {shown}{more}", rows, msgs
        )
    return lat, lon


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """[N, 3] points on the unit sphere (neighbour search without dateline/pole artefacts)."""
    la, lo = np.radians(np.asarray(lat, np.float64)), np.radians(np.asarray(lon, np.float64))
    c = np.cos(la)
    return np.stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)], axis=-1)


def _chord(km: float) -> float:
    return 2.0 * math.sin(km / (2.0 * EARTH_RADIUS_KM))


@dataclass
class GeocodeArrays:
    """Raw batch result: indices into the geocoder's tables (-1 = none) and distances in km."""

    polygon: np.ndarray
    locality: np.ndarray
    locality_km: np.ndarray
    admin2_place: np.ndarray


class ReverseGeocoder:
    """Loads the derived files once; thread-safe for lookups (read-only after construction)."""

    _default: ReverseGeocoder | None = None
    _lock = threading.Lock()

    def __init__(self, data_dir: Path | None = None) -> None:
        data_dir = Path(data_dir) if data_dir else resources_dir() / "geo"
        poly = np.load(data_dir / "admin_polygons.npz")
        offsets = tuple(poly[f"offsets{i}"].astype(np.int64) for i in range(3))
        self.polygons = shapely.from_ragged_array(
            shapely.GeometryType(int(poly["geom_type"])), poly["coords"].astype(np.float64), offsets
        )
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)
        with gzip.open(data_dir / "admin_table.json.gz", "rt", encoding="utf-8") as fh:
            self.rows: list[dict[str, Any]] = json.load(fh)["rows"]
        with gzip.open(data_dir / "gazetteer.json.gz", "rt", encoding="utf-8") as fh:
            gaz = json.load(fh)
        self.country_names: dict[str, str] = gaz["countries"]
        self.subdivisions: list[dict[str, Any]] = gaz["subdivisions"]
        places = np.load(data_dir / "places.npz")
        self.place_lat = places["lat"].astype(np.float64)
        self.place_lon = places["lon"].astype(np.float64)
        self.place_id = places["geonames_id"]
        self.place_country = places["country"].astype(np.int32)
        self.place_admin1 = places["admin1"]
        self.place_admin2 = places["admin2"]
        self.place_names = places["names"].tobytes().decode("utf-8").split("\n")
        codes = [str(c) for c in places["country_codes"]]
        self.country_codes = codes
        code_idx = {c: i for i, c in enumerate(codes)}
        self.poly_country = np.array([code_idx.get(r["cc"], -2) for r in self.rows], np.int32)
        self.poly_gn_admin1 = np.array([r.get("gn_admin1", -1) for r in self.rows], np.int32)
        self.kdtree = cKDTree(unit_vectors(self.place_lat, self.place_lon))
        self.place_population = places["population"].astype(np.int64)
        self.place_radius_km = np.sqrt(self.place_population / (math.pi * URBAN_DENSITY_PER_KM2))
        self.big_index = np.flatnonzero(self.place_population >= CITY_MIN_POPULATION)
        self.big_tree = cKDTree(unit_vectors(self.place_lat[self.big_index], self.place_lon[self.big_index]))
        self.big_max_radius = float(self.place_radius_km[self.big_index].max(initial=0.0))
        a1_keys: dict[str, int] = {}
        self.poly_admin1_key = np.array(
            [a1_keys.setdefault(f"{r['cc']}/{r.get('id')}", len(a1_keys)) for r in self.rows], np.int64
        )
        self._place_poly = np.full(len(self.place_lat), -2, np.int64)  # -2: not computed yet
        self._poly_cache: list[dict[str, Any] | None] = [None] * len(self.rows)
        self._outlines: dict[str, shapely.Geometry] = {}

    @classmethod
    def default(cls) -> ReverseGeocoder:
        """The shared instance over the shipped data (loaded once per process)."""
        with cls._lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    # -- batch core -------------------------------------------------------------------------------

    def _containing_polygon(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return self._locate_polygons(lat, lon)[0]

    def _locate_polygons(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(polygon index per point, mask of points that lie in no polygon and were snapped)."""
        points = shapely.points(lon, lat)
        found = np.full(len(lat), -1, np.int64)
        # bounding-box candidates, then exact tests on prepared polygons (3x faster than a predicate query)
        pt_idx, poly_idx = self.tree.query(points)
        inside = shapely.contains_xy(self.polygons[poly_idx], lon[pt_idx], lat[pt_idx])
        pt_idx, poly_idx = pt_idx[inside], poly_idx[inside]
        # Overlaps after simplification are rare; the lowest polygon index wins (deterministic).
        order = np.lexsort((poly_idx, pt_idx))[::-1]
        found[pt_idx[order]] = poly_idx[order]
        missing = np.flatnonzero(found < 0)
        snapped = np.zeros(len(lat), bool)
        if len(missing):
            found[missing] = self._snap_to_coast(lat[missing], lon[missing])
            snapped[missing] = found[missing] >= 0
        return found, snapped

    def place_polygons(self, places: np.ndarray) -> np.ndarray:
        """The polygon each GeoNames place lies in (-1: none), computed on first use and cached.

        Why: a place's GeoNames admin-1 code and the Natural Earth polygon's code disagree in places
        (Hong Kong districts); the place's own coordinate in the polygon settles which admin-1 it is in.
        """
        places = np.asarray(places, np.int64)
        todo = np.unique(places[self._place_poly[places] == -2])
        if len(todo):
            self._place_poly[todo] = self._containing_polygon(self.place_lat[todo], self.place_lon[todo])
        return self._place_poly[places]

    def same_admin1(self, places: np.ndarray, poly: np.ndarray) -> np.ndarray:
        """[n, k] mask: place ``places[i, j]`` lies in the admin-1 of polygon ``poly[i]``.

        The place's own coordinate inside a polygon of the same admin-1; or, where that does not hold
        (a place just across a simplified border, a place in no polygon), the same GeoNames admin-1
        code and the place's polygon voted to that same GeoNames admin-1. Codes alone disagree at
        some borders (Hong Kong districts, Natural Earth provinces that are not GeoNames' admin-1).
        """
        places = np.asarray(places, np.int64)
        valid = (poly >= 0)[:, None]
        safe_poly = np.maximum(poly, 0)
        where = self.place_polygons(places.reshape(-1)).reshape(places.shape)
        safe_where = np.maximum(where, 0)
        key = self.poly_admin1_key[safe_poly][:, None]
        contained = (where >= 0) & (self.poly_admin1_key[safe_where] == key)
        gn = self.poly_gn_admin1[safe_poly][:, None]
        coded = (self.place_admin1[places] == gn) & (gn >= 0)
        coded &= (where < 0) | (self.poly_gn_admin1[safe_where] == gn)
        return valid & (contained | coded)

    def _settle_snapped(
        self, poly: np.ndarray, snapped: np.ndarray, lat: np.ndarray, lon: np.ndarray, nearest: np.ndarray
    ) -> None:
        """A point in the water between two regions (Liberty Island lies in New Jersey's waters but is
        New York) belongs to the region of its nearest place when that region is within the snap
        distance too, not simply to the closest simplified coastline. ``nearest``: place or -1."""
        rows = np.flatnonzero(snapped & (nearest >= 0))
        if not len(rows):
            return
        home = self.place_polygons(nearest[rows])
        ok = (home >= 0) & (home != poly[rows])
        rows, home = rows[ok], home[ok]
        if not len(rows):
            return
        d = shapely.distance(self.polygons[home], shapely.points(lon[rows], lat[rows]))
        near = d <= COAST_SNAP_DEG
        poly[rows[near]] = home[near]

    def _snap_to_coast(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Nearest polygon within COAST_SNAP_DEG, also across the dateline; -1 = open sea."""
        best = np.full(len(lat), -1, np.int64)
        best_d = np.full(len(lat), np.inf)
        for shift in (0.0, 360.0, -360.0):
            sel = (
                np.arange(len(lat))
                if shift == 0
                else np.flatnonzero(np.abs(lon + shift) <= 180 + COAST_SNAP_DEG)
            )
            if shift and len(sel):
                sel = sel[np.abs(lon[sel]) >= 180 - COAST_SNAP_DEG]
            if not len(sel):
                continue
            pts = shapely.points(lon[sel] + shift, lat[sel])
            (pi, gi), dist = self.tree.query_nearest(
                pts, max_distance=COAST_SNAP_DEG, return_distance=True, all_matches=False
            )
            target = sel[pi]
            better = dist < best_d[target]
            best[target[better]] = gi[better]
            best_d[target[better]] = dist[better]
        return best

    def lookup_arrays(self, lats: Any, lons: Any) -> GeocodeArrays:
        """Vectorised lookup returning table indices (fast path for partitioning and benchmarks)."""
        lat, lon = validate_coordinates(lats, lons)
        if len(lat) == 0:
            empty = np.zeros(0, np.int64)
            return GeocodeArrays(empty, empty, np.zeros(0), empty)
        # chunks bound the [n, k] neighbour matrices (memory) without losing vectorisation
        parts = [
            self._lookup_chunk(lat[i : i + _CHUNK], lon[i : i + _CHUNK]) for i in range(0, len(lat), _CHUNK)
        ]
        if len(parts) == 1:
            return parts[0]
        return GeocodeArrays(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("polygon", "locality", "locality_km", "admin2_place")
            )
        )

    def _lookup_chunk(self, lat: np.ndarray, lon: np.ndarray) -> GeocodeArrays:
        n = len(lat)
        poly, snapped = self._locate_polygons(lat, lon)
        workers = -1 if n >= 5_000 else 1  # both cores for big batches
        vecs = unit_vectors(lat, lon)
        dist, idx = self.kdtree.query(
            vecs, k=_K_NEIGHBOURS, distance_upper_bound=_chord(ADMIN2_MAX_KM), workers=workers
        )
        dist, idx = dist.reshape(n, -1), idx.reshape(n, -1)
        valid = idx < len(self.place_lat)
        safe = np.where(valid, idx, 0)
        km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(dist / 2.0, 0.0, 1.0))
        rows = np.arange(n)
        near_ok = valid[:, 0] & (km[:, 0] <= LOCALITY_MAX_KM)
        self._settle_snapped(poly, snapped, lat, lon, np.where(near_ok, safe[:, 0], -1))
        point_country = np.where(poly >= 0, self.poly_country[np.maximum(poly, 0)], -3)
        same_country = valid & (self.place_country[safe] == point_country[:, None])
        # a locality must lie in the point's admin-1, or the address would claim it for that region
        same_a1 = same_country & self.same_admin1(safe, poly)
        loc_ok = same_a1 & (km <= LOCALITY_MAX_KM)
        has_loc = loc_ok.any(axis=1)
        loc_col = loc_ok.argmax(axis=1)
        locality = np.where(has_loc, safe[rows, loc_col], -1)
        locality_km = np.where(has_loc, km[rows, loc_col], np.nan)
        city, city_km = self.enclosing_city(vecs, point_country, poly)
        in_city = city >= 0
        locality[in_city], locality_km[in_city] = city[in_city], city_km[in_city]
        gn_a1 = np.where(poly >= 0, self.poly_gn_admin1[np.maximum(poly, 0)], -1)
        a2_ok = same_country & (self.place_admin1[safe] == gn_a1[:, None]) & (gn_a1[:, None] >= 0)
        a2_ok &= self.place_admin2[safe] >= 0
        has_a2 = a2_ok.any(axis=1)
        admin2_place = np.where(has_a2, safe[rows, a2_ok.argmax(axis=1)], -1)
        return GeocodeArrays(poly, locality, locality_km, admin2_place)

    def enclosing_city(
        self, vecs: np.ndarray, point_country: np.ndarray, poly: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The most populous big place whose urban radius covers the point (same country and
        admin-1), else -1: inside Barcelona the locality is Barcelona, not a neighbourhood."""
        n = len(vecs)
        if not len(self.big_index):
            return np.full(n, -1, np.int64), np.full(n, np.nan)
        dist, idx = self.big_tree.query(vecs, k=_K_CITIES, distance_upper_bound=_chord(self.big_max_radius))
        dist, idx = dist.reshape(n, -1), idx.reshape(n, -1)
        valid = idx < len(self.big_index)
        place = self.big_index[np.where(valid, idx, 0)]
        km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(dist / 2.0, 0.0, 1.0))
        ok = (
            valid
            & (km <= self.place_radius_km[place])
            & (self.place_country[place] == point_country[:, None])
        )
        if ok.any():
            ok &= self.same_admin1(place, poly)
        pop = np.where(ok, self.place_population[place], -1)
        col = pop.argmax(axis=1)
        rows = np.arange(n)
        has = ok[rows, col]
        return np.where(has, place[rows, col], -1), np.where(has, km[rows, col], np.nan)

    def country_code(self, place: int) -> str:
        """ISO code of a GeoNames place's country."""
        return self.country_codes[int(self.place_country[place])]

    def seats(self, places: np.ndarray) -> np.ndarray:
        """The place each GeoNames place is a section of (itself when it stands alone).

        GeoNames lists the sections of a city as populated places of their own (Paris's arrondissements
        "Paris 15 Vaugirard", London boroughs, Tokyo wards, New York boroughs) and this data has no
        feature codes to tell them apart. A place is a section of a big place of the same country and
        admin-1 (or of none, as Hong Kong) with at least ``SEAT_POPULATION_RATIO`` times its
        population when their urban disks (radius sqrt(population / (pi * 15000 / km^2))) overlap;
        followed to the top of the chain.
        """
        seat = np.asarray(places, np.int64).copy()
        for _ in range(3):  # a section of a section (a quarter of a borough) reaches the city
            vecs = unit_vectors(self.place_lat[seat], self.place_lon[seat])
            reach = _chord(self.big_max_radius + float(self.place_radius_km[seat].max(initial=0.0)))
            dist, idx = self.big_tree.query(vecs, k=_K_CITIES, distance_upper_bound=reach)
            dist, idx = dist.reshape(len(seat), -1), idx.reshape(len(seat), -1)
            valid = idx < len(self.big_index)
            big = self.big_index[np.where(valid, idx, 0)]
            km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(dist / 2.0, 0.0, 1.0))
            ok = valid & (km <= self.place_radius_km[big] + self.place_radius_km[seat][:, None])
            ok &= self.place_population[big] >= SEAT_POPULATION_RATIO * self.place_population[seat][:, None]
            ok &= self.place_country[big] == self.place_country[seat][:, None]
            if ok.any():  # a city without an admin-1 of its own (Hong Kong) stands over all of them
                ok &= self.same_admin1(big, self.place_polygons(seat)) | (self.place_admin1[big] < 0)
            pop = np.where(ok, self.place_population[big], -1)
            col = pop.argmax(axis=1)
            rows = np.arange(len(seat))
            moved = ok[rows, col]
            if not moved.any():
                break
            seat[moved] = big[rows, col][moved]
        return seat

    # -- addresses --------------------------------------------------------------------------------

    def _polygon_fields(self, p: int) -> dict[str, Any]:
        cached = self._poly_cache[p]
        if cached is None:
            row = self.rows[p]
            cc = row["cc"]
            cached = {
                "country_code": cc,
                "country": self.country_names.get(cc) or row.get("country_ne"),
                "admin1": row.get("name"),
                "admin1_code": row.get("code"),
                "admin1_id": row.get("id"),
                "admin2": row.get("admin2_name"),
                "admin2_id": row.get("admin2_id"),
            }
            self._poly_cache[p] = cached
        return cached

    def _address(self, poly: int, loc: int, loc_km: float, a2_place: int) -> Address:
        if poly < 0:
            return Address()
        f = self._polygon_fields(poly)
        ids = {"country": f["country_code"]}
        if f["admin1_id"]:
            ids["admin1"] = f["admin1_id"]
        admin2, admin2_id = f["admin2"], f["admin2_id"]
        if admin2 is None and a2_place >= 0:
            sub = self.subdivisions[int(self.place_admin2[a2_place])]
            admin2, admin2_id = sub["name"], sub["id"]
        if admin2_id:
            ids["admin2"] = admin2_id
        locality = None
        if loc >= 0:
            locality = self.place_names[loc]
            ids["locality"] = f"geonames:{int(self.place_id[loc])}"
        return Address(
            country_code=f["country_code"],
            country=f["country"],
            admin1=f["admin1"],
            admin1_code=f["admin1_code"],
            admin2=admin2,
            locality=locality,
            locality_distance_km=round(float(loc_km), 3) if loc >= 0 else None,
            ids=ids,
        )

    def lookup_many(self, lats: Any, lons: Any) -> list[Address]:
        """One Address per row; GeocodeInputError (with ``bad_rows``) if any row is invalid."""
        r = self.lookup_arrays(lats, lons)
        return [
            self._address(int(p), int(loc), float(km), int(a2))
            for p, loc, km, a2 in zip(
                r.polygon.tolist(),
                r.locality.tolist(),
                r.locality_km.tolist(),
                r.admin2_place.tolist(),
                strict=True,
            )
        ]

    def lookup(self, lat: Any, lon: Any) -> Address:
        """The address of one point."""
        return self.lookup_many([lat], [lon])[0]

    def outline(self, outline_id: str) -> shapely.Geometry | None:
        """The region behind a class's ``outline_id`` (admin-1 id or country code), for maps.

        Several polygons share an admin-1 id where Natural Earth is finer than GeoNames; a country is
        the union of its polygons. None for an unknown id.
        """
        with self._lock:
            cached = self._outlines.get(outline_id)
        if cached is not None:
            return cached
        members = [i for i, r in enumerate(self.rows) if outline_id in (r.get("id"), r.get("admin2_id"))]
        if not members:
            members = [i for i, r in enumerate(self.rows) if r["cc"] == outline_id]
        if not members:
            return None
        shape = shapely.union_all(self.polygons[members]) if len(members) > 1 else self.polygons[members[0]]
        with self._lock:
            self._outlines[outline_id] = shape
        return shape

    def outline_geojson(self, outline_id: str, tolerance_deg: float = 0.0) -> dict[str, Any] | None:
        """``outline`` as a GeoJSON geometry dict (optionally simplified further for a light map)."""
        shape = self.outline(outline_id)
        if shape is None:
            return None
        if tolerance_deg > 0:
            shape = shapely.simplify(shape, tolerance_deg, preserve_topology=True)
        return json.loads(shapely.to_geojson(shape))


def reverse_geocode(lat: Any, lon: Any) -> Address:
    """Convenience: the address of one point with the shared geocoder."""
    return ReverseGeocoder.default().lookup(lat, lon)
