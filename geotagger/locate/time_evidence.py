"""Evidence from capture time: geotagged photos of the library taken shortly before or after.

In real libraries the nearest geotagged photo in capture time is the strongest single clue (library-dev:
58% within 1 km). We look for neighbours in four scopes, most specific first: the same device (make, model,
serial; without a serial only within one folder, since two owners' phones of one model are not one device),
another device of the same owner (same folder), the same folder when a device is unknown, and anywhere in
the library (another folder). We interpolate between the previous and the next geotagged photo when both
are close to each other. How much a neighbour is worth (its confidence) is learned by the fusion model from
the gap, the scope, the clock status and the agreement of neighbours, then calibrated; measured priors
(time_priors.py) stand in where the library has too little to learn from.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

# How far from each other two neighbours may be to interpolate between them (km) and how long the
# bracketing interval may be (seconds): beyond that a straight line between them means nothing.
INTERPOLATE_MAX_KM = 20.0
INTERPOLATE_MAX_S = 6 * 3600.0
# Another folder's geotagged photo is a neighbour only this close in time: on the benchmark such neighbours
# were never within 25 km of the truth at any gap (bench/measure_time_priors.py, scope "library"), so they
# are kept only where a per-device folder of the same trip is plausible, and never from days or years away.
LIBRARY_SCOPE_MAX_S = 6 * 3600.0
# Clock status of a photo's capture time relative to the devices with GPS.
CLOCK_REFERENCE, CLOCK_MANUAL, CLOCK_ESTIMATED, CLOCK_UNKNOWN = "reference", "manual", "estimated", "unknown"
KNOWN_CLOCKS = (CLOCK_REFERENCE, CLOCK_MANUAL, CLOCK_ESTIMATED)
# Scopes, most specific first.
SCOPES = ("device", "owner", "folder", "library")


def haversine_km(lat1, lon1, lat2, lon2):  # noqa: ANN001, ANN201 - floats or numpy arrays
    """Great-circle distance (R = 6371 km), vectorised over numpy arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass(frozen=True)
class PhotoPoint:
    """What the engine needs of one photo; ``lat``/``lon`` are None for a photo to locate."""

    id: int
    path: str
    folder: str
    local_s: float | None  # capture wall-clock time as seconds (naive time read as if UTC)
    utc_s: float | None  # true UTC seconds when the time-zone offset is known
    camera: str | None  # "make|model|serial" (serial may be empty); None when unknown
    lat: float | None = None
    lon: float | None = None
    device: str | None = None  # camera_key; defaults to ``camera``
    clock: str = CLOCK_REFERENCE  # reference | manual | estimated | unknown (see KNOWN_CLOCKS)
    clock_error_s: float | None = 0.0  # uncertainty of the applied clock correction; None = unknown

    def __post_init__(self) -> None:
        if self.device is None and self.camera:
            object.__setattr__(self, "device", self.camera)

    @property
    def has_time(self) -> bool:
        return self.local_s is not None

    @property
    def clock_known(self) -> bool:
        return self.clock in KNOWN_CLOCKS and self.clock_error_s is not None

    @property
    def device_unit(self) -> str | None:
        """The device as one clock: library-wide with a serial number, else within the folder."""
        if not self.device:
            return None
        return self.device if _has_serial(self.device) else f"{self.device}@{self.folder}"


def _has_serial(device: str) -> bool:
    return bool(device.rsplit("|", 1)[-1].strip()) if "|" in device else False


def camera_key(make: str | None, model: str | None, serial: str | None) -> str | None:
    """One string per physical camera (or camera model when there is no serial)."""
    if not (make or model):
        return None
    return "|".join((part or "").strip().lower() for part in (make, model, serial))


def capture_seconds(taken_at: datetime | None, offset_min: int | None) -> tuple[float | None, float | None]:
    """(wall-clock seconds, UTC seconds or None) of a capture time."""
    if taken_at is None:
        return None, None
    local = taken_at.replace(tzinfo=UTC).timestamp()
    utc = local - offset_min * 60.0 if offset_min is not None else None
    return local, utc


def gap_seconds(a: PhotoPoint, b: PhotoPoint) -> float | None:
    """Signed b - a in seconds, in UTC when both offsets are known, else on the wall clock."""
    if a.utc_s is not None and b.utc_s is not None:
        return b.utc_s - a.utc_s
    if a.local_s is None or b.local_s is None:
        return None
    return b.local_s - a.local_s


@dataclass(frozen=True)
class TimeNeighbour:
    """A geotagged photo near a query in time."""

    point: PhotoPoint
    gap_s: float  # absolute gap
    direction: str  # "before" (the neighbour was taken before the query) or "after"
    scope: str  # "device", "owner", "folder" or "library" (SCOPES)
    rank: int  # 0 = the closest in its direction and scope

    @property
    def in_folder(self) -> bool:
        """Same device or same folder: the owner's own evidence, as opposed to another folder's."""
        return self.scope != "library"


def scope_of(query: PhotoPoint, p: PhotoPoint) -> str:
    """Where a geotagged photo stands relative to the query (see SCOPES)."""
    if query.device_unit is not None and query.device_unit == p.device_unit:
        return "device"
    if p.folder != query.folder:
        return "library"
    if query.device and p.device:
        return "owner"
    return "folder"


