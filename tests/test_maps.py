"""The offline map page: every script and stylesheet is a local file, never a CDN."""

from __future__ import annotations

import json
import re
from pathlib import Path

from geotagger.maps import JS_API, MapPoint, build_map_page
from geotagger.maps.page import point_popup
from geotagger.maps.tiles import OSM

REF = re.compile(r"""<(?:script|link)\b[^>]*?(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


def _refs(html: str) -> list[str]:
    return REF.findall(html)


def test_page_loads_only_local_files(tmp_path: Path) -> None:
    page = build_map_page(tmp_path / "map.html", [MapPoint(46.5, 7.9, "IMG_1.jpg", id=1)])
    html = page.read_text(encoding="utf-8")
    refs = _refs(html)
    assert len(refs) >= 8
    assert not [r for r in refs if re.match(r"(?i)(https?:)?//", r)], refs
    assert "cdn" not in html.lower()
    for ref in refs:
        assert (tmp_path / ref).is_file(), ref
    # Leaflet's default marker images sit next to its CSS, where Leaflet looks for them.
    assert (tmp_path / "map_files" / "leaflet" / "images" / "marker-icon.png").is_file()
    basemap = (tmp_path / "map_files" / "basemap.js").read_text(encoding="utf-8")
    data = json.loads(basemap.split("=", 1)[1].rstrip().rstrip(";"))
    assert len(data["features"]) > 200
    assert "qwebchannel" not in html  # a plain page for browsers


def test_interactive_page_uses_qt_channel_and_tiles_only_when_asked(tmp_path: Path) -> None:
    page = build_map_page(tmp_path / "a.html", interactive=True, tiles=OSM)
    html = page.read_text(encoding="utf-8")
    assert "qrc:///qtwebchannel/qwebchannel.js" in _refs(html)
    assert "tile.openstreetmap.org" in html  # the tile layer, a Leaflet template, not a script
    offline = build_map_page(tmp_path / "b.html").read_text(encoding="utf-8")
    assert "openstreetmap" not in offline


def test_points_and_popups_are_escaped(tmp_path: Path) -> None:
    popup = point_popup("<script>x</script>", ["2024-05-01"], image="thumbs/1.jpg")
    assert "<script>" not in popup and "&lt;script&gt;" in popup
    page = build_map_page(tmp_path / "m.html", [MapPoint(1.0, 2.0, "</script><b>", id=3, popup=popup)])
    html = page.read_text(encoding="utf-8")
    assert "</script><b>" not in html
    block = re.search(r'<script type="application/json" id="geotagger-data">(.*?)</script>', html, re.S)
    assert "<" not in block.group(1)  # nothing in the data can end the element or open a comment
    options = json.loads(block.group(1))
    assert options["points"][0]["lat"] == 1.0 and options["points"][0]["id"] == 3
    assert options["points"][0]["title"] == "</script><b>" and options["points"][0]["popup"] == popup


def test_js_api_matches_the_page_script() -> None:
    from geotagger.paths import resources_dir

    script = (resources_dir() / "maps" / "geotagger-map.js").read_text(encoding="utf-8")
    for name in JS_API:
        assert re.search(rf"\b{name}: function", script), name


def test_exported_page_carries_the_same_offline_layers(tmp_path: Path) -> None:
    """An album's map.html gets the detail layers next to it, as the app's map pane does."""
    from geotagger.maps.assets import layer_manifest
    from geotagger.maps.page import DARK, LIGHT, contrast, map_colors

    page = build_map_page(tmp_path / "album" / "map.html", [MapPoint(46.95, 7.45, "IMG_1.jpg", id=1)])
    html = page.read_text(encoding="utf-8")
    assert "map_files/geotagger-layers.js" in _refs(html)
    layers = tmp_path / "album" / "map_files" / "layers"
    names = {p.stem for p in layers.glob("*.js")}
    assert {"admin1", "rivers", "lakes", "countries"} <= names
    manifest = layer_manifest()
    tiers = manifest["tiers"]
    assert manifest["land"]["minZoom"] >= 6 and "land/40_0" in manifest["land"]["files"]  # France's south
    assert (layers / "land" / "40_0.js").is_file()
    assert [t["minZoom"] for t in tiers] == sorted(t["minZoom"] for t in tiers)
    assert {t["file"] for t in tiers} <= names
    first = (layers / f"{tiers[0]['file']}.js").read_text(encoding="utf-8")
    assert first.startswith('GEOTAGGER_LAYER("places-0",')
    data = json.loads(first[first.index(",") + 1 : first.rindex(")")])
    assert {"Paris", "London", "Tokyo"} <= set(data["places"][2::3])  # the biggest cities first
    assert sum(p.stat().st_size for p in layers.rglob("*.js")) < 12e6  # a few MB, loaded by zoom
    # Land, sea and borders stay apart in both palettes, also when a dark Qt theme offers greys.
    for palette in (LIGHT, DARK):
        assert contrast(palette["land"], palette["water"]) >= 1.3
        assert contrast(palette["border"], palette["land"]) >= 1.7
    themed = map_colors(True, {"land": "#3a3a3d", "water": "#222a35", "border": "#5a5a5e"})
    assert contrast(themed["land"], themed["water"]) >= 1.5 and themed["border"] == DARK["border"]
    light = {"land": "#f7f7f7", "water": "#cbe2f1", "border": "#a0a0a0"}
    assert {k: map_colors(False, light)[k] for k in light} == light  # a legible theme is kept
