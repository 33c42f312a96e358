"""Stages 2 and 4: the library model (heads + neighbours) and the fusion trained on the library's own
geotagged photos, kept beside the catalog.

``check`` decides before embedding whether the saved model is stale; ``prepare`` trains it then (one
path, ``train``, which `geotagger models train` uses too), loads it and builds the evidence context
over today's geotagged photos. ``locate.library_training.train`` is the algorithm.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from geotagger.catalog.schema import Setting
from geotagger.errors import ModelError, UserInputError
from geotagger.locate import library_training
from geotagger.locate.fusion import EvidenceContext
from geotagger.locate.time_evidence import PhotoPoint
from geotagger.services.locate_stages import targets, text
from geotagger.services.locate_stages.run import LocateRun

if TYPE_CHECKING:
    from geotagger.catalog.library import Library

MODEL_SETTING = "library_model"
RETRAIN_MIN_CHANGED = 10  # new/removed geotagged photos before an automatic retrain ...
RETRAIN_MIN_SHARE = 0.05  # ... and at least this share of the trained set


def check(run: LocateRun) -> None:
    """Mark the run for retraining when fusion will run and the saved model is stale."""
    recipe = text.recipe() if text.available(run) else ""
    run.retrain = run.fuses and needs_training(
        run.lib, run.known, five_crop=run.five_crop, text_recipe=recipe
    )


def prepare(run: LocateRun) -> None:
    """Train when stale, then load the model, pick the fusion for the sources, build the context."""
    if not run.fuses:
        return
    if run.retrain:
        train(run)
        run.report.retrained = True
    run.trained = library_training.load(library_model_dir(run.lib))
    run.report.model_version = run.trained.version
    run.fusion = run.trained.fusion_for(run.sources)
    run.text_fusion = run.trained.text_fusion_for(run.sources)
    if "library" in run.sources:
        library = run.trained.library_with(run.known, run.vectors, run.model_id)
        run.context = EvidenceContext(run.known, library)
    else:
        run.model_id = run.trained.library.model_id
        run.context = EvidenceContext(run.known)


def require_known(run: LocateRun) -> None:
    """Training needs at least one geotagged photo."""
    if not run.known:
        raise UserInputError(
            "the library has no geotagged photos to learn from: place a few photos by hand "
            "(geotagger accept PHOTO --lat X --lon Y) or import a global model (geotagger models import-semp PATH)"
        )


def train(run: LocateRun) -> library_training.Trained:
    """Train on ``run.known`` with the training embeddings, save beside the catalog, record it."""
    trained = library_training.train(
        run.known,
        run.training.vectors,
        run.training.model_id,
        progress=run.progress,
        cancel=run.cancel,
        targets=targets.open_points(run),
        global_preds=run.training.global_preds,
        texts=run.text,
    )
    # Unique per training (two in one second must still differ: the suggestion keys rest on it).
    version = f"{targets.known_digest(run.known)}-{int(time.time())}-{secrets.token_hex(3)}"
    trained.library.info.update({"version": version, "text_recipe": run.text_recipe})
    library_training.save(trained, library_model_dir(run.lib), version)
    with run.lib.catalog.writer() as session:
        session.merge(
            Setting(
                key=MODEL_SETTING,
                value={
                    "version": version,
                    "model_id": run.training.model_id,
                    "known": len(run.known),
                    "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "heldout": trained.heldout,
                },
            )
        )
    return trained


def library_model_dir(lib: Library) -> Path:
    """Where the trained library model and fusion are kept, beside the catalog."""
    return lib.side_dir("library-model")


def needs_training(
    lib: Library, known: Sequence[PhotoPoint], *, five_crop: bool = False, text_recipe: str = ""
) -> bool:
    """True without a trained model, when it was trained on embeddings of the other recipe (single
    centre crop vs five-crop), without the text evidence ``text_recipe`` that this run reads, or when
    enough geotagged photos came or went since training."""
    from geotagger.locate.embed import is_five_crop

    try:
        model = library_training.load(library_model_dir(lib)).library
    except ModelError:
        return True
    if is_five_crop(model.model_id) != five_crop:
        return True
    if text_recipe and model.info.get("text_recipe") != text_recipe:
        return True
    trained = set(model.info.get("known_ids", model.ids.tolist()))  # as library_training.load_ids
    current = {p.id for p in known}
    changed = len(current ^ trained)
    return changed >= max(RETRAIN_MIN_CHANGED, RETRAIN_MIN_SHARE * max(len(trained), 1))
