"""Stage 7: each photo's ranked candidates: the track position first, then the fused pool, top 5."""

from __future__ import annotations

from geotagger.locate.candidate import Candidate
from geotagger.locate.fusion import MAX_CANDIDATES, FusionModel, PoolItem
from geotagger.locate.levels import same_place
from geotagger.locate.text_evidence.pool import SOURCE_TEXT
from geotagger.services.locate_stages.run import LocateRun

TEXT_READ_KEPT = 3


def rank(run: LocateRun) -> None:
    """``run.results``: photo id -> (suggestion key, candidates); no candidate counts as no evidence."""
    for photo_id, found in run.evidence.items():
        candidates = [found.track] if found.track is not None else []
        model = _model_for(run, found.pool) if found.pool is not None else None
        if found.pool is not None and model is not None:
            fused = model.candidates(found.pool)
            track = [(t.lat, t.lon) for t in candidates]  # a fused place the track already names goes
            candidates += [c for c in fused if not same_place(c.lat, c.lon, c.level, track)]
            _note_text_read(model, found.pool, candidates)
        candidates = candidates[:MAX_CANDIDATES]
        if not candidates:
            run.report.no_evidence += 1
        run.results[photo_id] = (run.keys[photo_id], candidates)


def _model_for(run: LocateRun, pool: list[PoolItem]) -> FusionModel | None:
    """The text twin for a pool with a text candidate (when the library has one), else the plain model."""
    if run.text_fusion is not None and any(it.source == SOURCE_TEXT for it in pool):
        return run.text_fusion
    return run.fusion


def _note_text_read(model: FusionModel, pool: list[PoolItem], candidates: list[Candidate]) -> None:
    """The place names read on the photo, in the fusion's order, on the first candidate's evidence
    (``text_read``): a text place that agrees with a better candidate is merged into it, not listed,
    and this still says what the sign named (and lets the benchmark score the text source)."""
    if not candidates or not any(it.source == SOURCE_TEXT for it in pool):
        return
    ranked = [it for it, _ in model.rank(pool, limit=None) if it.source == SOURCE_TEXT]
    candidates[0].evidence["text_read"] = [
        {
            "place": it.evidence.get("place"),
            "lat": round(it.lat, 5),
            "lon": round(it.lon, 5),
            "words": it.evidence.get("words"),
            "ocr_score": it.evidence.get("ocr_score"),
        }
        for it in ranked[:TEXT_READ_KEPT]
    ]
