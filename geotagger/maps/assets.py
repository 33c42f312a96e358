"""The page's JS/CSS files, copied from installed XStatic packages next to the HTML (never a CDN).

Bootstrap and Font-Awesome are deliberately absent (their XStatic packages do not install); the page
uses Leaflet's own markers and popups, which need neither.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import xstatic.pkg.jquery as xs_jquery
import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster

from geotagger.errors import GeotaggerError
from geotagger.paths import resources_dir

BASEMAP_FILE = "countries.geojson"
LAYERS_DIR = "layers"  # detail layers loaded lazily by zoom (packaging/build_map_layers.py)
LAYERS_BUILD = "python packaging/build_map_layers.py"


def layer_manifest() -> dict:
    """For the page's options: the place-label tiers (file name, min zoom) and the land tiles."""
    path = resources_dir() / "maps" / LAYERS_DIR / "manifest.json"
    if not path.is_file():
        raise GeotaggerError(f"offline map layers missing: {path} (rebuild: {LAYERS_BUILD})")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return {"tiers": manifest["tiers"], "land": manifest["land"]}


@dataclass(frozen=True)
class PageAssets:
    """Relative URLs (from the HTML file) of the files a map page loads, in load order."""

    folder: str
    js: list[tuple[str, str]]
    css: list[tuple[str, str]]


def _copy(src: Path, dest: Path) -> None:
    if not src.is_file():
        raise GeotaggerError(f"map asset missing from the installation: {src}")
    if (
        dest.is_file()
        and dest.stat().st_size == src.stat().st_size
        and dest.stat().st_mtime >= src.stat().st_mtime
    ):
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


def _basemap_script(dest: Path) -> None:
    """The Natural Earth countries as a script (file:// pages may not fetch JSON in every browser)."""
    src = resources_dir() / "maps" / BASEMAP_FILE
    if not src.is_file():
        raise GeotaggerError(f"offline basemap missing: {src} (rebuild: python packaging/build_basemap.py)")
    if dest.is_file() and dest.stat().st_mtime >= src.stat().st_mtime:
        return
    data = json.loads(src.read_text(encoding="utf-8"))
    dest.write_text("window.GEOTAGGER_BASEMAP = " + json.dumps(data, separators=(",", ":")) + ";\n", "utf-8")


def install_assets(html_dir: Path, folder: str = "map_files") -> PageAssets:
    """Copy Leaflet, jQuery, MarkerCluster, the basemap, the detail layers and geotagger's map scripts
    into html_dir/folder (an exported album carries the same layers as the app)."""
    root = html_dir / folder
    leaflet = Path(xs_leaflet.BASE_DIR)
    cluster = Path(xs_cluster.BASE_DIR)
    _copy(leaflet / "leaflet.js", root / "leaflet" / "leaflet.js")
    _copy(leaflet / "leaflet.css", root / "leaflet" / "leaflet.css")
    for image in sorted((leaflet / "images").glob("*.png")):
        _copy(image, root / "leaflet" / "images" / image.name)
    _copy(Path(xs_jquery.BASE_DIR) / "jquery.min.js", root / "jquery" / "jquery.min.js")
    for name in ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"):
        _copy(cluster / name, root / "markercluster" / name)
    own = resources_dir() / "maps"
    _copy(own / "geotagger-layers.js", root / "geotagger-layers.js")
    layers = sorted((own / LAYERS_DIR).rglob("*.js"))
    if not layers:
        raise GeotaggerError(f"offline map layers missing: {own / LAYERS_DIR} (rebuild: {LAYERS_BUILD})")
    for layer in layers:
        _copy(layer, root / LAYERS_DIR / layer.relative_to(own / LAYERS_DIR))
    _copy(own / "geotagger-map.js", root / "geotagger-map.js")
    _copy(own / "geotagger-map.css", root / "geotagger-map.css")
    _basemap_script(root / "basemap.js")
    return PageAssets(
        folder=folder,
        js=[
            ("leaflet", f"{folder}/leaflet/leaflet.js"),
            ("jquery", f"{folder}/jquery/jquery.min.js"),
            ("markercluster", f"{folder}/markercluster/leaflet.markercluster.js"),
            ("basemap", f"{folder}/basemap.js"),
            ("geotagger_layers", f"{folder}/geotagger-layers.js"),
            ("geotagger_map", f"{folder}/geotagger-map.js"),
        ],
        css=[
            ("leaflet_css", f"{folder}/leaflet/leaflet.css"),
            ("markercluster_css", f"{folder}/markercluster/MarkerCluster.css"),
            ("markercluster_default_css", f"{folder}/markercluster/MarkerCluster.Default.css"),
            ("geotagger_map_css", f"{folder}/geotagger-map.css"),
        ],
    )
