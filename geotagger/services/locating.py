"""Locating photos without GPS: the service that runs the stages of ``geotagger.services.locate_stages`` in order.

``locate`` is idempotent: a photo is recomputed only when its fingerprint, the embedding model, the
library model, the set of geotagged photos, the sources or the tracks changed. It stores the top-5 fused
candidates as Suggestion rows and moves photos from review state "none" to "suggested"; accepted,
rejected and written photos are never touched. The library model is (re)trained on its own when enough
new geotagged photos or accepted suggestions have arrived (``geotagger models train``: services/training.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geotagger.catalog.library import Library
from geotagger.progress import CancelToken, Progress
from geotagger.services.locate_stages import (
    clocks,
    embeddings,
    evidence,
    fusion,
    library_model,
    store,
    targets,
    text,
)
from geotagger.services.locate_stages.run import LocateReport, LocateRun

__all__ = ["LocateReport", "locate", "suggestions"]


def locate(
    lib: Library,
    paths: Sequence[Path | str] | None = None,
    *,
    device: str = "auto",
    batch_size: int | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    sources: Sequence[str] | None = None,
    clock_offset_s: float = 0.0,
    five_crop: bool = False,
    ocr: bool = True,
    cluster: str | None = None,
) -> LocateReport:
    """Estimate where the photos without GPS (under ``paths``, all if None) were taken.

    ``sources`` restricts the evidence (default: all; "time" or "library" alone for benchmarks).
    A photo an imported GPS track covers gets the track position as its first candidate;
    ``clock_offset_s`` corrects the camera clock for that (photo time + offset = true time).
    ``five_crop`` embeds with five-crop test-time augmentation (about 5x the inference time); the
    library model is retrained on that recipe and the suggestions recomputed when it changes.
    ``ocr`` reads the text on the photos (cached) and turns place names into candidates (False: --no-ocr).
    ``cluster``: embed on the Ray cluster at this address ("auto": a local one; locate/cluster.py).
    """
    started = time.monotonic()
    fused_sources, use_tracks = targets.check_request(sources, paths)
    run = LocateRun(
        lib,
        paths,
        fused_sources,
        use_tracks,
        device=device,
        batch_size=batch_size,
        progress=progress,
        cancel=cancel,
        clock_offset_s=clock_offset_s,
        five_crop=five_crop,
        use_ocr=ocr,
        cluster=cluster,
    )
    targets.select_targets(run)
    if run.targets:  # nothing to locate: neither train nor embed
        targets.load_known(run)
        targets.require_evidence(run)
        library_model.check(run)
        embeddings.embed(run)
        clocks.correct(run)
        text.read(run)
        library_model.prepare(run)
        store.find_changed(run)
        evidence.collect(run)
        fusion.rank(run)
        store.save(run)
    run.report.seconds = time.monotonic() - started
    return run.report


def suggestions(lib: Library) -> list[dict[str, Any]]:
    """The best candidate per photo with its alternatives (what `geotagger suggestions` prints)."""
    return store.read_suggestions(lib)
