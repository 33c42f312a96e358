"""Stage 3b (after embeddings, before any evidence): camera clocks.

Estimates each device's clock per folder against the devices with GPS there (reusing the embeddings the
previous stage loaded; ``services/clocks.py`` stores the estimates beside the user's own settings), then
rewrites the targets' points in ``run.points``: a photo whose clock is set by hand or confidently
estimated gets corrected times (true time = file time - offset) and ``clock`` manual/estimated; a photo
whose clock the data cannot pin down keeps its file times and ``clock`` unknown, so time evidence from
another device weighs it less. Time and track evidence both read these points, and the suggestion key
includes the corrected time, so a changed clock recomputes exactly the photos it moves. Geotagged photos
of a non-reference device (accepted positions) are corrected the same way; ``known_clocks_digest`` keys
the suggestions on their clocks.

``locate --clock-offset`` (a fixed correction for tracks, the older way) overrides the clocks: the file
times stay as they are and tracks use the given offset for every photo.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING

from geotagger.locate.clocks import KERNEL_S
from geotagger.locate.time_evidence import (
    CLOCK_ESTIMATED,
    CLOCK_MANUAL,
    CLOCK_REFERENCE,
    CLOCK_UNKNOWN,
    PhotoPoint,
)
from geotagger.services.locate_stages.run import LocateRun

if TYPE_CHECKING:
    from geotagger.services.clocks import AppliedClock


def correct(run: LocateRun) -> None:
    """Estimate and store the clocks (when embeddings are at hand), then correct ``run.points``."""
    from geotagger.services import clocks as service  # the catalog side of clocks

    if run.vectors:
        scope = None if not run.paths else {(p.camera or "", p.folder) for p in run.points.values()}
        service.estimate_clocks(run.lib, run.vectors, scope)
    applied = service.applied_clocks(run.lib)
    override = bool(run.clock_offset_s)

    def fix(point: PhotoPoint) -> PhotoPoint:
        unit = applied.get((point.camera or "", point.folder))
        clock = None if unit is None else service.clock_at(unit, point.local_s)
        if unit is not None and clock is None:  # between estimated periods: nothing applies
            clock = service.AppliedClock(0.0, CLOCK_UNKNOWN, False)
        return corrected(point, clock, override=override)

    run.points = {pid: fix(point) for pid, point in run.points.items()}
    # Geotagged photos too: an accepted photo of a camera whose clock is off (its GPS ones are references).
    run.known = [fix(point) for point in run.known]


def known_clocks_digest(points: list[PhotoPoint]) -> str:
    """A short hash of the geotagged photos' clocks where one is not a reference ('' when all are):
    the suggestions that rest on them are stale when it changes."""
    moved = sorted(f"{p.id}:{p.clock}:{p.local_s!r}" for p in points if p.clock != CLOCK_REFERENCE)
    return hashlib.sha1(";".join(moved).encode()).hexdigest()[:12] if moved else ""


def corrected(point: PhotoPoint, clock: AppliedClock | None, *, override: bool = False) -> PhotoPoint:
    """``point`` with the clock applied (``clock`` None: a device with GPS photos in its folder, i.e. a
    reference; ``override``: locate --clock-offset was given, so the file times stay)."""
    if clock is None:
        return replace(point, clock=CLOCK_REFERENCE, clock_error_s=0.0)
    offset, status = clock.offset_s, clock.status
    if override or not clock.applied or point.local_s is None:
        return replace(point, clock=CLOCK_UNKNOWN, clock_error_s=None)
    return replace(
        point,
        local_s=point.local_s - offset,
        utc_s=None if point.utc_s is None else point.utc_s - offset,
        clock=CLOCK_MANUAL if status == CLOCK_MANUAL else CLOCK_ESTIMATED,
        clock_error_s=0.0 if status == CLOCK_MANUAL else KERNEL_S,
    )
