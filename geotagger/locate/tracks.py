"""GPS tracks as evidence: read GPX / KML / NMEA logs into time-sorted points and place a photo on them.

A photo taken while a logger (or a phone) recorded a track was where the track was at that moment. We
interpolate linearly between the two points that bracket the photo's UTC time (the longitude across the
date line the short way round) and report how far in time the nearest real point is (``gap_s``) and how
fast the logger moved there, so callers can size the uncertainty (speed x gap). A photo outside the
track's span by more than ``MAX_GAP_S``, or between two points more than ``MAX_GAP_S`` apart (logger off,
tunnel, flight), gets no position: a guess across a hole in the track is not GPS evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from geotagger.errors import MetadataError, NotFoundError
from geotagger.geo.metrics import haversine_km
from geotagger.locate.candidate import Candidate
from geotagger.textsafe import escaped_bytes

MAX_GAP_S = 15 * 60.0  # further than this from any recorded point the track says nothing
TRACK_SUFFIXES = (".gpx", ".kml", ".nmea", ".nma", ".log", ".txt")


@dataclass
class TrackArrays:
    """One track: UTC seconds (sorted, unique), lat, lon and elevation (NaN when not recorded)."""

    name: str
    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    ele: np.ndarray

    def __len__(self) -> int:
        return int(self.t.size)


# -- reading files ------------------------------------------------------------------------------------------


def read_track(path: Path | str) -> TrackArrays:
    """Parse a GPX, KML or NMEA file (chosen by content, the suffix as a hint) into sorted arrays."""
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"no such track file: {path}") from None
    except OSError as exc:
        raise MetadataError(f"{path}: cannot read the track: {exc.strerror or exc}") from exc
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    head = text[:2000].lower()
    name = None
    if "<gpx" in head or path.suffix.lower() == ".gpx":
        rows, name = _gpx_rows(text, path)
    elif "<kml" in head or path.suffix.lower() == ".kml":
        rows, name = _kml_rows(raw, path)
    elif text.lstrip().startswith("$") or path.suffix.lower() in (".nmea", ".nma"):
        rows = _nmea_rows(text, path)
    else:
        raise MetadataError(f"{path}: not a GPX, KML or NMEA track")
    if not rows:
        raise MetadataError(f"{path}: the track has no points with a time")
    return to_arrays(_clean_name(name) or escaped_bytes(path.stem), rows)


def _clean_name(name: str | None) -> str | None:
    """A name from inside a track file on one line (None when it has none)."""
    return " ".join((name or "").split()) or None


def to_arrays(name: str, rows: list[tuple[float, float, float, float | None]]) -> TrackArrays:
    """(t_utc_s, lat, lon, ele) rows -> sorted arrays; of two points at the same second the first is kept."""
    data = np.array([(t, la, lo, np.nan if e is None else e) for t, la, lo, e in rows], dtype=np.float64)
    data = data[np.argsort(data[:, 0], kind="stable")]
    _, first = np.unique(data[:, 0], return_index=True)
    data = data[first]
    return TrackArrays(name, data[:, 0].copy(), data[:, 1].copy(), data[:, 2].copy(), data[:, 3].copy())


def _utc_s(value: datetime) -> float:
    """Seconds since the epoch; a time without a zone in a track file is UTC (GPX and KML say so)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _check(lat: float, lon: float, path: Path, where: str) -> None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0) or lat != lat or lon != lon:
        raise MetadataError(f"{path}:{where}: coordinate out of range ({lat}, {lon})")


def _gpx_rows(text: str, path: Path) -> tuple[list[tuple[float, float, float, float | None]], str | None]:
    """The timed points of every track, route and waypoint, and the name the file gives its track
    (the first named <trk>, else <rte>, else the file's <metadata><name>)."""
    import gpxpy
    import gpxpy.gpx

    try:
        gpx = gpxpy.parse(text)
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        message = " ".join(str(exc).split())[:200]
        raise MetadataError(f"{path}: not a valid GPX file: {message}") from exc
    points: list[Any] = [p for t in gpx.tracks for s in t.segments for p in s.points]
    points += [p for r in gpx.routes for p in r.points]
    points += list(gpx.waypoints)
    rows = []
    for p in points:
        if p.time is None:
            continue
        _check(p.latitude, p.longitude, path, f"point at {p.time}")
        rows.append((_utc_s(p.time), p.latitude, p.longitude, p.elevation))
    names = [t.name for t in gpx.tracks] + [r.name for r in gpx.routes] + [gpx.name]
    return rows, next((n for n in names if _clean_name(n)), None)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_when(value: str | None, path: Path) -> float | None:
    """An XML dateTime (``2024-05-01T10:00:00Z``, with an offset, or naive = UTC); a bare date is no time."""
    value = (value or "").strip()
    if "T" not in value:
        return None
    try:
        return _utc_s(datetime.fromisoformat(value.replace("z", "Z")))
    except ValueError:
        raise MetadataError(f"{path}: bad time {value[:40]!r} in the KML") from None


