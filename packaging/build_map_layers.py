"""Rebuild resources/maps/layers/, the offline map's detail layers (run by maintainers, not at run time).

Layers (each a small script ``GEOTAGGER_LAYER(name, data)`` the page loads lazily by zoom; file://
pages may not fetch JSON in every browser, scripts always load):
- ``places-N.js``: place labels by zoom tier from the geocoder's GeoNames places
  (resources/geo/places.npz, CC BY 4.0), population-ordered; plus country names from countries.geojson.
- ``admin1.js``, ``admin1-fine.js``: admin-1 borders (Natural Earth 1:10m, public domain) as lines, from
  resources/geo/admin_polygons.npz: only the edges two regions share, so coasts are not drawn twice.
- ``rivers.js``: rivers of GSHHG's WDBII data (Debian ``gmt-gshhg-low``, LGPL-3), intermediate
  resolution: major rivers, and from zoom 8 the next class. Read with h5py (the files are netCDF-4/HDF5).
- ``land/<lat>_<lon>.js``: land from the same admin-1 polygons (their union), 10-degree tiles, for
  zoom >= 8 where the 1:50m basemap coast is kilometres off.
- ``lakes.js``: lakes from npm ``@geo-maps/earth-lakes-1km@0.6.0`` (OpenStreetMap data, ODbL),
  lakes over 60 km2 (from zoom 4) and 20-60 km2 (from zoom 8), simplified.
Places of 1-1,999 people are left out (size). Not found in any registry: roads (no Natural Earth roads derivative on npm/PyPI/Debian was found).

    python packaging/build_map_layers.py [--lakes DIR] [--gshhg DIR]

Without --lakes it runs ``npm pack`` in a temporary folder; --gshhg defaults to /usr/share/gmt-gshhg
(``apt-get install gmt-gshhg-low``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[1]
GEO = ROOT / "resources" / "geo"
OUT = ROOT / "resources" / "maps" / "layers"
LAKES_PACKAGE = "@geo-maps/earth-lakes-1km@0.6.0"
# (min zoom, min population): capitals and large cities first, towns and villages at high zoom.
# The last tier holds the places GeoNames gives no population (0), e.g. Ostermundigen next to Bern.
PLACE_TIERS = [
    (3, 1_000_000, None),
    (5, 250_000, 1_000_000),
    (6, 80_000, 250_000),
    (8, 20_000, 80_000),
    (10, 5_000, 20_000),
    (11, 2_000, 5_000),
    (12, 0, 1),
]
COUNTRY_ZOOMS = (2, 6)  # country names from zoom 2 up to (not including) zoom 6
COUNTRY_LABEL_PX = 36  # a country is named once its largest part is about this wide on screen
LAND_MIN_ZOOM = 8  # from here the page draws the detailed land instead of the basemap's fill
LAND_TILE = 10  # degrees
LAND_MIN_HOLE_DEG2 = 0.005  # smaller holes in the land union are seams, not lakes (lakes have their layer)
FINE_REGION_DEG2 = 0.08  # admin-1 regions smaller than this (about 800 km2) get their borders from zoom 7
# WDBII river levels in GMT's file: 0 double-lined, 1 permanent major, 2 additional major, 3 additional
# (the Aare at Bern), 4 minor, 5-7 intermittent, 8-10 canals. Major ones from zoom 5, level 3 from zoom 8.
RIVER_LEVELS = {"rivers": (0, 2), "rivers-more": (3, 3)}
RIVER_DETAIL = {"rivers": (0.015, 2), "rivers-more": (0.006, 2)}  # simplification (deg), decimals
LAKES = {"lakes": (60.0, 1e12), "lakes-small": (20.0, 60.0)}  # km2 ranges: from zoom 4 / zoom 8


def _js(name: str, data: Any) -> str:
    return f"GEOTAGGER_LAYER({json.dumps(name)},{json.dumps(data, separators=(',', ':'), ensure_ascii=False)});\n"


def _write(name: str, data: Any) -> int:
    path = OUT / f"{name}.js"
    path.write_text(_js(name, data), encoding="utf-8")
    return path.stat().st_size


def _encode(xy: np.ndarray, digits: int) -> list[int]:
    """One line or ring as integers: lat, lon of the first point times 10**digits, then the steps to
    each next point (repeated points dropped). Half the size of JSON [lat, lon] pairs; the page adds
    the steps back up (geotagger-layers.js, decode)."""
    ints = np.round(np.asarray(xy)[:, 1::-1] * 10**digits).astype(np.int64)  # (lat, lon)
    keep = np.ones(len(ints), bool)
    keep[1:] = np.any(ints[1:] != ints[:-1], axis=1)
    ints = ints[keep]
    steps = np.vstack([ints[:1], np.diff(ints, axis=0)])
    return steps.ravel().tolist()


def _coords(geom: shapely.Geometry, digits: int = 3) -> dict[str, Any]:
    """Lines, encoded (see _encode)."""
    lines = []
    for part in getattr(geom, "geoms", [geom]):
        if part.is_empty or part.geom_type != "LineString":
            continue
        encoded = _encode(np.asarray(part.coords)[:, :2], digits)
        if len(encoded) >= 4:
            lines.append(encoded)
    return {"scale": 10**digits, "lines": lines}


def _rings(geom: shapely.Geometry, digits: int) -> list[list[list[int]]]:
    """Polygons as lists of encoded rings (outer ring first, holes after)."""
    out = []
    for part in getattr(geom, "geoms", [geom]):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        rings = [part.exterior, *part.interiors]
        encoded = [_encode(np.asarray(r.coords)[:, :2], digits) for r in rings]
        if len(encoded[0]) >= 8:
            out.append([e for e in encoded if len(e) >= 8])
    return out


def city_sections(lat: np.ndarray, lon: np.ndarray, pop: np.ndarray, names: list[str]) -> np.ndarray:
    """Mask of places that are sections of a larger neighbour ("Zürich (Kreis 11)", "Paris 11
    Arrondissement" within 8 km of Zürich, Paris): a label of their own would repeat the city's."""
    from scipy.spatial import cKDTree

    xy = np.column_stack([lat, lon * np.cos(np.radians(lat))])
    tree = cKDTree(xy)
    drop = np.zeros(len(names), bool)
    for i, j in tree.query_pairs(0.08, output_type="ndarray"):
        small, big = (i, j) if pop[i] < pop[j] else (j, i)
        if names[small] != names[big] and names[small].startswith(names[big] + " "):
            drop[small] = True
    return drop


def place_tiers() -> list[dict[str, Any]]:
    """Per tier: min zoom and the places as one flat [lat, lon, name, ...] list, largest first."""
    places = np.load(GEO / "places.npz")
    names = places["names"].tobytes().decode("utf-8").split("\n")
    pop = places["population"].astype(np.int64)
    lats = np.round(places["lat"].astype(np.float64), 3).tolist()
    lons = np.round(places["lon"].astype(np.float64), 3).tolist()
    order = np.argsort(-pop, kind="stable")
    sections = city_sections(places["lat"].astype(np.float64), places["lon"].astype(np.float64), pop, names)
    order = order[~sections[order]]
    print(f"{int(sections.sum())} city sections left out", flush=True)
    tiers = []
    for zoom, floor, upper in PLACE_TIERS:
        chosen = order[(pop[order] >= floor) & (pop[order] < (upper or np.iinfo(np.int64).max))]
        flat: list[Any] = []
        for i in chosen.tolist():
            flat += [lats[i], lons[i], names[i]]
        tiers.append({"minZoom": zoom, "places": flat})
    return tiers


def country_labels() -> tuple[list[Any], list[int]]:
    """Country names at a point inside the largest part of each country, largest countries first, and
    the zoom from which each one is wide enough to carry its name (Monaco: never at country scale)."""
    data = json.loads((ROOT / "resources" / "maps" / "countries.geojson").read_text(encoding="utf-8"))
    rows = []
    for feature in data["features"]:
        geom = shape(feature["geometry"])
        parts = getattr(geom, "geoms", [geom])
        largest = max(parts, key=lambda p: p.area)
        point = largest.representative_point()
        rows.append(
            (largest.area, round(point.y, 2), round(point.x, 2), feature["properties"].get("name", ""))
        )
    rows.sort(reverse=True)
    rows = [r for r in rows if r[3]]
    flat = [value for _, lat, lon, name in rows for value in (lat, lon, name)]
    zooms = [max(0, math.ceil(math.log2(COUNTRY_LABEL_PX * 360 / (256 * math.sqrt(a))))) for a, *_ in rows]
    return flat, zooms


def admin1_borders(tolerance: float) -> tuple[dict[str, dict[str, Any]], shapely.Geometry]:
    """Edges shared by two admin-1 regions (each once), simplified: ``borders`` between countries (drawn
    with the detailed land from zoom 8, when the basemap's own lines are hidden), ``admin1`` between
    regions of at least ``FINE_REGION_DEG2`` (from zoom 5), ``admin1-fine`` the rest (Slovenian
    municipalities, English districts: a blur at country scale, from zoom 7). Also their union, the land."""
    poly = np.load(GEO / "admin_polygons.npz")
    offsets = tuple(poly[f"offsets{i}"].astype(np.int64) for i in range(3))
    polygons = shapely.from_ragged_array(
        shapely.GeometryType(int(poly["geom_type"])), poly["coords"].astype(np.float64), offsets
    )
    polygons = shapely.make_valid(polygons)
    tree = shapely.STRtree(polygons)
    near = shapely.buffer(polygons, 0.01)
    area = shapely.area(polygons)
    with gzip.open(GEO / "admin_table.json.gz", "rt", encoding="utf-8") as fh:
        country = [row["cc"] for row in json.load(fh)["rows"]]
    lines: dict[str, list] = {"admin1": [], "admin1-fine": [], "borders": []}
    land = shapely.union_all(polygons, grid_size=0.001)  # one land shape: coasts without admin seams
    for i, geom in enumerate(polygons):
        boundary = shapely.boundary(geom)
        for j in tree.query(geom):
            if j <= i:
                continue
            shared = shapely.intersection(boundary, near[j])
            if not shared.is_empty and shared.length > 0:
                if country[i] != country[j]:
                    lines["borders"].append(shared)
                elif min(area[i], area[j]) < FINE_REGION_DEG2:
                    lines["admin1-fine"].append(shared)
                else:
                    lines["admin1"].append(shared)
    out = {}
    for name, found in lines.items():
        merged = shapely.line_merge(shapely.union_all(found))
        out[name] = _coords(shapely.simplify(merged, tolerance, preserve_topology=False), digits=2)
    return out, land


def rivers(gshhg: Path, tolerance: float, digits: int, levels: tuple[int, int]) -> dict[str, Any]:
    """WDBII rivers from GMT's binned netCDF file: points are unsigned 16-bit offsets within a bin."""
    import h5py

    with h5py.File(gshhg / "binned_river_i.nc", "r") as f:
        size = float(f["Bin_size_in_minutes"][0]) / 60.0
        nx = int(f["N_bins_in_360_longitude_range"][0])
        first_seg = f["Id_of_first_segment_in_a_bin"][:]
        n_seg = f["N_segments_in_a_bin"][:]
        n_pts = f["N_points_for_a_segment"][:].astype(np.int64)
        level = f["Hierarchial_level_of_a_segment"][:]
        first_pt = f["Id_of_first_point_in_a_segment"][:]
        dx = f["Relative_longitude_from_SW_corner_of_bin"][:].astype(np.uint16).astype(np.float64)
        dy = f["Relative_latitude_from_SW_corner_of_bin"][:].astype(np.uint16).astype(np.float64)
    lines = []
    for b in range(len(first_seg)):
        lon0 = (b % nx) * size
        lat0 = 90.0 - (b // nx + 1) * size
        for s in range(first_seg[b], first_seg[b] + n_seg[b]):
            if not levels[0] <= level[s] <= levels[1] or n_pts[s] < 2:
                continue
            k = slice(first_pt[s], first_pt[s] + n_pts[s])
            lon = lon0 + dx[k] * size / 65535.0
            lon = np.where(lon > 180.0, lon - 360.0, lon)
            lat = lat0 + dy[k] * size / 65535.0
            lines.append(shapely.LineString(np.column_stack([lon, lat])))
    merged = shapely.line_merge(shapely.union_all(lines))
    return _coords(shapely.simplify(merged, tolerance, preserve_topology=False), digits=digits)


def lakes(folder: Path, km2_range: tuple[float, float], tolerance: float, digits: int = 3) -> dict[str, Any]:
    """Lake polygons, encoded rings (outer ring, islands as holes)."""
    data = json.loads((folder / "map.geo.json").read_text(encoding="utf-8"))
    geom = shape(data["geometries"][0])
    out = []
    for part in getattr(geom, "geoms", [geom]):
        lat = part.centroid.y
        km2 = part.area * 111.32**2 * max(0.05, np.cos(np.radians(lat)))
        if not km2_range[0] <= km2 < km2_range[1]:
            continue
        simple = shapely.simplify(part, tolerance, preserve_topology=True)
        if simple.is_empty:
            continue
        out += _rings(simple, digits)
    return {"scale": 10**digits, "polygons": out}


def land_tiles(land: shapely.Geometry, tolerance: float) -> dict[str, dict[str, Any]]:
    """Land from the 1:10m admin-1 polygons for zoom >= LAND_MIN_ZOOM (the 1:50m basemap puts
    Marseille's suburbs in the sea at city scale), cut into LAND_TILE-degree tiles loaded as viewed."""
    # Hair-thin gaps between neighbouring regions survive the union as tiny holes: dark specks on land.
    parts = [
        shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= LAND_MIN_HOLE_DEG2])
        for p in getattr(land, "geoms", [land])
    ]
    land = shapely.simplify(shapely.MultiPolygon(parts), tolerance, preserve_topology=True)
    tiles = {}
    for y in range(-90, 90, LAND_TILE):
        for x in range(-180, 180, LAND_TILE):
            part = shapely.clip_by_rect(land, x, y, x + LAND_TILE, y + LAND_TILE)
            polygons = _rings(part, 3) if not part.is_empty else []
            if polygons:
                tiles[f"land/{y}_{x}"] = {"scale": 1000, "polygons": polygons}
    return tiles