def same_clock(query: PhotoPoint, n: TimeNeighbour) -> bool:
    """Whether the gap to this neighbour is measured on one clock: the same device, or both clocks known."""
    return n.scope == "device" or (query.clock_known and n.point.clock_known)


def effective_gap_s(query: PhotoPoint, n: TimeNeighbour) -> float:
    """The gap widened by the uncertainty of both clock corrections (same device: the errors cancel)."""
    if n.scope == "device":
        return n.gap_s
    return n.gap_s + (query.clock_error_s or 0.0) + (n.point.clock_error_s or 0.0)


def prior_scope(query: PhotoPoint, n: TimeNeighbour) -> str:
    """The measured prior's scope (time_priors.SCOPES) for this neighbour."""
    if n.scope == "library":
        return "library"
    return "same_clock" if same_clock(query, n) else "other_clock"


def format_gap(seconds: float) -> str:
    """'42 s', '12 min', '3.5 h', '6 days' - for evidence lines people read."""
    s = abs(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.0f} days"


class TimeIndex:
    """Geotagged photos sorted by capture time, per scope, for fast before/after look-ups."""

    def __init__(self, known: list[PhotoPoint]) -> None:
        self._groups: dict[tuple[str, str], tuple[list[float], list[PhotoPoint]]] = {}
        buckets: dict[tuple[str, str], list[tuple[float, PhotoPoint]]] = {}
        for p in known:
            if p.local_s is None or p.lat is None:
                continue
            keys = [("library", ""), ("folder", p.folder)]
            if p.device_unit:
                keys.append(("device", p.device_unit))
            for key in keys:
                buckets.setdefault(key, []).append((self._t(p), p))
        for key, items in buckets.items():
            items.sort(key=lambda it: (it[0], it[1].id))
            self._groups[key] = ([t for t, _ in items], [p for _, p in items])

    @staticmethod
    def _t(p: PhotoPoint) -> float:
        # A common axis: UTC when known, else wall clock. Exact gaps come from gap_seconds().
        return p.utc_s if p.utc_s is not None else float(p.local_s or 0.0)

    def neighbours(
        self, query: PhotoPoint, per_side: int = 2, exclude_id: int | None = None
    ) -> list[TimeNeighbour]:
        """Up to ``per_side`` neighbours before and after the query in each scope (deduplicated); another
        folder's photos only within LIBRARY_SCOPE_MAX_S."""
        if not query.has_time:
            return []
        scopes = [("device", query.device_unit)] if query.device_unit else []
        scopes += [("folder", query.folder), ("library", "")]
        seen: set[int] = set()
        out: list[TimeNeighbour] = []
        t = self._t(query)
        for scope, key in scopes:
            group = self._groups.get((scope, key or ""))
            if group is None:
                continue
            times, points = group
            i = bisect.bisect_left(times, t)
            for direction, idxs in (("before", range(i - 1, -1, -1)), ("after", range(i, len(times)))):
                rank = 0
                for j in idxs:
                    p = points[j]
                    if p.id == query.id or p.id == exclude_id:
                        continue
                    if rank >= per_side:
                        break
                    gap = gap_seconds(query, p)
                    if gap is None:
                        continue
                    actual = scope_of(query, p)
                    if actual == "library" and abs(gap) > LIBRARY_SCOPE_MAX_S:
                        break  # sorted by time: the rest of this side is farther still
                    if p.id not in seen:
                        seen.add(p.id)
                        out.append(TimeNeighbour(p, abs(gap), direction, actual, rank))
                    rank += 1
        return out


def interpolate(
    query: PhotoPoint, before: TimeNeighbour, after: TimeNeighbour
) -> tuple[float, float, float] | None:
    """Position on the line between two bracketing neighbours at the query's time, with their distance.

    None when they are too far apart in space or time for a straight line to mean anything.
    """
    a, b = before.point, after.point
    assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
    span = before.gap_s + after.gap_s
    apart = float(haversine_km(a.lat, a.lon, b.lat, b.lon))
    if apart > INTERPOLATE_MAX_KM or span > INTERPOLATE_MAX_S:
        return None
    w = before.gap_s / span if span > 0 else 0.5
    lat = a.lat + w * (b.lat - a.lat)
    dlon = ((b.lon - a.lon + 540.0) % 360.0) - 180.0  # the short way across the antimeridian
    lon = ((a.lon + w * dlon + 540.0) % 360.0) - 180.0
    return lat, lon, apart


def evidence_line(n: TimeNeighbour) -> str:
    """'taken 12 min after IMG_0420.jpg (GPS)' - the query relative to its neighbour."""
    name = n.point.path.replace("\\", "/").rsplit("/", 1)[-1]
    rel = "after" if n.direction == "before" else "before"
    return f"taken {format_gap(n.gap_s)} {rel} {name} (GPS)"


def log_gap_minutes(gap_s: float | None) -> float:
    """Feature scale for gaps: log(1 + minutes); missing time maps far away."""
    if gap_s is None or not math.isfinite(gap_s):
        return math.log1p(10 * 365 * 24 * 60)
    return math.log1p(abs(gap_s) / 60.0)
