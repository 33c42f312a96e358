"""Camera clocks of the library: estimated per (device, folder) by locate, listed, and set by the user.

A *unit* is one device in one folder (photos without Make/Model form the folder's unknown device). A
device whose photos in a folder carry GPS from the file is that folder's *reference* (its clock is right
by definition); every other unit of the folder gets an estimate against the references
(``locate/clocks.py``). Estimates are rows with source ``estimated``, replaced at every estimation;
rows the user sets (``manual``) win and survive. A manual row with folder "" holds for every folder.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, select

from geotagger.catalog.library import Library
from geotagger.catalog.schema import (
    CLOCK_ESTIMATED,
    CLOCK_MANUAL,
    GPS_FROM_EXIF,
    GPS_FROM_XMP,
    STATUS_OK,
    Clock,
    Photo,
)
from geotagger.errors import NotFoundError, UserInputError
from geotagger.locate.clock_periods import ClockPeriod, estimate_periods
from geotagger.locate.clocks import STATUS_CONFIDENT, STATUS_UNKNOWN, UNKNOWN, ClockSide, format_offset
from geotagger.locate.time_evidence import camera_key, capture_seconds
from geotagger.metadata.camera import camera_name

UNKNOWN_DEVICE = "unknown camera"
CLOCK_REFERENCE = "reference"  # the status a photo of a GPS device gets (its clock is right)


@dataclass(frozen=True)
class AppliedClock:
    """What locating does with the clock of one unit's photos taken (wall clock) in [start_s, end_s):
    subtract ``offset_s`` when ``applied``."""

    offset_s: float
    status: str  # manual | confident | uncertain | unknown
    applied: bool
    start_s: float | None = None
    end_s: float | None = None

    def covers(self, local_s: float | None) -> bool:
        return ClockPeriod(self.start_s, self.end_s, UNKNOWN).covers(local_s)


def clock_at(clocks: list[AppliedClock], local_s: float | None) -> AppliedClock | None:
    """The clock of a photo taken at ``local_s`` among its unit's periods (None: none covers it)."""
    return next((c for c in clocks if c.covers(local_s)), None)


@dataclass
class _Shot:
    id: int
    device: str
    folder: str
    local_s: float
    utc_s: float | None
    reference: bool  # GPS from the file


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _shots(lib: Library) -> list[_Shot]:
    with lib.catalog.reader() as session:
        rows = session.execute(
            select(
                Photo.id,
                Photo.folder,
                Photo.taken_at,
                Photo.taken_offset_min,
                Photo.camera_make,
                Photo.camera_model,
                Photo.camera_serial,
                Photo.gps_lat,
                Photo.gps_source,
            ).where(Photo.status == STATUS_OK, Photo.taken_at.is_not(None))
        ).all()
    out = []
    for pid, folder, taken, offset_min, make, model, serial, lat, gps_source in rows:
        local, utc = capture_seconds(taken, offset_min)
        assert local is not None
        reference = lat is not None and gps_source in (GPS_FROM_EXIF, GPS_FROM_XMP)
        out.append(_Shot(pid, camera_key(make, model, serial) or "", folder, local, utc, reference))
    return out


def estimate_clocks(
    lib: Library, vectors: dict[int, np.ndarray], scope: set[tuple[str, str]] | None = None
) -> dict[tuple[str, str], list[ClockPeriod]]:
    """Estimate every non-reference unit's clock from the photos' embeddings (``vectors``: photo id ->
    embedding; photos without one are left out) and store the estimates. Returns (device, folder) ->
    its periods (usually one); a unit without references in its folder is unknown. ``scope`` limits the
    work to those units (`locate PATH` embeds only the photos under PATH: the other folders' stored
    clocks must not turn unknown for lack of embeddings)."""
    units: dict[tuple[str, str], list[_Shot]] = defaultdict(list)
    for shot in _shots(lib):
        units[(shot.device, shot.folder)].append(shot)
    references: dict[str, list[_Shot]] = defaultdict(list)
    reference_units = set()
    for (device, folder), shots in units.items():
        if any(s.reference for s in shots):
            reference_units.add((device, folder))
            references[folder] += [s for s in shots if s.reference and s.id in vectors]
    estimates: dict[tuple[str, str], list[ClockPeriod]] = {}
    for unit, shots in sorted(units.items()):
        if unit in reference_units or (scope is not None and unit not in scope):
            continue
        mine = [s for s in shots if s.id in vectors]
        refs = references.get(unit[1], [])
        if not mine or not refs:
            estimates[unit] = [ClockPeriod(None, None, UNKNOWN)]
            continue
        estimates[unit] = estimate_periods(_side(mine, vectors), _side(refs, vectors))
    _store(lib, estimates, partial=scope is not None)
    return estimates