def fetch_lakes(tmp: Path) -> Path:
    subprocess.run(["npm", "pack", LAKES_PACKAGE, "--silent"], cwd=tmp, check=True, capture_output=True)
    with tarfile.open(next(tmp.glob("*.tgz"))) as tar:
        tar.extractall(tmp, filter="data")
    return tmp / "package"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lakes", type=Path, help="folder holding the lakes package's map.geo.json")
    parser.add_argument("--gshhg", type=Path, default=Path("/usr/share/gmt-gshhg"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for n, tier in enumerate(place_tiers()):
        sizes[f"places-{n}"] = _write(f"places-{n}", tier)
    print("places written", flush=True)
    flat, zooms = country_labels()
    sizes["countries"] = _write(
        "countries",
        {"minZoom": COUNTRY_ZOOMS[0], "maxZoom": COUNTRY_ZOOMS[1], "places": flat, "minZooms": zooms},
    )
    borders, land = admin1_borders(0.02)
    for name, lines in borders.items():
        sizes[name] = _write(name, lines)
    (OUT / "land").mkdir(exist_ok=True)
    land_files = land_tiles(land, 0.004)
    for name, data in land_files.items():
        sizes[name] = _write(name, data)
    for name, levels in RIVER_LEVELS.items():
        sizes[name] = _write(name, rivers(args.gshhg, *RIVER_DETAIL[name], levels=levels))
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.lakes or fetch_lakes(Path(tmp))
        for name, km2 in LAKES.items():
            sizes[name] = _write(
                name, lakes(folder, km2, 0.012 if name == "lakes" else 0.006, 2 if name == "lakes" else 3)
            )
    manifest = {
        "tiers": [{"file": f"places-{n}", "minZoom": z} for n, (z, _, _) in enumerate(PLACE_TIERS)],
        "land": {"minZoom": LAND_MIN_ZOOM, "tile": LAND_TILE, "files": sorted(land_files)},
        "sizes": sizes,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    for name, size in sizes.items():
        if not name.startswith("land/"):
            print(f"{name}: {size / 1e6:.2f} MB")
    land_mb = sum(v for k, v in sizes.items() if k.startswith("land/")) / 1e6
    print(f"land: {len(land_files)} tiles, {land_mb:.2f} MB")
    print(f"total: {sum(sizes.values()) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
