"""Offline reverse geocoding for users and scripts (``geotagger geocode``).

No library is needed: the geocoder works on coordinates alone, so these functions take none.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geotagger.errors import NotFoundError
from geotagger.geo.address import Address
from geotagger.geo.geocoder import GeocodeInputError, ReverseGeocoder

COLUMNS = (
    "lat",
    "lon",
    "display",
    "country_code",
    "country",
    "admin1",
    "admin1_code",
    "admin2",
    "locality",
    "locality_km",
)
_SPLIT = re.compile(r"\s*[,;\s]\s*")
_LAT_NAMES = ("lat", "latitude")
_LON_NAMES = ("lon", "lng", "long", "longitude")


def _number(text: str, what: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise GeocodeInputError(f"{where}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise GeocodeInputError(f"{where}: {what} {text!r} is not a finite number")
    return value


def parse_point(text: str) -> tuple[float, float]:
    """ "46.593,7.909" (or separated by a space or ';') -> (lat, lon)."""
    parts = [p for p in _SPLIT.split(text.strip()) if p]
    if len(parts) != 2:
        raise GeocodeInputError(f"{text!r} is not LAT,LON (e.g. 46.593,7.909)")
    return _number(parts[0], "latitude", repr(text)), _number(parts[1], "longitude", repr(text))


def read_points_csv(path: str | Path) -> list[tuple[float, float]]:
    """Points from a CSV file with a header naming lat and lon columns (latitude/longitude also work)."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no such CSV file: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            first = fh.readline()
            fh.seek(0)
            # Spreadsheets in many locales save with ';' (or tabs); the header line tells which.
            delimiter = max((",", ";", "\t"), key=first.count) if first.strip() else ","
            reader = csv.DictReader(fh, delimiter=delimiter)
            header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
            lat_col = next((header[n] for n in _LAT_NAMES if n in header), None)
            lon_col = next((header[n] for n in _LON_NAMES if n in header), None)
            if lat_col is None or lon_col is None:
                found = ", ".join(repr(n) for n in reader.fieldnames or []) or "none"
                raise GeocodeInputError(f"{path}: the header needs 'lat' and 'lon' columns (found {found})")
            points = []
            for row in reader:
                where = f"{path.name} line {reader.line_num}"
                lat = _number((row.get(lat_col) or "").strip(), "latitude", where)
                lon = _number((row.get(lon_col) or "").strip(), "longitude", where)
                points.append((lat, lon))
    except UnicodeDecodeError:
        raise GeocodeInputError(f"{path}: not a UTF-8 text CSV file") from None
    return points


def address_row(lat: float, lon: float, addr: Address) -> dict[str, Any]:
    """One output row: the columns of COLUMNS plus the stable ids (JSON keeps them)."""
    return {
        "lat": lat,
        "lon": lon,
        "display": addr.display if addr.country_code else "open sea",
        "country_code": addr.country_code,
        "country": addr.country,
        "admin1": addr.admin1,
        "admin1_code": addr.admin1_code,
        "admin2": addr.admin2,
        "locality": addr.locality,
        "locality_km": addr.locality_distance_km,
        "ocean": addr.ocean,
        "ids": dict(addr.ids),
    }


def geocode_points(
    points: Sequence[tuple[float, float]], geocoder: ReverseGeocoder | None = None, row_label: str = "point"
) -> list[dict[str, Any]]:
    """Address rows for points; a bad point raises GeocodeInputError naming it (1-based)."""
    geocoder = geocoder or ReverseGeocoder.default()
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    try:
        addresses = geocoder.lookup_many(lats, lons)
    except GeocodeInputError as exc:
        if not exc.bad_rows:
            raise
        first = exc.bad_rows[0]
        more = f" ({len(exc.bad_rows) - 1} more bad)" if len(exc.bad_rows) > 1 else ""
        raise GeocodeInputError(
            f"{row_label} {first + 1}: {exc.problems[0]}{more}", exc.bad_rows, exc.problems
        ) from None
    return [address_row(la, lo, a) for la, lo, a in zip(lats, lons, addresses, strict=True)]


def geocode_csv(path: str | Path, geocoder: ReverseGeocoder | None = None) -> list[dict[str, Any]]:
    """Address rows for the points of a CSV file (data row numbers in errors are 1-based)."""
    return geocode_points(read_points_csv(path), geocoder, row_label=f"{Path(path).name} data row")