def _kml_rows(raw: bytes, path: Path) -> tuple[list[tuple[float, float, float, float | None]], str | None]:
    """The timed points of gx:Tracks and time-stamped placemarks, and the track's name (the
    <name> of the first placemark holding a gx:Track, else the document's first <name>)."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(raw)
    except ParseError as exc:
        line = getattr(exc, "position", (0, 0))[0]
        raise MetadataError(
            f"{path}:{line}: not valid KML ({exc.msg if hasattr(exc, 'msg') else exc})"
        ) from None
    except DefusedXmlException as exc:
        raise MetadataError(f"{path}: refused KML with unsafe XML constructs ({exc})") from None
    rows: list[tuple[float, float, float, float | None]] = []
    track_name = document_name = None
    for el in root.iter():
        name = _local(el.tag)
        if name == "name" and document_name is None:
            document_name = _clean_name(el.text)
        if name == "Placemark" and track_name is None and any(_local(c.tag) == "Track" for c in el.iter()):
            track_name = _clean_name(next((c.text for c in el if _local(c.tag) == "name"), None))
        if name == "Track":  # gx:Track: <when> and <gx:coord> elements pair up in order
            whens = [_parse_when(c.text, path) for c in el if _local(c.tag) == "when"]
            coords = [c.text or "" for c in el if _local(c.tag) == "coord"]
            if len(whens) != len(coords):
                raise MetadataError(
                    f"{path}: a gx:Track has {len(whens)} times but {len(coords)} coordinates"
                )
            for when, coord in zip(whens, coords, strict=True):
                if when is not None:
                    rows.append((when, *_kml_coord(coord.split(), path)))
        elif name == "Placemark":
            stamp = next((c for c in el.iter() if _local(c.tag) == "TimeStamp"), None)
            point = next((c for c in el.iter() if _local(c.tag) == "Point"), None)
            if stamp is None or point is None:
                continue
            when = _parse_when(next((c.text for c in stamp if _local(c.tag) == "when"), None), path)
            text = next((c.text for c in point if _local(c.tag) == "coordinates"), None) or ""
            if when is not None and text.strip():
                rows.append((when, *_kml_coord(text.strip().split()[0].split(","), path)))
    return rows, track_name or document_name


def _kml_coord(parts: list[str], path: Path) -> tuple[float, float, float | None]:
    """KML order is lon, lat[, alt]."""
    try:
        lon, lat = float(parts[0]), float(parts[1])
        ele = float(parts[2]) if len(parts) > 2 and parts[2] else None
    except (ValueError, IndexError):
        raise MetadataError(f"{path}: bad KML coordinate {' '.join(parts)[:60]!r}") from None
    _check(lat, lon, path, "coordinate")
    return lat, lon, ele


_SENTENCE = re.compile(r"^\$(?:[A-Z]{2})(RMC|GGA),([^*]*)(?:\*([0-9A-Fa-f]{2}))?\s*$")


def _nmea_checksum_ok(line: str) -> bool:
    if "*" not in line:
        return True
    body, _, given = line[1:].partition("*")
    value = 0
    for ch in body:
        value ^= ord(ch)
    return f"{value:02X}" == given.strip()[:2].upper()


def _nmea_angle(value: str, hemi: str, degree_digits: int) -> float:
    degrees = float(value[:degree_digits]) + float(value[degree_digits:]) / 60.0
    return -degrees if hemi in ("S", "W") else degrees


def _nmea_rows(text: str, path: Path) -> list[tuple[float, float, float, float | None]]:
    """$..RMC carries date + time; $..GGA carries time + elevation and takes the date of the last RMC."""
    rows: list[tuple[float, float, float, float | None]] = []
    last_rmc: datetime | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line.startswith("$"):
            if line:
                raise MetadataError(f"{path}:{number}: not an NMEA sentence: {line[:40]!r}")
            continue
        match = _SENTENCE.match(line)
        if not match or not _nmea_checksum_ok(line):  # other sentences; garbled ones a logger cut off
            continue
        kind, fields = match.group(1), match.group(2).split(",")
        try:
            if kind == "RMC":
                if len(fields) < 9 or fields[1] != "A" or not fields[8]:
                    continue  # void fix or no date
                hms, day = fields[0], fields[8]
                stamp = datetime.strptime(day + hms.split(".")[0], "%d%m%y%H%M%S").replace(tzinfo=UTC)
                stamp += timedelta(seconds=float("0." + hms.split(".")[1]) if "." in hms else 0.0)
                last_rmc = stamp
                lat, lon, ele = (
                    _nmea_angle(fields[2], fields[3], 2),
                    _nmea_angle(fields[4], fields[5], 3),
                    None,
                )
            else:
                if len(fields) < 9 or last_rmc is None or fields[5] in ("", "0") or not fields[1]:
                    continue  # no fix, or no date known yet
                hms = fields[0]
                h, m, s = int(hms[:2]), int(hms[2:4]), float(hms[4:])
                stamp = last_rmc.replace(hour=h, minute=m, second=0, microsecond=0) + timedelta(seconds=s)
                if (last_rmc - stamp).total_seconds() > 12 * 3600:  # passed midnight since the last RMC
                    stamp += timedelta(days=1)
                lat, lon = _nmea_angle(fields[1], fields[2], 2), _nmea_angle(fields[3], fields[4], 3)
                ele = float(fields[8]) if fields[8] else None
        except (ValueError, IndexError):
            raise MetadataError(f"{path}:{number}: malformed {kind} sentence: {line[:60]!r}") from None
        _check(lat, lon, path, str(number))
        rows.append((stamp.timestamp(), lat, lon, ele))
    return rows


# -- placing photos -----------------------------------------------------------------------------------------


def track_position(
    times_utc: Any, track: TrackArrays, max_gap_s: float = MAX_GAP_S
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, gap_s, speed_m_s) of each UTC time (seconds) on the track; NaN where it says nothing.

    ``gap_s`` is the time to the nearest recorded point; ``speed`` the logger's speed on the segment used
    (great-circle distance / time), so speed x gap bounds how far the photo may be from the estimate.
    """
    q = np.atleast_1d(np.asarray(times_utc, dtype=np.float64))
    n = len(track)
    lat = np.full(q.shape, np.nan)
    lon = np.full(q.shape, np.nan)
    gap = np.full(q.shape, np.nan)
    speed = np.full(q.shape, np.nan)
    if n == 0:
        return lat, lon, gap, speed

    def seg_speed(i: int) -> float:  # metres per second from point i to i + 1 (0 for a one-point track)
        i = min(max(i, 0), n - 2)
        if i < 0:
            return 0.0
        dist_m = float(haversine_km(track.lat[i], track.lon[i], track.lat[i + 1], track.lon[i + 1])) * 1000.0
        return dist_m / float(track.t[i + 1] - track.t[i])

    right = np.searchsorted(track.t, q, side="left")  # first point at or after q
    for k, t in enumerate(q):
        if not np.isfinite(t):
            continue
        r = int(right[k])
        if r < n and track.t[r] == t:  # exactly on a point
            lat[k], lon[k], gap[k] = track.lat[r], track.lon[r], 0.0
            speed[k] = seg_speed(r)
        elif r == 0 or r == n:  # before the start or after the end: the end point, if close enough
            end = 0 if r == 0 else n - 1
            if abs(track.t[end] - t) <= max_gap_s:
                lat[k], lon[k], gap[k] = track.lat[end], track.lon[end], abs(track.t[end] - t)
                speed[k] = seg_speed(0 if r == 0 else n - 2)
        else:
            left = r - 1
            span = track.t[r] - track.t[left]
            if span > max_gap_s:
                continue
            f = (t - track.t[left]) / span
            dlon = (track.lon[r] - track.lon[left] + 180.0) % 360.0 - 180.0  # the short way round
            lat[k] = track.lat[left] + f * (track.lat[r] - track.lat[left])
            lon[k] = (track.lon[left] + f * dlon + 180.0) % 360.0 - 180.0
            gap[k] = min(t - track.t[left], track.t[r] - t)
            speed[k] = seg_speed(left)
    return lat, lon, gap, speed


