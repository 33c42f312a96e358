"""``export --location city``: the town people would name, not a section of it or a nearby landmark.

GeoNames lists arrondissements, boroughs, districts and wards as places of their own; the Eiffel Tower
became "Paris 15 Vaugirard". Real places, with the distance from the copy's position to the town's
centre and from the photo.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from geotagger.export.privacy import coarsen
from geotagger.geo.geocoder import ReverseGeocoder


@pytest.fixture(scope="module")
def geocoder() -> ReverseGeocoder:
    return ReverseGeocoder.default()


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p = math.radians
    a = (
        math.sin(p(lat2 - lat1) / 2) ** 2
        + math.cos(p(lat1)) * math.cos(p(lat2)) * math.sin(p(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(a))


# (photo, lat, lon, the town named, the town's centre (lat, lon), most km from the photo to the copy)
CITY_CASES = [
    ("Eiffel Tower", 48.8584, 2.2945, "Paris", (48.8566, 2.3522), 6),
    ("Sacre-Coeur", 48.8867, 2.3431, "Paris", (48.8566, 2.3522), 6),
    ("Bois de Vincennes", 48.8283, 2.4330, "Paris", (48.8566, 2.3522), 8),
    ("Big Ben", 51.5007, -0.1246, "London", (51.5074, -0.1278), 3),
    ("Greenwich", 51.4826, 0.0077, "London", (51.5074, -0.1278), 12),
    ("Wimbledon", 51.4340, -0.2144, "London", (51.5074, -0.1278), 12),
    ("Brandenburg Gate", 52.5163, 13.3777, "Berlin", (52.5200, 13.4050), 4),
    ("Spandau", 52.5353, 13.2006, "Berlin", (52.5200, 13.4050), 16),
    ("Koepenick", 52.4456, 13.5749, "Berlin", (52.5200, 13.4050), 16),
    ("Marzahn", 52.5440, 13.5640, "Berlin", (52.5200, 13.4050), 12),
    ("Tokyo Tower", 35.6586, 139.7454, "Tokyo", (35.6895, 139.6917), 8),
    ("Shibuya", 35.6595, 139.7005, "Tokyo", (35.6895, 139.6917), 5),
    ("Setagaya", 35.6466, 139.6532, "Tokyo", (35.6895, 139.6917), 8),
    ("Nerima", 35.7356, 139.6517, "Tokyo", (35.6895, 139.6917), 8),
    ("Times Square", 40.7580, -73.9855, "New York City", (40.7128, -74.0060), 6),
    ("Brooklyn Bridge Park", 40.7003, -73.9967, "New York City", (40.7128, -74.0060), 3),
    ("Flushing Meadows, Queens", 40.7400, -73.8407, "New York City", (40.7128, -74.0060), 16),
    ("Staten Island ferry terminal", 40.6437, -74.0736, "New York City", (40.7128, -74.0060), 12),
    ("Statue of Liberty (New York)", 40.6892, -74.0445, "New York City", (40.7128, -74.0060), 5),
    ("Exchange Place, Jersey City (New Jersey)", 40.7163, -74.0325, "Hoboken", (40.7440, -74.0324), 4),
    ("Sagrada Familia", 41.4036, 2.1744, "Barcelona", (41.3888, 2.1590), 3),
    ("Lauterbrunnen (a village)", 46.593, 7.909, "Lauterbrunnen", (46.5936, 7.9091), 1),
    ("Grindelwald (a village)", 46.6242, 8.0414, "Grindelwald", (46.6242, 8.0341), 1),
    ("a field in the Beauce (open farmland)", 48.25, 1.75, "Voves", (48.2713, 1.6257), 12),
    ("Kehl", 48.5728, 7.8150, "Kehl", (48.5728, 7.8150), 1),
    ("Strasbourg cathedral", 48.5818, 7.7509, "Strasbourg", (48.5839, 7.7455), 1),
    ("Basel Muenster", 47.5565, 7.5929, "Basel", (47.5584, 7.5733), 2),
    ("Central, Hong Kong", 22.2819, 114.1582, "Hong Kong", (22.2783, 114.1747), 3),
]


@pytest.mark.parametrize(
    ("photo", "lat", "lon", "town", "centre", "max_km"), CITY_CASES, ids=[c[0] for c in CITY_CASES]
)
def test_city_is_the_town_people_would_name(geocoder, photo, lat, lon, town, centre, max_km) -> None:
    address = geocoder.lookup(lat, lon).to_dict()
    clat, clon, reduced = coarsen(lat, lon, address, "city", geocoder)
    assert reduced["locality"] == town, f"{photo}: {reduced['display']}"
    assert km(clat, clon, *centre) < 1.5, f"{photo}: copy at {clat}, {clon}"
    assert 0.0 <= km(lat, lon, clat, clon) <= max_km
    assert reduced["admin1"] == address["admin1"]  # the town lies in the photo's region


def test_eiffel_tower_is_paris_not_an_arrondissement(geocoder) -> None:
    address = geocoder.lookup(48.8584, 2.2945).to_dict()
    lat, lon, reduced = coarsen(48.8584, 2.2945, address, "city", geocoder)
    assert reduced["display"] == "Paris, Île-de-France, France"
    assert km(lat, lon, 48.85341, 2.3488) < 0.01  # GeoNames' centre of Paris
    assert km(48.8584, 2.2945, lat, lon) == pytest.approx(4.0, abs=0.1)  # not 1.96 km (Vaugirard)


def test_open_country_falls_back_to_the_region(geocoder) -> None:
    """No town within 25 km of a point in the Nevada desert: the copy goes to the state's centre."""
    address = geocoder.lookup(39.5, -116.5).to_dict()
    lat, lon, reduced = coarsen(39.5, -116.5, address, "city", geocoder)
    assert reduced.get("locality") is None and reduced["display"] == "Nevada, United States"
    region = coarsen(39.5, -116.5, address, "region", geocoder)
    assert (lat, lon) == region[:2]


def _place(geocoder: ReverseGeocoder, name: str, country: str) -> int:
    found = [
        i for i, n in enumerate(geocoder.place_names) if n == name and geocoder.country_code(i) == country
    ]
    return max(found, key=lambda i: int(geocoder.place_population[i]))


@pytest.mark.parametrize(
    ("section", "country", "seat"),
    [
        ("Paris 15 Vaugirard", "FR", "Paris"),
        ("Paris 01 Louvre", "FR", "Paris"),
        ("Brooklyn", "US", "New York City"),
        ("Queens", "US", "New York City"),
        ("Setagaya", "JP", "Tokyo"),
        ("Kowloon", "HK", "Hong Kong"),
        # distinct towns stay themselves: other state, other country, too far, too big
        ("Jersey City", "US", "Jersey City"),
        ("Kehl", "DE", "Kehl"),
        ("Versailles", "FR", "Versailles"),
        ("Kawasaki", "JP", "Kawasaki"),
    ],
)
def test_sections_of_a_city_have_it_as_their_seat(geocoder, section, country, seat) -> None:
    place = _place(geocoder, section, country)
    (found,) = geocoder.seats(np.array([place]))
    assert geocoder.place_names[found] == seat
