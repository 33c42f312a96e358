"""Stage 1: which photos to locate and what they are located from.

The targets are the photos without GPS still open to suggestions (review state none/suggested); each
becomes a PhotoPoint in ``run.points`` (the one place later stages read capture times from, so a clock
stage can correct them). The geotagged photos (GPS in the file, or an accepted exact position) and the
imported GPS tracks are what the evidence rests on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from geotagger.catalog.schema import (
    REVIEW_ACCEPTED,
    REVIEW_NONE,
    REVIEW_SUGGESTED,
    STATUS_OK,
    Decision,
    Photo,
)
from geotagger.errors import NotFoundError, UserInputError
from geotagger.locate.fusion import SOURCES
from geotagger.locate.time_evidence import PhotoPoint, camera_key, capture_seconds
from geotagger.locate.tracks import SOURCE_TRACK
from geotagger.services.locate_stages.run import LocateRun
from geotagger.services.pathscope import at_or_under

if TYPE_CHECKING:
    from geotagger.catalog.library import Library


def check_request(
    sources: Sequence[str] | None, paths: Sequence[Path | str] | None
) -> tuple[tuple[str, ...], bool]:
    """Check a locate request: (sources fusion works on, whether tracks are used).
    ``sources`` None means all; unknown sources and missing paths are refused."""
    requested = tuple(sources or (*SOURCES, SOURCE_TRACK))
    unknown = set(requested) - {*SOURCES, SOURCE_TRACK}
    if unknown:
        raise UserInputError(
            f"unknown evidence source(s): {', '.join(sorted(unknown))}; use {', '.join((*SOURCES, SOURCE_TRACK))}"
        )
    missing = [str(p) for p in paths or () if not Path(p).expanduser().exists()]
    if missing:
        raise NotFoundError(f"no such file or folder: {missing[0]}")
    return tuple(s for s in requested if s != SOURCE_TRACK), SOURCE_TRACK in requested


def select_targets(run: LocateRun) -> None:
    """The photos to locate under ``run.paths`` (all when None) and their points."""
    run.targets = target_photos(run.lib, run.paths)
    run.points = {p.id: photo_point(p) for p in run.targets}
    run.report.considered = len(run.targets)


def load_known(run: LocateRun) -> None:
    """The geotagged photos (with fingerprints) and, when tracks are used, the imported tracks."""
    from geotagger.services.tracks import load_tracks

    run.tracks = load_tracks(run.lib) if run.use_tracks else []
    run.known, run.known_fps = known_points(run.lib)


def require_evidence(run: LocateRun) -> None:
    """Locating needs at least one geotagged photo or one GPS track."""
    if not run.known and not run.tracks:
        raise UserInputError(
            "the library has no geotagged photos to learn from: place a few photos by hand "
            "(geotagger accept PHOTO --lat X --lon Y), import a GPS track (geotagger tracks import FILE) "
            "or import a global model (geotagger models import-semp PATH)"
        )


def open_points(run: LocateRun) -> list[PhotoPoint]:
    """Every photo of the library still to locate, as points (training weighs the geotagged photos
    towards their time gaps): the targets themselves when the run covers the whole library."""
    if not run.paths:
        return list(run.points.values())
    return [photo_point(p) for p in target_photos(run.lib, None)]


# -- reading the catalog ------------------------------------------------------------------------------------


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
