"""Stage 6: the evidence for each photo whose suggestions are stale, one function per source.

``track``: the position on an imported GPS track at the photo's time. ``pool``: the places the fusion
ranks, gathered by ``EvidenceContext.pool`` from the time neighbours, the library model, the global
packs for the run's sources and the place names read on the photo (stages/text.py). A further source
is one more function in ``SOURCES_IN_ORDER``.
"""

from __future__ import annotations

from collections.abc import Callable

from geotagger.locate.time_evidence import PhotoPoint
from geotagger.locate.tracks import photo_utc_seconds, track_candidate, track_zones
from geotagger.services.locate_stages.run import Evidence, LocateRun


def collect(run: LocateRun) -> None:
    """``run.evidence`` for every photo in ``run.keys`` (progress counts every target)."""
    zones = (
        track_zones(run.tracks)
        if run.tracks and any(p.taken_offset_min is None for p in run.targets)
        else set()
    )
    if run.progress:
        run.progress.start(len(run.targets), "locating")
    for photo in run.targets:
        if run.cancel:
            run.cancel.check()
        if photo.id in run.keys:
            found = Evidence()
            for source in SOURCES_IN_ORDER:
                source(run, run.points[photo.id], found, zones)
            run.evidence[photo.id] = found
        if run.progress:
            run.progress.advance()
    if run.progress:
        run.progress.finish()


def track(run: LocateRun, point: PhotoPoint, found: Evidence, zones: set[str]) -> None:
    """The track position at the photo's time (``run.clock_offset_s`` corrects the camera clock)."""
    seconds = photo_utc_seconds(point.local_s, point.utc_s, run.tracks, run.clock_offset_s, zones)
    found.track = track_candidate(seconds, run.tracks)


def pool(run: LocateRun, point: PhotoPoint, found: Evidence, zones: set[str]) -> None:
    """The fusion pool: time neighbours, library heads and neighbours, global classes."""
    if run.context is None:
        return
    found.pool = run.context.pool(
        point,
        run.vectors.get(point.id),
        sources=run.sources,
        global_classes=run.global_preds.get(point.id, []),
        text=run.text.get(point.id),
    )


SOURCES_IN_ORDER: tuple[Callable[[LocateRun, PhotoPoint, Evidence, set[str]], None], ...] = (track, pool)
