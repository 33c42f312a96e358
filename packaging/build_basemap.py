"""Rebuild resources/maps/countries.geojson, the offline basemap of the map pane and album pages.

Source: Natural Earth 1:50m admin-0 countries (public domain) as redistributed in the npm package
world-atlas@2.0.2 (TopoJSON, ISC). The TopoJSON arcs are decoded here (delta-encoded, quantized),
simplified with shapely and rounded to 3 decimals (about 100 m), which keeps the file near 1 MB.

    python packaging/build_basemap.py [--atlas DIR_WITH_countries-50m.json]

Without --atlas it runs ``npm pack world-atlas@2.0.2`` in a temporary folder (needs npm).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from shapely.affinity import translate
from shapely.geometry import box, mapping, shape
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "maps" / "countries.geojson"
PACKAGE = "world-atlas@2.0.2"


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat points of every arc (TopoJSON spec: quantized, delta-encoded positions)."""
    sx, sy = topology["transform"]["scale"]
    tx, ty = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Join arcs into one ring; a negative index ~i means arc i reversed; shared end points dropped."""
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def to_geometry(geometry: dict[str, Any], arcs: list[list[tuple[float, float]]]) -> dict[str, Any] | None:
    kind = geometry.get("type")
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r, arcs) for r in geometry["arcs"]]}
    if kind == "MultiPolygon":
        return {
            "type": "MultiPolygon",
            "coordinates": [[ring(r, arcs) for r in polygon] for polygon in geometry["arcs"]],
        }
    return None


def _crosses_antimeridian(coords: list) -> bool:
    return any(abs(a[0] - b[0]) > 180 for a, b in zip(coords, coords[1:], strict=False))


def _unwrap(ring_points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(x + 360 if x < 0 else x, y) for x, y in ring_points]


def split_antimeridian(geo: dict[str, Any]):
    """Polygons that jump across 180 degrees draw a band across the whole map in Leaflet: unwrap such
    parts to 0..360 and cut them back into the -180..180 world."""
    polygons = [geo["coordinates"]] if geo["type"] == "Polygon" else geo["coordinates"]
    parts = []
    for polygon in polygons:
        if any(_crosses_antimeridian(r) for r in polygon):
            whole = shape({"type": "Polygon", "coordinates": [_unwrap(r) for r in polygon]}).buffer(0)
            parts.append(whole.intersection(box(-180, -90, 180, 90)))
            parts.append(translate(whole.intersection(box(180, -90, 540, 90)), xoff=-360))
        else:
            parts.append(shape({"type": "Polygon", "coordinates": polygon}))
    return unary_union([p for p in parts if not p.is_empty])


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    return value


def build(atlas_dir: Path, tolerance: float) -> dict[str, Any]:
    topology = json.loads((atlas_dir / "countries-50m.json").read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        geo = to_geometry(geometry, arcs)
        if geo is None:
            continue
        simplified = split_antimeridian(geo).simplify(tolerance, preserve_topology=True)
        if simplified.is_empty:
            continue
        data = mapping(simplified)
        features.append(
            {
                "type": "Feature",
                "id": geometry.get("id"),
                "properties": {"name": geometry.get("properties", {}).get("name", "")},
                "geometry": {"type": data["type"], "coordinates": _round(data["coordinates"])},
            }
        )
    return {
        "type": "FeatureCollection",
        "attribution": "Natural Earth (public domain), via world-atlas 2.0.2",
        "features": features,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atlas", type=Path, help="folder holding countries-50m.json")
    parser.add_argument("--tolerance", type=float, default=0.02, help="simplification in degrees")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        atlas = args.atlas
        if atlas is None:
            subprocess.run(["npm", "pack", PACKAGE], cwd=tmp, check=True, capture_output=True)
            tarball = next(Path(tmp).glob("world-atlas-*.tgz"))
            with tarfile.open(tarball) as tar:
                tar.extractall(tmp, filter="data")
            atlas = Path(tmp) / "package"
        collection = build(atlas, args.tolerance)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(collection, separators=(",", ":")), encoding="utf-8")
    print(f"{OUT}: {len(collection['features'])} countries, {OUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
