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
