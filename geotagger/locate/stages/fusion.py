"""Stage 7: each photo's ranked candidates: the track position first, then the fused pool, top 5."""

from __future__ import annotations

from geotagger.locate.fusion import MAX_CANDIDATES
from geotagger.locate.levels import same_place
from geotagger.locate.stages.run import LocateRun


def rank(run: LocateRun) -> None:
    """``run.results``: photo id -> (suggestion key, candidates); no candidate counts as no evidence."""
    for photo_id, found in run.evidence.items():
        candidates = [found.track] if found.track is not None else []
        if found.pool is not None and run.fusion is not None:
            fused = run.fusion.candidates(found.pool)
            track = [(t.lat, t.lon) for t in candidates]  # a fused place the track already names goes
            candidates += [c for c in fused if not same_place(c.lat, c.lon, c.level, track)]
        candidates = candidates[:MAX_CANDIDATES]
        if not candidates:
            run.report.no_evidence += 1
        run.results[photo_id] = (run.keys[photo_id], candidates)