# -- photo time in UTC --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_finder() -> Any:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder(in_memory=True)


def zone_at(lat: float, lon: float) -> str | None:
    """IANA time zone at a position (timezonefinder, offline), None at sea."""
    return _zone_finder().timezone_at(lat=float(lat), lng=float(lon))


def _local_to_utc(local_s: float, zone: str) -> float | None:
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    wall = datetime.fromtimestamp(local_s, UTC).replace(tzinfo=None)
    return wall.replace(tzinfo=tz).timestamp()


def track_zones(tracks: list[TrackArrays], samples: int = 200) -> set[str]:
    """The time zones a set of tracks passes through (from up to ``samples`` points per track)."""
    zones: set[str] = set()
    for tr in tracks:
        for i in np.unique(np.linspace(0, len(tr) - 1, min(len(tr), samples)).astype(int)):
            zone = zone_at(tr.lat[i], tr.lon[i])
            if zone:
                zones.add(zone)
    return zones


def _nearest(t: np.ndarray, value: float) -> int:
    """Index of the element of sorted ``t`` closest to ``value``."""
    i = int(np.searchsorted(t, value))
    if i == 0 or (i < t.size and t[i] - value < value - t[i - 1]):
        return min(i, t.size - 1)
    return i - 1


def photo_utc_seconds(
    local_s: float | None,
    utc_s: float | None,
    tracks: list[TrackArrays],
    clock_offset_s: float = 0.0,
    zones: set[str] | None = None,
) -> float | None:
    """The photo's true UTC time, for placing it on the tracks.

    ``clock_offset_s`` corrects the camera clock (photo time + offset = true time). Without a recorded
    UTC offset the wall-clock time is read in the time zone where the track was: of the zones the tracks
    pass through (``zones``, from :func:`track_zones`), the reading that lands the photo within
    ``MAX_GAP_S`` of a track point lying in that same zone wins (the closest one); if none is
    consistent, the zone of the point nearest in wall-clock time is used.
    """
    if utc_s is not None:
        return utc_s + clock_offset_s
    tracks = [tr for tr in tracks if len(tr)]
    if local_s is None or not tracks:
        return None
    local = local_s + clock_offset_s
    best: tuple[float, float] | None = None  # (gap, utc)
    for zone in sorted(track_zones(tracks) if zones is None else zones):
        utc = _local_to_utc(local, zone)
        if utc is None:
            continue
        for tr in tracks:
            j = _nearest(tr.t, utc)
            gap = abs(float(tr.t[j]) - utc)
            if gap <= MAX_GAP_S and (best is None or gap < best[0]) and zone_at(tr.lat[j], tr.lon[j]) == zone:
                best = (gap, utc)
    if best is not None:
        return best[1]
    tr, j = min(((tr, _nearest(tr.t, local)) for tr in tracks), key=lambda s: abs(s[0].t[s[1]] - local))
    zone = zone_at(tr.lat[j], tr.lon[j])
    return _local_to_utc(local, zone) if zone else None


