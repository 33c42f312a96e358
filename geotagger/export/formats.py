"""KML, GPX and GeoJSON writers. Every string goes through an XML builder or json, never through string
formatting, so a title such as ``<img src=x onerror=alert(1)>`` stays text.

Times: GPX and KML machine-readable times are UTC with ``Z``, computed from the photo's own UTC offset.
A photo without a known offset gets no ``<time>``/``<TimeStamp>`` at all (a wall-clock time marked ``Z``
would be hours off, and one without a zone is read as UTC by many tools); its local time is still
given for people in the description, marked "(local time)". GeoJSON's ``taken`` carries the offset
when known and is a plain local time otherwise; ``taken_utc`` is null then.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from geotagger import __version__
from geotagger.export.items import ExportItem, utc_stamp
from geotagger.textsafe import unicode_text, xml_text

KML_NS = "http://www.opengis.net/kml/2.2"
GPX_NS = "http://www.topografix.com/GPX/1/1"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = xml_text(text)
    return child


def _write_xml(root: ET.Element, path: Path) -> None:
    """UTF-8 XML; a CR in text is written as ``&#13;`` (a parser turns a literal CR into LF)."""
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode").replace("\r", "&#13;")
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n", encoding="utf-8")


def _description(item: ExportItem) -> str:
    return " | ".join(text for text in (item.place, item.taken_text) if text)


def write_kml(items: Sequence[ExportItem], path: Path, name: str) -> int:
    """A KML document with one placemark per located photo (opens in Google Earth). Returns the count."""
    ET.register_namespace("", KML_NS)
    root = ET.Element(f"{{{KML_NS}}}kml")
    document = _sub(root, f"{{{KML_NS}}}Document")
    _sub(document, f"{{{KML_NS}}}name", name)
    count = 0
    for item in items:
        if not item.located:
            continue
        mark = _sub(document, f"{{{KML_NS}}}Placemark")
        _sub(mark, f"{{{KML_NS}}}name", item.title)
        if item.taken_utc is not None:
            when = _sub(mark, f"{{{KML_NS}}}TimeStamp")
            _sub(when, f"{{{KML_NS}}}when", utc_stamp(item.taken_utc))
        if description := _description(item):
            _sub(mark, f"{{{KML_NS}}}description", description)
        point = _sub(mark, f"{{{KML_NS}}}Point")
        _sub(point, f"{{{KML_NS}}}coordinates", f"{item.lon:.7f},{item.lat:.7f},0")
        count += 1
    _write_xml(root, path)
    return count


def write_gpx(items: Sequence[ExportItem], path: Path, name: str) -> int:
    """GPX 1.1 waypoints, one per located photo. Returns the count."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": f"geotagger {__version__}"})
    meta = _sub(root, f"{{{GPX_NS}}}metadata")
    _sub(meta, f"{{{GPX_NS}}}name", name)
    count = 0
    for item in items:
        if not item.located:
            continue
        point = ET.SubElement(root, f"{{{GPX_NS}}}wpt", {"lat": f"{item.lat:.7f}", "lon": f"{item.lon:.7f}"})
        if item.taken_utc is not None:  # GPX 1.1: times are UTC
            _sub(point, f"{{{GPX_NS}}}time", utc_stamp(item.taken_utc))
        _sub(point, f"{{{GPX_NS}}}name", item.title)
        if description := _description(item):
            _sub(point, f"{{{GPX_NS}}}desc", description)
        count += 1
    _write_xml(root, path)
    return count


def geojson_collection(items: Sequence[ExportItem], name: str) -> dict:
    """A GeoJSON FeatureCollection (RFC 7946: lon, lat order) of the located photos."""
    features = []
    for item in items:
        if not item.located:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(item.lon, 7), round(item.lat, 7)]},
                "properties": {
                    "title": unicode_text(item.title),
                    "file": item.dest_name and unicode_text(item.dest_name),
                    "taken": item.taken_iso,
                    "taken_utc": utc_stamp(item.taken_utc) if item.taken_utc else None,
                    "place": unicode_text(item.place) or None,
                    "country_code": item.address.get("country_code"),
                    "thumbnail": item.thumbnail_name,
                },
            }
        )
    return {"type": "FeatureCollection", "name": unicode_text(name), "features": features}


def write_geojson(items: Sequence[ExportItem], path: Path, name: str) -> int:
    collection = geojson_collection(items, name)
    path.write_text(json.dumps(collection, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(collection["features"])
