"""Accepting and rejecting locations: the user's decisions, journaled with the state they replaced.

A decision changes only the catalog; ``writing.write`` later puts accepted locations into the files.
A photo whose file already carries GPS (EXIF or XMP) is never overridden without ``force``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from geotagger.catalog import Decision, Photo
from geotagger.catalog.library import Library
from geotagger.catalog.schema import (
    GPS_FROM_EXIF,
    GPS_FROM_XMP,
    REVIEW_ACCEPTED,
    REVIEW_REJECTED,
    STATUS_OK,
)
from geotagger.errors import UserInputError
from geotagger.geo.address import LEVELS
from geotagger.locate.calibration import LEVEL_RADIUS_KM
from geotagger.locate.candidate import SOURCE_MANUAL
from geotagger.metadata.write_jpeg import GpsFix
from geotagger.services.selection import find_photo

ACTION_ACCEPT = "accept"
ACTION_REJECT = "reject"
# Uncertainty radius (km) of a position the user placed by hand. A level means one radius everywhere
# (LEVEL_RADIUS_KM: what it means in suggestions, confidences and written files), so a placement the
# user calls "city" is +-25 km like a city suggestion; only a precise placement (a click on the map, a
# typed coordinate: level "exact") keeps its own tighter radius.
HAND_PLACED_RADIUS_KM = 0.1
MANUAL_RADIUS_KM = {**LEVEL_RADIUS_KM, "exact": HAND_PLACED_RADIUS_KM}
_REAL_GPS = (GPS_FROM_EXIF, GPS_FROM_XMP)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def resolve_photo(lib: Library, ref: str | int) -> Photo:
    """A photo by catalog id or path (absolute or relative to the working directory)."""
    with lib.catalog.reader() as session:
        photo = find_photo(session, ref)
        session.expunge(photo)  # a detached snapshot that outlives the session
        return photo


def _previous(photo: Photo) -> dict[str, Any]:
    return {
        "review_state": photo.review_state,
        "gps_lat": photo.gps_lat,
        "gps_lon": photo.gps_lon,
        "gps_alt": photo.gps_alt,
        "gps_source": photo.gps_source,
        "sidecar_path": photo.sidecar_path,
    }


def _record(
    session: Any, photo: Photo, action: str, review_state: str, batch: str | None = None, **fields: Any
) -> Decision:
    """Journal the user's decision with the state it replaces, and move the photo to ``review_state``.

    ``batch`` names one user action that decided several photos (a drop of a selection on the map): the
    history lists and undoes such decisions as one entry. It is kept with the replaced state."""
    previous = _previous(photo)
    if batch:
        previous["batch"] = str(batch)[:64]
    decision = Decision(
        photo_id=photo.id,
        action=action,
        previous=previous,
        actor="user",
        created_at=_now(),
        **fields,
    )
    session.add(decision)
    photo.review_state = review_state
    session.flush()
    return decision


def _check_level(level: str | None) -> None:
    if level is not None and level not in LEVELS:
        raise UserInputError(f"unknown level {level!r} (choose from {', '.join(LEVELS)})")


def _geocode(lat: float, lon: float) -> dict[str, Any]:
    from geotagger.geo.geocoder import ReverseGeocoder

    return ReverseGeocoder.default().lookup(lat, lon).to_dict()


def accept(
    lib: Library,
    ref: str | int,
    *,
    candidate: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    level: str | None = None,
    force: bool = False,
    batch: str | None = None,
) -> Decision:
    """Accept a suggestion (``candidate`` = catalog rank, 0 = best; front ends number it rank + 1) or a
    manual position (``lat``/``lon``).

    ``level`` says how precise the user claims it is (default: the candidate's level; "exact" for a
    manual position). Raises UserInputError for a photo with real GPS unless ``force``.
    """
    _check_level(level)
    manual = lat is not None or lon is not None
    if manual and (lat is None or lon is None):
        raise UserInputError("give both --lat and --lon")
    if manual and candidate is not None:
        raise UserInputError("give either a candidate or --lat/--lon, not both")
    if candidate is not None and candidate < 0:
        raise UserInputError("the candidate number must be 0 or more")
    if manual:
        assert lat is not None and lon is not None
        lat, lon = float(lat), float(lon)
        GpsFix(lat, lon)  # validates the range before anything is recorded
    with lib.catalog.writer() as session:
        photo = find_photo(session, ref)
        if photo.status != STATUS_OK:
            reason = f" ({photo.error})" if photo.error else ""
            raise UserInputError(
                f"{photo.path} is {photo.status}{reason}; only readable photos can be geotagged"
            )
        if photo.gps_source in _REAL_GPS and not force:
            raise UserInputError(
                f"{photo.path} already has GPS from its {photo.gps_source.upper()} data; "
                "use --force to replace it"
            )
        if manual:
            assert lat is not None and lon is not None
            chosen_level = level or "exact"
            radius = MANUAL_RADIUS_KM[chosen_level]
            source, address = SOURCE_MANUAL, _geocode(lat, lon)
        else:
            index = candidate or 0
            ranked = sorted(photo.suggestions, key=lambda s: s.rank)
            if not ranked:
                raise UserInputError(
                    f"{photo.path} has no suggestions; run 'geotagger locate' or give --lat/--lon"
                )
            if index >= len(ranked):
                raise UserInputError(
                    f"{photo.path} has {len(ranked)} suggestion(s); candidate {index + 1} is none"
                )
            chosen = ranked[index]
            lat, lon, source = chosen.lat, chosen.lon, chosen.source
            chosen_level = level or chosen.level
            if LEVELS.index(chosen_level) > LEVELS.index(chosen.level):
                raise UserInputError(
                    f"candidate {index + 1} is only good to {chosen.level} level (±{chosen.radius_km:g} km); "
                    f"accept it at that level or coarser, or place the photo with --lat/--lon"
                )
            radius = chosen.radius_km
            if LEVELS.index(chosen_level) < LEVELS.index(chosen.level):  # coarser than the candidate
                radius = max(radius, LEVEL_RADIUS_KM[chosen_level])  # what the level means everywhere
            address = dict(chosen.address or {}) or _geocode(lat, lon)
        return _record(
            session,
            photo,
            ACTION_ACCEPT,
            REVIEW_ACCEPTED,
            batch,
            lat=lat,
            lon=lon,
            level=chosen_level,
            radius_km=radius,
            address=address,
            source=source,
        )


def reject(lib: Library, ref: str | int, batch: str | None = None) -> Decision:
    """Reject the suggestions for a photo (it will not be written; nothing on disk changes)."""
    with lib.catalog.writer() as session:
        photo = find_photo(session, ref)
        return _record(session, photo, ACTION_REJECT, REVIEW_REJECTED, batch, address={})


def latest_accept(session: Any, photo_id: int) -> Decision | None:
    """The decision a write should carry out: the newest accept of the photo that was not undone."""
    from sqlalchemy import select

    query = (
        select(Decision)
        .where(Decision.photo_id == photo_id, Decision.action == ACTION_ACCEPT, Decision.undone_at.is_(None))
        .order_by(Decision.id.desc())
        .limit(1)
    )
    return session.scalar(query)
