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
from geotagger.locate.clocks import (
    STATUS_CONFIDENT,
    STATUS_UNKNOWN,
    ClockEstimate,
    ClockSide,
    estimate_offset,
    format_offset,
)
from geotagger.locate.time_evidence import camera_key, capture_seconds
from geotagger.services.library import Library

UNKNOWN_DEVICE = "unknown camera"
CLOCK_REFERENCE = "reference"  # the status a photo of a GPS device gets (its clock is right)


@dataclass(frozen=True)
class AppliedClock:
    """What locating does with one photo's clock: subtract ``offset_s`` (0 when not applied)."""

    offset_s: float
    status: str  # reference | manual | confident | uncertain | unknown
    applied: bool


NOT_APPLIED = AppliedClock(0.0, STATUS_UNKNOWN, False)


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


def estimate_clocks(lib: Library, vectors: dict[int, np.ndarray]) -> dict[tuple[str, str], ClockEstimate]:
    """Estimate every non-reference unit's clock from the photos' embeddings (``vectors``: photo id ->
    embedding; photos without one are left out) and store the estimates. Returns (device, folder) ->
    estimate; a unit without references in its folder is unknown."""
    units: dict[tuple[str, str], list[_Shot]] = defaultdict(list)
    for shot in _shots(lib):
        units[(shot.device, shot.folder)].append(shot)
    references: dict[str, list[_Shot]] = defaultdict(list)
    reference_units = set()
    for (device, folder), shots in units.items():
        if any(s.reference for s in shots):
            reference_units.add((device, folder))
            references[folder] += [s for s in shots if s.reference and s.id in vectors]
    estimates: dict[tuple[str, str], ClockEstimate] = {}
    for unit, shots in sorted(units.items()):
        if unit in reference_units:
            continue
        mine = [s for s in shots if s.id in vectors]
        refs = references.get(unit[1], [])
        if not mine or not refs:
            estimates[unit] = ClockEstimate(0.0, 0, 0.0, STATUS_UNKNOWN)
            continue
        estimates[unit] = estimate_offset(_side(mine, vectors), _side(refs, vectors))
    _store(lib, estimates)
    return estimates


def _side(shots: list[_Shot], vectors: dict[int, np.ndarray]) -> ClockSide:
    return ClockSide.of(
        [s.local_s for s in shots], np.stack([vectors[s.id] for s in shots]), [s.utc_s for s in shots]
    )


def _store(lib: Library, estimates: dict[tuple[str, str], ClockEstimate]) -> None:
    """Replace the estimated rows (manual rows stay); only rows whose estimate changed are rewritten."""
    now = _now()
    with lib.catalog.writer() as session:
        old = {
            (c.device, c.folder): c
            for c in session.scalars(select(Clock).where(Clock.source == CLOCK_ESTIMATED))
        }
        for unit, row in old.items():
            if unit not in estimates:
                session.delete(row)
        for (device, folder), e in estimates.items():
            row = old.get((device, folder))
            values = (round(e.offset_s, 1), e.support, round(e.confidence, 3), e.status)
            if row is not None and (row.offset_s, row.support, row.confidence, row.status) == values:
                continue
            if row is None:
                row = Clock(device=device, folder=folder, source=CLOCK_ESTIMATED)
                session.add(row)
            row.offset_s, row.support, row.confidence, row.status = values
            row.updated_at = now


def applied_clocks(lib: Library) -> dict[tuple[str, str], AppliedClock]:
    """(device, folder) -> the clock locate applies: a manual row for the folder, else a manual row for
    every folder, else a confident estimate; uncertain and unknown estimates are marked, not applied."""
    with lib.catalog.reader() as session:
        rows = session.scalars(select(Clock)).all()
        pairs = session.execute(
            select(Photo.camera_make, Photo.camera_model, Photo.camera_serial, Photo.folder).distinct()
        ).all()
    manual_all = {r.device: r for r in rows if r.source == CLOCK_MANUAL and r.folder == ""}
    by_unit = {(r.device, r.folder, r.source): r for r in rows}
    out: dict[tuple[str, str], AppliedClock] = {}
    for make, model, serial, folder in pairs:
        device = camera_key(make, model, serial) or ""
        manual = by_unit.get((device, folder, CLOCK_MANUAL)) or manual_all.get(device)
        if manual is not None:
            out[(device, folder)] = AppliedClock(manual.offset_s, CLOCK_MANUAL, True)
            continue
        est = by_unit.get((device, folder, CLOCK_ESTIMATED))
        if est is not None:
            out[(device, folder)] = AppliedClock(est.offset_s, est.status, est.status == STATUS_CONFIDENT)
    return out


# -- what `geotagger clocks` shows and sets -----------------------------------------------------------------


def device_label(device: str) -> str:
    """'FUJIFILM X100V' (+ ' #serial') for a camera key; 'unknown camera' for photos without Make/Model."""
    if not device:
        return UNKNOWN_DEVICE
    make, model, serial = (device.split("|") + ["", ""])[:3]
    return _label(make, model, serial)


def _label(make: str | None, model: str | None, serial: str | None) -> str:
    make, model = (make or "").strip(), (model or "").strip()
    name = (
        model if make and model.lower().startswith(make.split(" ")[0].lower()) else f"{make} {model}".strip()
    )
    return name + (f" #{serial.strip()}" if serial and serial.strip() else "")


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
                "support": r.support,
                "confidence": round(r.confidence, 2),
                "status": r.status,
                "source": r.source,
            }
        )
    return out


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