def _side(shots: list[_Shot], vectors: dict[int, np.ndarray]) -> ClockSide:
    return ClockSide.of(
        [s.local_s for s in shots], np.stack([vectors[s.id] for s in shots]), [s.utc_s for s in shots]
    )


def _when(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _seconds(when: datetime | None) -> float | None:
    return None if when is None else when.replace(tzinfo=UTC).timestamp()


def _values(period: ClockPeriod) -> tuple[Any, ...]:
    e = period.estimate
    return (
        _when(period.start_s),
        _when(period.end_s),
        round(e.offset_s, 1),
        e.support,
        round(e.confidence, 3),
        e.status,
    )


def _store(lib: Library, estimates: dict[tuple[str, str], list[ClockPeriod]], partial: bool = False) -> None:
    """Replace the estimated rows (manual rows stay); a unit whose periods did not change keeps its rows.
    ``partial``: only some units were estimated, so the rows of the others stay too."""
    now = _now()
    with lib.catalog.writer() as session:
        old: dict[tuple[str, str], list[Clock]] = defaultdict(list)
        for c in session.scalars(select(Clock).where(Clock.source == CLOCK_ESTIMATED).order_by(Clock.id)):
            old[(c.device, c.folder)].append(c)
        for unit, rows in old.items():
            if unit not in estimates and not partial:
                for row in rows:
                    session.delete(row)
        for (device, folder), periods in estimates.items():
            rows = old.get((device, folder), [])
            stored = [
                (r.period_start, r.period_end, r.offset_s, r.support, r.confidence, r.status) for r in rows
            ]
            if stored == [_values(p) for p in periods]:
                continue
            for row in rows:
                session.delete(row)
            for p in periods:
                start, end, offset, support, confidence, status = _values(p)
                session.add(
                    Clock(
                        device=device,
                        folder=folder,
                        period_start=start,
                        period_end=end,
                        offset_s=offset,
                        support=support,
                        confidence=confidence,
                        status=status,
                        source=CLOCK_ESTIMATED,
                        updated_at=now,
                    )
                )


def applied_clocks(lib: Library) -> dict[tuple[str, str], list[AppliedClock]]:
    """(device, folder) -> the clocks locate applies, per period: a manual row for the folder, else a
    manual row for every folder, else the estimates (applied when confident; uncertain and unknown ones
    are marked, not applied). A unit without rows (a reference, or never estimated) is absent."""
    with lib.catalog.reader() as session:
        rows = session.scalars(select(Clock).order_by(Clock.id)).all()
        pairs = session.execute(
            select(Photo.camera_make, Photo.camera_model, Photo.camera_serial, Photo.folder).distinct()
        ).all()
    manual_all = {r.device: r for r in rows if r.source == CLOCK_MANUAL and r.folder == ""}
    manual = {(r.device, r.folder): r for r in rows if r.source == CLOCK_MANUAL and r.folder}
    estimated: dict[tuple[str, str], list[Clock]] = defaultdict(list)
    for r in rows:
        if r.source == CLOCK_ESTIMATED:
            estimated[(r.device, r.folder)].append(r)
    out: dict[tuple[str, str], list[AppliedClock]] = {}
    for make, model, serial, folder in pairs:
        device = camera_key(make, model, serial) or ""
        hand = manual.get((device, folder)) or manual_all.get(device)
        if hand is not None:
            out[(device, folder)] = [AppliedClock(hand.offset_s, CLOCK_MANUAL, True)]
        elif (device, folder) in estimated:
            out[(device, folder)] = [
                AppliedClock(
                    r.offset_s,
                    r.status,
                    r.status == STATUS_CONFIDENT,
                    _seconds(r.period_start),
                    _seconds(r.period_end),
                )
                for r in estimated[(device, folder)]
            ]
    return out


# -- what `geotagger clocks` shows and sets -----------------------------------------------------------------


def device_label(device: str) -> str:
    """'FUJIFILM X100V' (+ ' #serial') for a camera key; 'unknown camera' for photos without Make/Model."""
    if not device:
        return UNKNOWN_DEVICE
    make, model, serial = (device.split("|") + ["", ""])[:3]
    return _label(make, model, serial)


def _label(make: str | None, model: str | None, serial: str | None) -> str:
    return camera_name(make, model) + (f" #{serial.strip()}" if serial and serial.strip() else "")


def list_clocks(lib: Library) -> list[dict[str, Any]]:
    """One row per stored clock: device, folder, offset (readable) and offset_s, support, confidence,
    status, source. Manual rows come first for their unit; "" as folder reads 'all folders'."""
    labels = _labels(lib)
    with lib.catalog.reader() as session:
        rows = session.scalars(select(Clock)).all()
    out = []
    for r in sorted(
        rows, key=lambda r: (r.folder, labels.get(r.device, device_label(r.device)), r.source != CLOCK_MANUAL)
    ):
        out.append(
            {
                "device": labels.get(r.device, device_label(r.device)),
                "folder": r.folder or "(all folders)",
                "offset": format_offset(r.offset_s)
                if r.status != STATUS_UNKNOWN or r.source == CLOCK_MANUAL
                else "?",
                "offset_s": round(r.offset_s),
                "period": _period_text(r.period_start, r.period_end),
                "support": r.support,
                "confidence": round(r.confidence, 2),
                "status": r.status,
                "source": r.source,
            }
        )
    return out


def _period_text(start: datetime | None, end: datetime | None) -> str:
    """'' for the whole folder, else 'until 2023-06-01 12:00' / 'from ...' / 'from ... until ...'."""
    parts = ([f"from {start:%Y-%m-%d %H:%M}"] if start else []) + (
        [f"until {end:%Y-%m-%d %H:%M}"] if end else []
    )
    return " ".join(parts)


def _labels(lib: Library) -> dict[str, str]:
    """camera key -> label with the case the files wrote (keys are lower-case)."""
    with lib.catalog.reader() as session:
        rows = session.execute(
            select(Photo.camera_make, Photo.camera_model, Photo.camera_serial).distinct()
        ).all()
    return {(camera_key(*r) or ""): (_label(*r) if camera_key(*r) else UNKNOWN_DEVICE) for r in rows}


def _resolve_device(lib: Library, text: str) -> str:
    """The camera key DEVICE names (its label as `clocks` lists it, or the key); one-line errors when it
    names no device or several."""
    labels = _labels(lib)
    wanted = " ".join(text.split()).casefold()
    if not wanted:
        raise UserInputError('give a device as `geotagger clocks` lists it (e.g. "FUJIFILM X100V")')
    exact = sorted({k for k, label in labels.items() if wanted in (label.casefold(), k)})
    found = exact or sorted({k for k, label in labels.items() if wanted in label.casefold()})
    if not found:
        known = ", ".join(sorted(labels.values())) or "none indexed"
        raise NotFoundError(f"no device matches {text!r} (devices: {known})")
    if len(found) > 1:
        names = ", ".join(repr(labels[k]) for k in found)
        raise UserInputError(f"{text!r} matches several devices: {names}; give the full name")
    return found[0]


def _resolve_folder(lib: Library, device: str, folder: str | Path | None) -> str:
    """'' for every folder, else the indexed folder (as stored) where the device has photos."""
    if folder is None:
        return ""
    resolved = str(Path(folder).expanduser().resolve())
    with lib.catalog.reader() as session:
        folders = {f for (f,) in session.execute(select(Photo.folder).distinct()).all()}
        makes = session.execute(
            select(Photo.camera_make, Photo.camera_model, Photo.camera_serial)
            .where(Photo.folder == resolved)
            .distinct()
        ).all()
    if resolved not in folders:
        raise NotFoundError(f"no indexed photos in folder {resolved}")
    if device not in {camera_key(*m) or "" for m in makes}:
        raise NotFoundError(f"{device_label(device)} has no photos in {resolved}")
    return resolved


def set_clock(lib: Library, device: str, offset_s: float, folder: str | Path | None = None) -> str:
    """Set a device's clock offset (camera ahead of true time, seconds) for one folder or all; returns
    what was set, for the user. Manual rows win over estimates and survive re-estimation."""
    key = _resolve_device(lib, device)
    where = _resolve_folder(lib, key, folder)
    with lib.catalog.writer() as session:
        row = session.scalars(
            select(Clock).where(Clock.device == key, Clock.folder == where, Clock.source == CLOCK_MANUAL)
        ).first()
        if row is None:
            row = Clock(device=key, folder=where, source=CLOCK_MANUAL, support=0, confidence=1.0)
            session.add(row)
        row.offset_s, row.status, row.updated_at = float(offset_s), STATUS_CONFIDENT, _now()
    scope = where or "all folders"
    return f"{_labels(lib).get(key, device_label(key))} ({scope}): clock {format_offset(offset_s)}; run `geotagger locate` to apply it"


def clear_clock(lib: Library, device: str, folder: str | Path | None = None) -> int:
    """Remove the manual offsets of a device (for one folder, or all of them); estimates apply again."""
    key = _resolve_device(lib, device)
    query = delete(Clock).where(Clock.device == key, Clock.source == CLOCK_MANUAL)
    if folder is not None:
        query = query.where(Clock.folder == _resolve_folder(lib, key, folder))
    with lib.catalog.writer() as session:
        removed = session.execute(query).rowcount or 0
    if not removed:
        raise NotFoundError(
            f"{_labels(lib).get(key, device_label(key))} has no clock set by hand"
            + (f" in {folder}" if folder else "")
        )
    return int(removed)
