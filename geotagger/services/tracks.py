"""GPS tracks in the library: import (GPX / KML / NMEA), list, remove, and load them for locating.

A track is stored once per content (SHA-1 of the file), so importing the same file again, even from
another path, changes nothing. ``locate`` folds :func:`tracks_digest` into each photo's key, so importing
or removing a track recomputes the suggestions of the photos it may cover.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select

from geotagger.catalog.library import Library
from geotagger.catalog.schema import Track, TrackPoint
from geotagger.errors import GeotaggerError, NotFoundError
from geotagger.locate.tracks import TRACK_SUFFIXES, TrackArrays, read_track
from geotagger.progress import CancelToken, Progress
from geotagger.textsafe import escaped_bytes


@dataclass
class TrackImportReport:
    imported: list[dict[str, Any]] = field(default_factory=list)  # id, name, points, start, end
    already: list[str] = field(default_factory=list)  # paths whose content was imported before
    errors: dict[str, str] = field(default_factory=dict)  # path -> reason (folders only; a named file raises)

    def summary(self) -> str:
        points = sum(t["points"] for t in self.imported)
        parts = [f"{len(self.imported)} track(s) imported ({points} points)"]
        if self.already:
            parts.append(f"{len(self.already)} already in the library")
        if self.errors:
            parts.append(f"{len(self.errors)} could not be read")
        return ", ".join(parts)


def _naive_utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _files(paths: Sequence[Path | str]) -> list[tuple[Path, bool]]:
    """(file, named by the user) for each path; folders give their track files, searched recursively."""
    out: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            out += [
                (p, False)
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in TRACK_SUFFIXES
            ]
        elif path.exists():
            out.append((path, True))
        else:
            raise NotFoundError(f"no such track file: {path}")
    return out


def import_tracks(
    lib: Library,
    paths: Sequence[Path | str],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> TrackImportReport:
    """Import track files (or the track files under folders). A file named directly that cannot be read
    is an error; unreadable files found in a folder are reported and skipped."""
    report = TrackImportReport()
    files = _files(paths)
    if progress:
        progress.start(len(files), "importing tracks")
    for path, named in files:
        if cancel:
            cancel.check()
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
        with lib.catalog.reader() as session:
            known = session.scalar(select(Track.id).where(Track.fingerprint == digest))
        if known is not None:
            report.already.append(escaped_bytes(str(path)))
        else:
            try:
                arrays = read_track(path)
            except GeotaggerError as exc:
                if named:
                    raise
                report.errors[escaped_bytes(str(path))] = str(exc)
                arrays = None
            if arrays is not None:
                report.imported.append(_store(lib, path, digest, arrays))
        if progress:
            progress.advance()
    if progress:
        progress.finish()
    return report


def _store(lib: Library, path: Path, digest: str, arrays: TrackArrays) -> dict[str, Any]:
    with lib.catalog.writer() as session:
        track = Track(
            path=escaped_bytes(str(path.resolve())),  # shown, never opened again: text, not bytes
            name=arrays.name[:200],
            imported_at=datetime.now(UTC).replace(tzinfo=None),
            points=len(arrays),
            start_utc=_naive_utc(float(arrays.t[0])),
            end_utc=_naive_utc(float(arrays.t[-1])),
            fingerprint=digest,
        )
        session.add(track)
        session.flush()
        rows = [
            {
                "track_id": track.id,
                "t_utc": _naive_utc(float(t)),
                "lat": float(la),
                "lon": float(lo),
                "ele": None if np.isnan(e) else float(e),
            }
            for t, la, lo, e in zip(arrays.t, arrays.lat, arrays.lon, arrays.ele, strict=True)
        ]
        for i in range(0, len(rows), 5000):
            session.execute(insert(TrackPoint), rows[i : i + 5000])
        return _row(track)


def _row(track: Track) -> dict[str, Any]:
    return {
        "id": track.id,
        "name": track.name,
        "points": track.points,
        "start_utc": track.start_utc.strftime("%Y-%m-%d %H:%M:%S"),
        "end_utc": track.end_utc.strftime("%Y-%m-%d %H:%M:%S"),
        "path": track.path,
    }


def list_tracks(lib: Library) -> list[dict[str, Any]]:
    """The imported tracks, oldest first in time."""
    with lib.catalog.reader() as session:
        return [_row(t) for t in session.scalars(select(Track).order_by(Track.start_utc, Track.id))]


def remove_track(lib: Library, track_id: int) -> str:
    """Forget a track and its points (the file is untouched); returns its name."""
    with lib.catalog.writer() as session:
        track = session.get(Track, track_id)
        if track is None:
            raise NotFoundError(f"no track with id {track_id} (see geotagger tracks list)")
        name = track.name
        session.execute(delete(TrackPoint).where(TrackPoint.track_id == track_id))
        session.delete(track)
    return name


def load_tracks(lib: Library) -> list[TrackArrays]:
    """Every imported track as arrays, for placing photos on them."""
    out: list[TrackArrays] = []
    with lib.catalog.reader() as session:
        for track in session.scalars(select(Track).order_by(Track.id)):
            rows = session.execute(
                select(TrackPoint.t_utc, TrackPoint.lat, TrackPoint.lon, TrackPoint.ele)
                .where(TrackPoint.track_id == track.id)
                .order_by(TrackPoint.t_utc)
            ).all()
            if rows:
                t = np.array([r[0].replace(tzinfo=UTC).timestamp() for r in rows])
                lat = np.array([r[1] for r in rows], dtype=np.float64)
                lon = np.array([r[2] for r in rows], dtype=np.float64)
                ele = np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=np.float64)
                out.append(TrackArrays(track.name, t, lat, lon, ele))
    return out


def tracks_digest(lib: Library) -> str:
    """A short hash of the imported tracks: suggestions are stale when it changes ("" when none)."""
    with lib.catalog.reader() as session:
        prints = sorted(session.scalars(select(Track.fingerprint)))
    return hashlib.sha1(",".join(prints).encode()).hexdigest()[:12] if prints else ""
