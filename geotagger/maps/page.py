"""Build one self-contained offline Leaflet page with folium.

The page always shows the Natural Earth countries (no network needed); an online tile layer is
added on top only when the caller passes a TileSource. Everything dynamic goes through the small
JS API in resources/maps/geotagger-map.js; ``JS_API`` lists the functions a host may call.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from geotagger.maps.assets import install_assets
from geotagger.maps.tiles import TileSource

# The documented functions of window.geotagger that a host (the Qt map pane) may call.
JS_API = frozenset(
    {
        "showLibrary",
        "showCandidates",
        "showOutline",
        "focus",
        "fitAll",
        "setPlaceMode",
        "setSelection",
        "clearCandidates",
    }
)

LIGHT = {"water": "#cfe0ee", "land": "#f4f1ea", "border": "#9a9587", "accent": "#1f6fd1", "text": "#202020"}
DARK = {"water": "#1b2836", "land": "#39393b", "border": "#76767a", "accent": "#5aa2ff", "text": "#e8e8e8"}


@dataclass
class MapPoint:
    """One photo on the map; ``popup`` is HTML made by the caller (escape what you put in it)."""

    lat: float
    lon: float
    title: str
    id: int | None = None
    popup: str | None = None


class _Init(MacroElement):
    """Script run after folium created the map: hands the map to geotagger-map.js with the data."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        geotagger.init({{ this._parent.get_name() }}, {{ this.options }});
        {% endmacro %}"""
    )

    def __init__(self, options: dict) -> None:
        super().__init__()
        self._name = "GeotaggerInit"
        self.options = json.dumps(options, ensure_ascii=False).replace("</", "<\\/")


def point_popup(title: str, lines: Sequence[str] = (), image: str | None = None) -> str:
    """A small escaped popup: optional thumbnail, bold title, detail lines."""
    parts = []
    if image:
        parts.append(f'<img class="gt-thumb" src="{html.escape(image, quote=True)}" alt="">')
    parts.append(f"<b>{html.escape(title)}</b>")
    parts.extend(f"<br>{html.escape(line)}" for line in lines)
    return "".join(parts)


def build_map_page(
    dest: Path,
    points: Sequence[MapPoint] = (),
    *,
    tiles: TileSource | None = None,
    interactive: bool = False,
    dark: bool = False,
    colors: dict[str, str] | None = None,
    title: str = "geotagger map",
) -> Path:
    """Write ``dest`` (an .html file) plus its ``map_files/`` folder; return the HTML path.

    interactive: load qwebchannel.js from Qt's resources and connect the ``bridge`` object (map pane).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    assets = install_assets(dest.parent)
    max_zoom = tiles.max_zoom if tiles else 18
    fmap = folium.Map(
        location=[20, 0],
        zoom_start=2,
        tiles=None,
        min_zoom=1,
        max_zoom=max_zoom,
        world_copy_jump=True,
        control_scale=True,
        zoom_control=True,
    )
    # Instance lists: never mutate folium's class-level CDN lists.
    fmap.default_js = list(assets.js)
    fmap.default_css = list(assets.css)
    if tiles is not None:
        folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, name=tiles.name, max_zoom=max_zoom).add_to(
            fmap
        )
    root = fmap.get_root()
    root.header.add_child(Element(f"<title>{html.escape(title)}</title>"), name="title")
    if interactive:
        root.header.add_child(
            Element('<script src="qrc:///qtwebchannel/qwebchannel.js"></script>'), name="qwebchannel"
        )
    palette = dict(DARK if dark else LIGHT)
    palette.update(colors or {})
    options = {
        "points": [asdict(p) for p in points],
        "colors": palette,
        "interactive": interactive,
        "maxZoom": max_zoom,
    }
    fmap.add_child(_Init(options))
    dest.write_text(root.render(), encoding="utf-8")
    return dest