# -- the candidate --------------------------------------------------------------------------------------------

SOURCE_TRACK = "track"
EXACT_GAP_S = 60.0  # within a minute of a recorded point the track position is the photo's position
CONFIDENCE_AT_0 = 0.97
CONFIDENCE_AT_MAX_GAP = 0.6


def track_confidence(gap_s: float) -> float:
    """0.97 within a minute of a recorded point, then falling linearly to 0.60 at ``MAX_GAP_S``.

    A logger fix is accurate to metres; what can go wrong is the time (a camera clock off by more than
    the user corrected, a photo taken while the logger was in a pocket without a fix), and that risk
    grows with the distance in time to a real fix.
    """
    if gap_s <= EXACT_GAP_S:
        return CONFIDENCE_AT_0
    share = min(1.0, (gap_s - EXACT_GAP_S) / (MAX_GAP_S - EXACT_GAP_S))
    return CONFIDENCE_AT_0 - share * (CONFIDENCE_AT_0 - CONFIDENCE_AT_MAX_GAP)


def _gap_text(gap_s: float) -> str:
    return f"{gap_s:.0f} s" if gap_s < 90 else f"{gap_s / 60:.0f} min"


def track_candidate(utc_s: float | None, tracks: list[TrackArrays]) -> Candidate | None:
    """The position on the track closest in time to the photo, as a candidate (None when none covers it).

    Level "exact" within ``EXACT_GAP_S`` of a recorded point, else "city"; radius = speed x gap (at least
    50 m), the distance the logger could have moved since or until its nearest fix.
    """
    if utc_s is None:
        return None
    best: tuple[float, float, float, float, TrackArrays] | None = None
    for track in tracks:
        lat, lon, gap, speed = track_position([utc_s], track)
        if np.isfinite(lat[0]) and (best is None or gap[0] < best[2]):
            best = (float(lat[0]), float(lon[0]), float(gap[0]), float(speed[0]), track)
    if best is None:
        return None
    lat, lon, gap, speed, track = best
    speed = speed if np.isfinite(speed) else 0.0
    return Candidate(
        lat=lat,
        lon=lon,
        radius_km=max(0.05, speed * gap / 1000.0),
        level="exact" if gap <= EXACT_GAP_S else "city",
        confidence=round(track_confidence(gap), 4),
        source=SOURCE_TRACK,
        evidence={
            "track": track.name,
            "gap_s": round(gap, 1),
            "points": len(track),
            "speed_m_s": round(speed, 2),
            "text": f"on track {track.name}, {_gap_text(gap)} from the nearest point",
        },
    )
