"""A candidate's region outline is one outer boundary: no seams along the provinces it is made of."""

from __future__ import annotations

from shapely.geometry import shape

from geotagger.geo.geocoder import ReverseGeocoder
from geotagger.maps.outline import dissolve
from geotagger.services.browse import candidate_outline


def _holes(geometry: dict) -> int:
    region = shape(geometry)
    return sum(len(p.interiors) for p in getattr(region, "geoms", [region]))


def test_two_touching_squares_with_a_seam_become_one_ring() -> None:
    # Two squares whose shared edge is off by 1e-4 degrees (as float32, simplified polygons are).
    seam = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
            [[[1.0001, 0], [2, 0], [2, 1], [1.0001, 1], [1.0001, 0]]],
        ],
    }
    one = dissolve(seam)
    assert one["type"] == "Polygon" and len(one["coordinates"]) == 1
    assert abs(shape(one).area - 2.0) < 0.01
    assert dissolve(None) is None


def test_real_regions_lose_their_seams_and_keep_their_enclaves() -> None:
    geocoder = ReverseGeocoder.default()
    andalucia = geocoder.outline_geojson("ES-AN", tolerance_deg=0.01)  # eight provinces
    assert _holes(andalucia) > 0  # the seams between them, drawn as internal borders before
    dissolved = candidate_outline({"ids": {"admin1": "ES-AN", "country": "ES"}}, "region")
    assert _holes(dissolved) == 0
    assert abs(shape(dissolved).area - shape(andalucia).area) / shape(andalucia).area < 0.002
    switzerland = candidate_outline({"ids": {"country": "CH"}}, "country")
    assert shape(switzerland).geom_type == "Polygon" and _holes(switzerland) == 0
    brandenburg = candidate_outline({"ids": {"admin1": "DE-BB", "country": "DE"}}, "region")
    assert _holes(brandenburg) == 1  # Berlin stays a hole
    assert not shape(brandenburg).contains(shape({"type": "Point", "coordinates": [13.4, 52.52]}))
