"""Rebuild resources/maps/layers/, the offline map's detail layers (run by maintainers, not at run time).

Layers (each a small script ``GEOTAGGER_LAYER(name, data)`` the page loads lazily by zoom; file://
pages may not fetch JSON in every browser, scripts always load):
- ``places-N.js``: place labels by zoom tier from the geocoder's GeoNames places
  (resources/geo/places.npz, CC BY 4.0), population-ordered; plus country names from countries.geojson.
- ``admin1.js``, ``admin1-fine.js``: admin-1 borders (Natural Earth 1:10m, public domain) as lines, from
  resources/geo/admin_polygons.npz: only the edges two regions share, so coasts are not drawn twice.
- ``rivers.js``: rivers of GSHHG's WDBII data (Debian ``gmt-gshhg-low``, LGPL-3), intermediate
  resolution: major rivers, and from zoom 8 the next class. Read with h5py (the files are netCDF-4/HDF5).
- ``lakes.js``: lakes from npm ``@geo-maps/earth-lakes-1km@0.6.0`` (OpenStreetMap data, ODbL),
  lakes over 60 km2 (from zoom 4) and 20-60 km2 (from zoom 8), simplified.
Places of 1-1,999 people are left out (size). Not found in any registry: roads (no Natural Earth roads derivative on npm/PyPI/Debian was found).

    python packaging/build_map_layers.py [--lakes DIR] [--gshhg DIR]

Without --lakes it runs ``npm pack`` in a temporary folder; --gshhg defaults to /usr/share/gmt-gshhg
(``apt-get install gmt-gshhg-low``).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

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


def _coords(geom: shapely.Geometry, digits: int = 3) -> list:
    """Lines as lists of [lat, lon] (Leaflet order), rounded."""
    out = []
    parts = getattr(geom, "geoms", [geom])
    for part in parts:
        if part.is_empty or part.geom_type != "LineString":
            continue
        xy = np.round(np.asarray(part.coords)[:, :2], digits)
        out.append([[float(y), float(x)] for x, y in xy])
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


def admin1_borders(tolerance: float) -> dict[str, list]:
    """Edges shared by two admin-1 regions (each once), simplified: ``admin1`` between regions of at
    least ``FINE_REGION_DEG2`` (drawn from zoom 5), ``admin1-fine`` the rest (Slovenian municipalities,
    English districts: a blur at country scale, drawn from zoom 7)."""
    poly = np.load(GEO / "admin_polygons.npz")
    offsets = tuple(poly[f"offsets{i}"].astype(np.int64) for i in range(3))
    polygons = shapely.from_ragged_array(
        shapely.GeometryType(int(poly["geom_type"])), poly["coords"].astype(np.float64), offsets
    )
    polygons = shapely.make_valid(polygons)
    tree = shapely.STRtree(polygons)
    near = shapely.buffer(polygons, 0.01)
    area = shapely.area(polygons)
    lines: dict[str, list] = {"admin1": [], "admin1-fine": []}
    for i, geom in enumerate(polygons):
        boundary = shapely.boundary(geom)
        for j in tree.query(geom):
            if j <= i:
                continue
            shared = shapely.intersection(boundary, near[j])
            if not shared.is_empty and shared.length > 0:
                fine = min(area[i], area[j]) < FINE_REGION_DEG2
                lines["admin1-fine" if fine else "admin1"].append(shared)
    out = {}
    for name, found in lines.items():
        merged = shapely.line_merge(shapely.union_all(found))
        out[name] = _coords(shapely.simplify(merged, tolerance, preserve_topology=False), digits=2)
    return out


def rivers(gshhg: Path, tolerance: float, digits: int, levels: tuple[int, int]) -> list:
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


def lakes(folder: Path, km2_range: tuple[float, float], tolerance: float, digits: int = 3) -> list:
    """Lake polygons as Leaflet rings [[[lat, lon]...] ...] (outer ring, islands as holes)."""
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
        rings = mapping(simple)["coordinates"]
        out.append([[[round(y, digits), round(x, digits)] for x, y in ring_] for ring_ in rings])
    return out


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
    for name, borders in admin1_borders(0.02).items():
        sizes[name] = _write(name, borders)
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
        "sizes": sizes,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    for name, size in sizes.items():
        print(f"{name}: {size / 1e6:.2f} MB")
    print(f"total: {sum(sizes.values()) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
