"""Stage 3b (after embeddings, before any evidence): camera clocks.

Estimates each device's clock per folder against the devices with GPS there (reusing the embeddings the
previous stage loaded; ``services/clocks.py`` stores the estimates beside the user's own settings), then
rewrites the targets' points in ``run.points``: a photo whose clock is set by hand or confidently
estimated gets corrected times (true time = file time - offset) and ``clock`` manual/estimated; a photo
whose clock the data cannot pin down keeps its file times and ``clock`` unknown, so time evidence from
another device weighs it less. Time and track evidence both read these points, and the suggestion key
includes the corrected time, so a changed clock recomputes exactly the photos it moves.

``locate --clock-offset`` (a fixed correction for tracks, the older way) overrides the clocks: the file
times stay as they are and tracks use the given offset for every photo.
"""

from __future__ import annotations

from dataclasses import fields, replace

from geotagger.locate import time_evidence
from geotagger.locate.clocks import KERNEL_S
from geotagger.locate.stages.run import LocateRun
from geotagger.locate.time_evidence import PhotoPoint

# The clock statuses time evidence knows (time_evidence.CLOCK_*; the literals until those land there).
CLOCK_REFERENCE = getattr(time_evidence, "CLOCK_REFERENCE", "reference")
CLOCK_MANUAL = getattr(time_evidence, "CLOCK_MANUAL", "manual")
CLOCK_ESTIMATED = getattr(time_evidence, "CLOCK_ESTIMATED", "estimated")
CLOCK_UNKNOWN = getattr(time_evidence, "CLOCK_UNKNOWN", "unknown")


def correct(run: LocateRun) -> None:
    """Estimate and store the clocks (when embeddings are at hand), then correct ``run.points``."""
    from geotagger.services import clocks as service  # the catalog side of clocks

    if run.vectors:
        service.estimate_clocks(run.lib, run.vectors)
    applied = service.applied_clocks(run.lib)
    for pid, point in list(run.points.items()):
        unit = applied.get((point.camera or "", point.folder))
        clock = None if unit is None else service.clock_at(unit, point.local_s)
        if unit is not None and clock is None:  # between estimated periods: nothing applies
            clock = service.AppliedClock(0.0, CLOCK_UNKNOWN, False)
        run.points[pid] = corrected(point, clock, override=bool(run.clock_offset_s))


def corrected(point: PhotoPoint, clock: object | None, *, override: bool = False) -> PhotoPoint:
    """``point`` with the clock applied (``clock``: services.clocks.AppliedClock, None for a device that
    has GPS photos in its folder, i.e. a reference)."""
    if clock is None:
        return _with(point, clock=CLOCK_REFERENCE, clock_error_s=0.0)
    offset, status, applied = clock.offset_s, clock.status, clock.applied  # type: ignore[attr-defined]
    if override or not applied or point.local_s is None:
        return _with(point, clock=CLOCK_UNKNOWN, clock_error_s=None)
    return _with(
        point,
        local_s=point.local_s - offset,
        utc_s=None if point.utc_s is None else point.utc_s - offset,
        clock=CLOCK_MANUAL if status == CLOCK_MANUAL else CLOCK_ESTIMATED,
        clock_error_s=0.0 if status == CLOCK_MANUAL else KERNEL_S,
    )


def _with(point: PhotoPoint, **changes: object) -> PhotoPoint:
    """``replace`` for the fields this PhotoPoint has (``clock`` / ``clock_error_s`` come with the
    time-evidence work of the same issue; without them only the times are corrected)."""
    have = {f.name for f in fields(point)}
    return replace(point, **{k: v for k, v in changes.items() if k in have})
