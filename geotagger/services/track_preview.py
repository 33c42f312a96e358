"""Where photos fall on the imported tracks for a trial camera clock, without storing anything.

The app's clock control moves the photos along the tracks while the user turns the offset; this is the
pure part it calls (no Qt). The sign is the one of ``geotagger clocks set``: ``ahead_s`` is how far the
camera clock is AHEAD of true time, so the true time is the photo's time minus it (as locate applies a
stored clock). A photo without a recorded UTC offset is read in ``zone`` when one is given, else in the
zone the tracks were in at that moment (``locate.tracks.photo_utc_seconds``). Drawing data for the map
is thinned here too (long logs hold 100k points; the page needs a few thousand).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy import select

from geotagger.catalog.library import Library
from geotagger.catalog.schema import CLOCK_MANUAL, Clock, Photo
from geotagger.errors import UserInputError
from geotagger.locate.time_evidence import camera_key, capture_seconds
from geotagger.locate.tracks import MAX_GAP_S, TrackArrays, photo_utc_seconds, track_position, track_zones
from geotagger.metadata.camera import camera_name

MAX_DRAWN_POINTS = 5000  # per track on the map
UNKNOWN_CAMERA = "unknown camera"  # services.clocks.UNKNOWN_DEVICE: what `clocks set` calls it


@dataclass(frozen=True)
class PhotoTime:
    """A photo's capture time as the file says it: wall clock seconds, and UTC seconds when the file
    recorded its offset."""

    id: int
    name: str
    device: str  # camera key ("" for photos without Make/Model), as the clocks table stores it
    folder: str
    camera: str  # the device as `geotagger clocks` lists it ("FUJIFILM X100V", "unknown camera")
    local_s: float | None
    utc_s: float | None


@dataclass(frozen=True)
class TrackMatch:
    """One photo placed on a track for a trial clock: ``lat``/``lon`` None when no track covers it."""

    id: int
    name: str
    utc_s: float | None
    lat: float | None
    lon: float | None
    gap_s: float | None  # time to the nearest recorded point
    track: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.name,
            "lat": self.lat,
            "lon": self.lon,
            "gap_s": None if self.gap_s is None else round(self.gap_s, 1),
            "track": self.track,
            "time": None if self.utc_s is None else _utc_text(self.utc_s),
        }


def _utc_text(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def photo_times(lib: Library, ids: Sequence[int]) -> list[PhotoTime]:
    """The capture times of these photos (photos without a time are left out), in the order given."""
    if not ids:
        return []
    with lib.catalog.reader() as session:
        rows = session.execute(
            select(
                Photo.id,
                Photo.filename,
                Photo.folder,
                Photo.taken_at,
                Photo.taken_offset_min,
                Photo.camera_make,
                Photo.camera_model,
                Photo.camera_serial,
            ).where(Photo.id.in_(list(ids)))
        ).all()
    found = {}
    for pid, name, folder, taken, offset_min, make, model, serial in rows:
        if taken is None:
            continue
        local, utc = capture_seconds(taken, offset_min)
        key = camera_key(make, model, serial) or ""
        label = camera_name(make, model) + (f" #{serial.strip()}" if serial and serial.strip() else "")
        found[pid] = PhotoTime(pid, name, key, folder, label if key else UNKNOWN_CAMERA, local, utc)
    return [found[i] for i in ids if i in found]


def true_utc(
    photo: PhotoTime,
    ahead_s: float,
    zone: str | None,
    tracks: list[TrackArrays],
    track_zones_: set[str] | None = None,
) -> float | None:
    """The photo's true UTC time for a camera ``ahead_s`` seconds ahead; a time without a UTC offset is
    read in ``zone`` (an IANA name), or where the tracks were when ``zone`` is None (``track_zones_``:
    the zones the tracks pass through, computed once by the caller)."""
    if photo.utc_s is not None:
        return photo.utc_s - ahead_s
    if photo.local_s is None:
        return None
    if zone is None:
        return photo_utc_seconds(photo.local_s - ahead_s, None, tracks, 0.0, track_zones_)
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserInputError(f"unknown time zone {zone!r}") from exc
    wall = datetime.fromtimestamp(photo.local_s - ahead_s, UTC).replace(tzinfo=tz)
    return wall.timestamp()


def match_photos(
    photos: Sequence[PhotoTime],
    tracks: list[TrackArrays],
    ahead_s: float = 0.0,
    zone: str | None = None,
    own_clocks: Mapping[int, float] | None = None,
) -> list[TrackMatch]:
    """Each photo on the track nearest in time (interpolated), or without a position when no track
    has a point within ``MAX_GAP_S`` of its true time. ``own_clocks``: photo id -> the offset of a
    photo that keeps its own camera's clock (another camera than the one being set)."""
    out = []
    own_clocks = own_clocks or {}
    zones = track_zones(tracks) if tracks and zone is None and any(p.utc_s is None for p in photos) else None
    for photo in photos:
        offset = own_clocks.get(photo.id, ahead_s)
        utc = true_utc(photo, offset, zone, tracks, zones) if tracks else None
        best: tuple[float, float, float, str] | None = None
        if utc is not None:
            for track in tracks:
                lat, lon, gap, _speed = track_position([utc], track, MAX_GAP_S)
                if np.isfinite(lat[0]) and (best is None or gap[0] < best[2]):
                    best = (float(lat[0]), float(lon[0]), float(gap[0]), track.name)
        if best is None:
            out.append(TrackMatch(photo.id, photo.name, utc, None, None, None, None))
        else:
            out.append(TrackMatch(photo.id, photo.name, utc, *best))
    return out


