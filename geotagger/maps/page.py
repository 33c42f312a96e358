"""Build one self-contained offline Leaflet page with folium.

The page always shows the Natural Earth countries (no network needed); an online tile layer is
added on top only when the caller passes a TileSource. Everything dynamic goes through the small
JS API in resources/maps/geotagger-map.js; ``JS_API`` lists the functions a host may call.

No user text (photo names, titles, popups) ever passes through folium: branca renders every
``Element`` string and every macro's output as a Jinja2 template a second time, so ``{{...}}`` in a
file name would execute. User text goes into ``_Verbatim`` elements only: the page title escaped as
HTML, the points as script-safe JSON in a ``<script type="application/json">`` data block that the
page reads with JSON.parse.
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

from geotagger.maps.assets import install_assets, layer_manifest
from geotagger.maps.tiles import TileSource
from geotagger.textsafe import script_json, unicode_text

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
        "showTracks",  # the imported GPS tracks, one polyline each (gui/tracks.py)
        "showTrackMatches",  # where the selected photos fall on them for a trial camera clock
        "fitTracks",
    }
)

# Land, sea and borders must stay distinguishable in both: in dark, a navy sea under a lighter warm-grey
# land with light borders (grey on grey was unreadable).
LIGHT = {
    "water": "#b9d3ea",
    "land": "#f4f1ea",
    "border": "#8c8577",
    "admin1": "#b3a78f",
    "lake": "#b9d3ea",
    "river": "#8db6dc",
    "accent": "#1f6fd1",
    "text": "#202020",
    "label": "#262626",
    "halo": "#ffffff",
    "dot": "#4a4a4a",
}
DARK = {
    "water": "#0c1826",
    "land": "#3b3d3a",
    "border": "#a7a59c",
    "admin1": "#7b7a72",
    "lake": "#0c1826",
    "river": "#4a86bd",
    "accent": "#5aa2ff",
    "text": "#e8e8e8",
    "label": "#ecebe6",
    "halo": "#1a1a1a",
    "dot": "#d8d6cf",
}
DATA_ID = "geotagger-data"  # the id of the page's JSON data block
# Contrast ratios a host's colours must reach, else the built-in ones are used. Light land and sea differ
# by hue (white and blue) more than by luminance; dark ones only by luminance.
MIN_LAND_WATER = {False: 1.2, True: 1.5}
MIN_BORDER_LAND = 1.7


def _luminance(hex_color: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 = the same, 21 = black on white)."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def map_colors(dark: bool, colors: dict[str, str] | None = None) -> dict[str, str]:
    """The page's palette: the host's colours (e.g. from the Qt theme) where they keep land, sea and
    borders apart, else the built-in light or dark ones (a dark theme's greys made them one blur)."""
    base = DARK if dark else LIGHT
    palette = dict(base)
    palette.update(colors or {})
    try:
        if contrast(palette["land"], palette["water"]) < MIN_LAND_WATER[dark]:
            palette.update(land=base["land"], water=base["water"], lake=base["lake"])
        if contrast(palette["border"], palette["land"]) < MIN_BORDER_LAND:
            palette["border"] = base["border"]
    except (ValueError, IndexError):  # not #rrggbb: keep the built-in colours
        palette.update({k: base[k] for k in ("land", "water", "lake", "border")})
    if "water" in (colors or {}) and "lake" not in (colors or {}):
        palette["lake"] = palette["water"]
    return palette


@dataclass
class MapPoint:
    """One photo on the map; ``popup`` is HTML made by the caller (escape what you put in it)."""

    lat: float
    lon: float
    title: str
    id: int | None = None
    popup: str | None = None


class _Verbatim(Element):
    """Markup written into the page as it is: never rendered as a Jinja2 template (unlike ``Element``)."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.markup = markup

    def render(self, **kwargs) -> str:  # noqa: ARG002 - branca passes render options
        return self.markup


class _Init(MacroElement):
    """Script run after folium created the map: hands the map and the page's data to geotagger-map.js.

    The template holds no user text: the data comes from the JSON block, parsed as data by the browser.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        geotagger.init({{ this._parent.get_name() }},
                       JSON.parse(document.getElementById("{{ this.data_id }}").textContent));
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GeotaggerInit"
        self.data_id = DATA_ID


def data_block(options: dict) -> str:
    """The page's data as a ``<script type="application/json">`` element that no text can break out of."""
    return f'<script type="application/json" id="{DATA_ID}">{script_json(options)}</script>'


def page_data(page_html: str) -> dict:
    """The data a written page hands to geotagger.init (for tests and diagnostics)."""
    start = page_html.index(f'<script type="application/json" id="{DATA_ID}">')
    start = page_html.index(">", start) + 1
    return json.loads(page_html[start : page_html.index("</script>", start)])


def html_text(text: str) -> str:
    """``text`` for an HTML text node or attribute; CR as a reference (the parser turns a raw CR into LF)."""
    return html.escape(unicode_text(text), quote=True).replace("\r", "&#13;")


def point_popup(title: str, lines: Sequence[str] = (), image: str | None = None) -> str:
    """A small escaped popup: optional thumbnail, bold title, detail lines."""
    parts = []
    if image:
        parts.append(f'<img class="gt-thumb" src="{html_text(image)}" alt="">')
    parts.append(f"<b>{html_text(title)}</b>")
    parts.extend(f"<br>{html_text(line)}" for line in lines)
    return "".join(parts)


def _point_data(point: MapPoint) -> dict:
    data = asdict(point)
    data["title"] = unicode_text(point.title)
    if point.popup is not None:
        data["popup"] = unicode_text(point.popup)
    return data


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
    root.header.add_child(_Verbatim(f"<title>{html.escape(unicode_text(title))}</title>"), name="title")
    if interactive:
        root.header.add_child(
            _Verbatim('<script src="qrc:///qtwebchannel/qwebchannel.js"></script>'), name="qwebchannel"
        )
    palette = map_colors(dark, colors)
    options = {
        "points": [_point_data(p) for p in points],
        "colors": palette,
        "interactive": interactive,
        "maxZoom": max_zoom,
        "layers": layer_manifest(),
    }
    root.html.add_child(_Verbatim(data_block(options)), name="geotagger_data")
    fmap.add_child(_Init())
    dest.write_text(root.render(), encoding="utf-8")
    return dest
