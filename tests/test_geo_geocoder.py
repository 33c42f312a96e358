"""Reverse geocoder on real places: borders, dateline, poles, open sea, coasts, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from geotagger.errors import UserInputError
from geotagger.geo.address import Address
from geotagger.geo.geocoder import GeocodeInputError, ReverseGeocoder, reverse_geocode


@pytest.fixture(scope="module")
def geocoder() -> ReverseGeocoder:
    return ReverseGeocoder.default()


# (name, lat, lon, country code, admin-1 ISO code or a set of accepted codes or None, locality or None)
PLACES = [
    # the issue's places
    ("Lauterbrunnen", 46.593, 7.909, "CH", "CH-BE", "Lauterbrunnen"),
    ("Sagrada Familia", 41.4036, 2.1744, "ES", "ES-CT", "Barcelona"),
    ("Budapest Castle District", 47.4966, 19.0345, "HU", "HU-BU", None),
    ("Riverside County CA", 33.95, -117.40, "US", "US-CA", "Riverside"),
    ("Emerson MB", 49.005, -97.21, "CA", "CA-MB", None),
    ("Pembina ND", 48.97, -97.24, "US", "US-ND", "Pembina"),
    ("Fiji at the dateline", -16.88, -179.99, "FJ", None, None),
    # Europe
    ("Big Ben", 51.5007, -0.1246, "GB", "GB-ENG", "London"),
    ("Boulogne-Billancourt, not Paris", 48.8352, 2.2410, "FR", "FR-IDF", "Boulogne-Billancourt"),
    ("Edinburgh Castle", 55.9486, -3.1999, "GB", "GB-SCT", None),
    ("Eiffel Tower", 48.8584, 2.2945, "FR", "FR-IDF", "Paris"),
    ("Strasbourg cathedral", 48.5818, 7.7509, "FR", None, "Strasbourg"),
    ("Kehl", 48.5728, 7.8150, "DE", "DE-BW", "Kehl"),
    ("Basel Muenster", 47.5565, 7.5929, "CH", "CH-BS", "Basel"),
    ("Brandenburg Gate", 52.5163, 13.3777, "DE", "DE-BE", None),
    ("Colosseum", 41.8902, 12.4922, "IT", "IT-62", None),
    ("Amsterdam Dam Square", 52.3731, 4.8926, "NL", "NL-NH", None),
    ("Vienna St. Stephen's", 48.2085, 16.3731, "AT", "AT-9", None),
    ("Istanbul Hagia Sophia", 41.0086, 28.9802, "TR", "TR-34", None),
    # ISO 3166-1 countries as GeoNames has them (Natural Earth's polygons say FR / RU there)
    ("Simferopol", 44.95, 34.10, "UA", "UA-43", "Simferopol"),
    ("Cayenne", 4.93, -52.33, "GF", None, "Cayenne"),
    ("Saint-Denis, Reunion", -20.88, 55.45, "RE", None, "Saint-Denis"),
    # North America
    ("Times Square", 40.7580, -73.9855, "US", "US-NY", "New York City"),
    ("Newark NJ, not New York City", 40.7357, -74.1724, "US", "US-NJ", "Newark"),
    ("Niagara Falls ON", 43.0896, -79.0849, "CA", "CA-ON", None),
    ("Niagara Falls NY", 43.0962, -79.0377, "US", "US-NY", None),
    ("Vancouver", 49.2827, -123.1207, "CA", "CA-BC", None),
    ("Anchorage", 61.2181, -149.9003, "US", "US-AK", None),
    ("Honolulu", 21.3069, -157.8583, "US", "US-HI", None),
    ("Mexico City Zocalo", 19.4326, -99.1332, "MX", {"MX-CMX", "MX-DIF"}, None),
    # South America
    ("Christ the Redeemer", -22.9519, -43.2105, "BR", "BR-RJ", None),
    ("Buenos Aires Obelisco", -34.6037, -58.3816, "AR", "AR-C", None),
    ("Machu Picchu", -13.1631, -72.5450, "PE", "PE-CUS", None),
    ("Santiago de Chile", -33.4489, -70.6693, "CL", "CL-RM", None),
    # Natural Earth 1:10m codes Bogota D.C. as CO-CUN (the ISO code is CO-DC)
    ("Bogota", 4.7110, -74.0721, "CO", {"CO-DC", "CO-CUN"}, None),
    # Africa
    ("Giza pyramids", 29.9792, 31.1342, "EG", "EG-GZ", None),
    ("Cape Town", -33.9249, 18.4241, "ZA", "ZA-WC", "Cape Town"),
    ("Lagos", 6.5244, 3.3792, "NG", "NG-LA", None),
    ("Addis Ababa", 9.0300, 38.7400, "ET", "ET-AA", None),
    ("Nairobi", -1.2921, 36.8219, "KE", None, "Nairobi"),
    ("Marrakech", 31.6295, -7.9811, "MA", None, None),
    # Asia
    ("Tokyo Tower", 35.6586, 139.7454, "JP", "JP-13", "Tokyo"),
    ("Forbidden City", 39.9163, 116.3972, "CN", {"CN-BJ", "CN-11"}, None),
    ("Taj Mahal", 27.1751, 78.0421, "IN", "IN-UP", "Agra"),
    ("Burj Khalifa", 25.1972, 55.2744, "AE", "AE-DU", None),
    ("Seoul City Hall", 37.5665, 126.9780, "KR", "KR-11", None),
    ("Singapore", 1.2903, 103.8519, "SG", None, "Singapore"),
    ("Kathmandu", 27.7172, 85.3240, "NP", None, "Kathmandu"),
    # Oceania
    ("Sydney Opera House", -33.8568, 151.2153, "AU", "AU-NSW", None),
    ("Uluru", -25.3444, 131.0369, "AU", "AU-NT", None),
    ("Auckland", -36.8485, 174.7633, "NZ", "NZ-AUK", "Auckland"),
    ("Suva", -18.1416, 178.4419, "FJ", "FJ-C", "Suva"),
    # Antarctica
    ("McMurdo Station", -77.8463, 166.6682, "AQ", None, None),
    ("South Pole", -90.0, 0.0, "AQ", None, None),
]


@pytest.mark.parametrize(
    ("name", "lat", "lon", "cc", "admin1", "locality"), PLACES, ids=[p[0] for p in PLACES]
)
def test_real_places(geocoder, name, lat, lon, cc, admin1, locality) -> None:
    addr = geocoder.lookup(lat, lon)
    assert addr.country_code == cc, f"{name}: {addr}"
    assert addr.country and addr.ids["country"] == cc
    if isinstance(admin1, set):
        assert addr.admin1_code in admin1, f"{name}: {addr}"
    elif admin1 is not None:
        assert addr.admin1_code == admin1, f"{name}: {addr}"
        assert addr.ids["admin1"] == admin1
    if locality is not None:
        assert addr.locality == locality, f"{name}: {addr}"
        assert 0 <= addr.locality_distance_km <= 30
        assert addr.ids["locality"].startswith("geonames:")


def test_issue_display_and_hierarchy(geocoder) -> None:
    addr = geocoder.lookup(46.593, 7.909)
    assert addr.display == "Lauterbrunnen, Bern, Switzerland"
    assert addr.admin2 == "Interlaken-Oberhasli District"
    assert set(addr.ids) == {"country", "admin1", "admin2", "locality"}
    # Spain: Natural Earth's provinces sit below the GeoNames autonomous community.
    sagrada = geocoder.lookup(41.4036, 2.1744)
    assert sagrada.admin2 == "Barcelona" and sagrada.ids["admin2"] == "ES-B"


def test_border_towns_get_their_own_country(geocoder) -> None:
    emerson, pembina = geocoder.lookup_many([49.005, 48.97], [-97.21, -97.24])
    assert (emerson.country, emerson.admin1) == ("Canada", "Manitoba")
    assert (pembina.country, pembina.admin1) == ("United States", "North Dakota")
    # a locality is never taken from across the border
    assert emerson.locality != "Pembina"


@pytest.mark.parametrize(("lat", "lon"), [(30.0, -40.0), (90.0, 0.0), (0.0, -140.0), (-50.0, 80.0)])
def test_open_sea_has_no_country(geocoder, lat, lon) -> None:
    addr = geocoder.lookup(lat, lon)
    assert addr.country_code is None and addr.locality is None and addr.ids == {}


def test_coast_snap_and_open_water(geocoder) -> None:
    near, far = geocoder.lookup_many([-33.895, -33.9], [151.30, 151.8])
    assert near.country_code == "AU"  # ~2 km off Bondi: a beach/boat photo still gets the country
    assert far.country_code is None  # 50 km out is open sea


def test_dateline_both_sides(geocoder) -> None:
    a, b = geocoder.lookup_many([-16.88, -16.80], [-179.99, 179.99])
    assert a.country_code == b.country_code == "FJ"


def test_batch_matches_single_and_ids_are_stable(geocoder) -> None:
    lats = np.array([p[1] for p in PLACES])
    lons = np.array([p[2] for p in PLACES])
    batch = geocoder.lookup_many(lats, lons)
    assert len(batch) == len(PLACES)
    for (_, lat, lon, *_), addr in zip(PLACES, batch, strict=True):
        assert isinstance(addr, Address)
        assert reverse_geocode(lat, lon) == addr
    assert ReverseGeocoder.default() is ReverseGeocoder.default()
    assert geocoder.lookup_many(np.zeros(0), np.zeros(0)) == []


@pytest.mark.parametrize(
    ("lat", "lon", "named"),
    [
        (91.0, 0.0, "91"),
        (-90.5, 0.0, "-90.5"),
        (0.0, 180.5, "180.5"),
        (0.0, -200.0, "-200"),
        (float("nan"), 0.0, "nan"),
        (None, 0.0, "None"),
        ("46.5", 7.9, "'46.5'"),
    ],
)
def test_invalid_input_names_the_value(geocoder, lat, lon, named) -> None:
    with pytest.raises(GeocodeInputError, match=named) as info:
        geocoder.lookup(lat, lon)
    assert isinstance(info.value, UserInputError)
    assert "\n" not in str(info.value)


def test_batch_reports_bad_rows(geocoder) -> None:
    with pytest.raises(GeocodeInputError) as info:
        geocoder.lookup_many([10.0, 95.0, 20.0, np.nan], [10.0, 0.0, 400.0, 1.0])
    assert info.value.bad_rows == [1, 2, 3]
    assert "row 1" in str(info.value) and "400" in str(info.value)
    with pytest.raises(GeocodeInputError, match="2 latitudes but 1 longitudes"):
        geocoder.lookup_many([1.0, 2.0], [1.0])


def test_boundary_values_are_valid(geocoder) -> None:
    addrs = geocoder.lookup_many([90, -90, 0, 0], [180, -180, 180, -180])
    assert addrs[1].country_code == "AQ"
