"""What locating reads from the catalog: the geotagged photos (GPS in the file or an accepted exact
position) and the photos to locate, as the points time evidence works on."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import or_, select

from geotagger.catalog.schema import (
    REVIEW_ACCEPTED,
    REVIEW_NONE,
    REVIEW_SUGGESTED,
    STATUS_OK,
    Decision,
    Photo,
)
from geotagger.locate.time_evidence import PhotoPoint, camera_key, capture_seconds
from geotagger.services.library import Library
from geotagger.services.pathscope import at_or_under


def photo_point(photo: Photo, lat: float | None = None, lon: float | None = None) -> PhotoPoint:
    """A catalog photo as time evidence sees it (capture time, camera, folder, optional position)."""
    local, utc = capture_seconds(photo.taken_at, photo.taken_offset_min)
    return PhotoPoint(
        id=photo.id,
        path=photo.path,
        folder=photo.folder,
        local_s=local,
        utc_s=utc,
        camera=camera_key(photo.camera_make, photo.camera_model, photo.camera_serial),
        lat=lat,
        lon=lon,
    )


def known_points(lib: Library) -> tuple[list[PhotoPoint], dict[int, str]]:
    """Geotagged photos (GPS in the file, or an accepted exact position) and their fingerprints."""
    with lib.catalog.reader() as session:
        photos = session.scalars(
            select(Photo).where(
                Photo.status == STATUS_OK, Photo.gps_lat.is_not(None), Photo.gps_lon.is_not(None)
            )
        ).all()
        points = [photo_point(p, p.gps_lat, p.gps_lon) for p in photos]
        fingerprints = {p.id: p.fingerprint for p in photos}
        accepted = session.execute(
            select(Photo, Decision)
            .join(Decision, Decision.photo_id == Photo.id)
            .where(
                Photo.review_state == REVIEW_ACCEPTED,
                Photo.gps_lat.is_(None),
                Photo.status == STATUS_OK,
                Decision.action == "accept",
                Decision.undone_at.is_(None),
                Decision.level == "exact",
            )
            .order_by(Decision.id)
        ).all()
        latest: dict[int, tuple[Photo, Decision]] = {}
        for photo, decision in accepted:
            latest[photo.id] = (photo, decision)
        for photo, decision in latest.values():
            if decision.lat is not None and decision.lon is not None:
                points.append(photo_point(photo, decision.lat, decision.lon))
                fingerprints[photo.id] = photo.fingerprint
    return points, fingerprints


def known_digest(points: Sequence[PhotoPoint]) -> str:
    """A short hash of the geotagged positions: stored suggestions are stale when it changes."""
    h = hashlib.sha1()
    for p in sorted(points, key=lambda p: p.id):
        h.update(f"{p.id}:{p.lat:.6f}:{p.lon:.6f};".encode())
    return h.hexdigest()[:12]


def target_photos(lib: Library, paths: Sequence[Path | str] | None) -> list[Photo]:
    """Photos without GPS still open to suggestions (review state none/suggested), under ``paths``."""
    query = select(Photo).where(
        Photo.status == STATUS_OK,
        or_(Photo.gps_lat.is_(None), Photo.gps_lon.is_(None)),
        Photo.review_state.in_((REVIEW_NONE, REVIEW_SUGGESTED)),
    )
    if paths:
        clauses = []
        for raw in paths:
            resolved = str(Path(raw).expanduser().resolve())
            clauses.append(at_or_under(Photo.path, resolved, ("/", "\\")))  # exact: no LIKE wildcards
        query = query.where(or_(*clauses))
    with lib.catalog.reader() as session:
        return list(session.scalars(query.order_by(Photo.path)).all())