def thin(track: TrackArrays, limit: int = MAX_DRAWN_POINTS) -> list[list[float]]:
    """[[lat, lon], ...] of at most ``limit`` points, evenly spaced along the log, first and last kept.
    A stride keeps the shape of a GPS log (points every few seconds) well at map scale."""
    n = len(track)
    if n == 0:
        return []
    keep = np.unique(np.linspace(0, n - 1, min(n, max(2, limit))).round().astype(int))
    return [[round(float(track.lat[i]), 6), round(float(track.lon[i]), 6)] for i in keep]


def track_drawing(tracks: list[TrackArrays], ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """What ``showTracks`` on the map page takes: one entry per track with its thinned points."""
    ids = list(ids) if ids is not None else list(range(len(tracks)))
    return [
        {"id": tid, "name": tr.name, "points": thin(tr), "total": len(tr)}
        for tid, tr in zip(ids, tracks, strict=True)
    ]


@dataclass(frozen=True)
class UnitClock:
    """The stored clock of one (device, folder): the offset set by hand (None: none), and locate's
    estimate (None: none made) with its confidence, supporting pairs and status."""

    manual_s: float | None
    manual_all_folders: bool
    estimate_s: float | None
    confidence: float | None
    support: int | None
    status: str | None


def unit_clock(lib: Library, device: str, folder: str) -> UnitClock:
    """What the clocks table holds for this unit (a folder's own manual row wins over an all-folders one;
    of several estimated periods the best supported is shown)."""
    with lib.catalog.reader() as session:
        rows = session.scalars(
            select(Clock).where(Clock.device == device, Clock.folder.in_([folder, ""])).order_by(Clock.id)
        ).all()
    manual = [r for r in rows if r.source == CLOCK_MANUAL]
    own = next((r for r in manual if r.folder == folder), None)
    hand = own or next((r for r in manual if r.folder == ""), None)
    estimates = [r for r in rows if r.source != CLOCK_MANUAL and r.folder == folder]
    best = max(estimates, key=lambda r: (r.support, r.confidence), default=None)
    return UnitClock(
        None if hand is None else hand.offset_s,
        hand is not None and own is None,
        None if best is None else best.offset_s,
        None if best is None else best.confidence,
        None if best is None else best.support,
        None if best is None else best.status,
    )


def stored_offsets(lib: Library, photos: Sequence[PhotoTime]) -> dict[int, float]:
    """photo id -> the offset locate applies to it now (0 for a reference camera, an unknown or an
    uncertain clock, which locate does not apply either)."""
    from geotagger.services.clocks import applied_clocks, clock_at

    applied = applied_clocks(lib)
    out = {}
    for photo in photos:
        clock = clock_at(applied.get((photo.device, photo.folder), []), photo.local_s)
        out[photo.id] = clock.offset_s if clock is not None and clock.applied else 0.0
    return out
