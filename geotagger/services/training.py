"""Training the library model (heads + neighbours) and the fusion on the library's own geotagged photos,
and deciding when enough has changed to train again; ``locate`` calls it on its own when needed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from geotagger.catalog.schema import Setting
from geotagger.errors import ModelError, UserInputError
from geotagger.locate import library_training
from geotagger.locate.time_evidence import PhotoPoint
from geotagger.progress import CancelToken, Progress
from geotagger.services.library import Library
from geotagger.services.locate_catalog import known_digest, known_points, photo_point, target_photos

MODEL_SETTING = "library_model"
RETRAIN_MIN_CHANGED = 10  # new/removed geotagged photos before an automatic retrain ...
RETRAIN_MIN_SHARE = 0.05  # ... and at least this share of the trained set


@dataclass
class TrainReport:
    known_photos: int
    embedded: int
    heads: list[dict[str, Any]]  # per level: tau, classes
    heldout: dict[str, Any]  # per source set: held-out accuracy per radius, calibration samples
    version: str
    seconds: float
    device: str | None = None

    def summary(self) -> str:
        heads = (
            ", ".join(f"{h['classes']} classes (tau {h['tau']})" for h in self.heads)
            or "none (neighbours only)"
        )
        return (
            f"library model {self.version}: {self.known_photos} geotagged photos, {self.embedded} embedded; "
            f"heads: {heads}; {self.seconds:.1f} s"
        )


def library_embeddings(
    lib: Library,
    fingerprints: dict[int, str],
    *,
    device: str,
    batch_size: int | None,
    progress: Progress | None,
    cancel: CancelToken | None,
    five_crop: bool = False,
) -> tuple[str, dict[int, np.ndarray], Any]:
    """Embed what the store lacks and return (model id, photo id -> vector, embed summary).

    The model id names the recipe too ("<pack id>+5crop" with five-crop test-time augmentation), so a
    library model is only ever trained and queried with vectors of one recipe."""
    from geotagger.locate.embed import store_model_id
    from geotagger.locate.embedding_store import EmbeddingStore
    from geotagger.services import models

    pack = models.ensure_default_pack(progress=progress)
    summary = models.embed_photos(
        lib,
        pack,
        photo_ids=sorted(fingerprints),
        device=device,
        batch_size=batch_size,
        progress=progress,
        cancel=cancel,
        five_crop=five_crop,
    )
    model_id = store_model_id(pack.id, five_crop)
    store = EmbeddingStore(lib, model_id, digest=pack.digest, dim=pack.embedding_dim)
    vectors = store.get(list(set(fingerprints.values())))
    out = {pid: vectors[fp] for pid, fp in fingerprints.items() if fp in vectors}
    return model_id, out, summary


def global_predictions(
    lib: Library,
    fingerprints: dict[int, str],
    *,
    device: str,
    batch_size: int | None,
    progress: Progress | None,
    cancel: CancelToken | None,
) -> tuple[list[str], dict[int, list[tuple[str, list[Any]]]]]:
    """Top places of every installed global geo pack for the given photos (none installed: empty)."""
    from geotagger.locate.embedding_store import EmbeddingStore
    from geotagger.locate.global_model import GlobalModel
    from geotagger.services import models

    out: dict[int, list[tuple[str, list[Any]]]] = {}
    sources = []
    for gm in GlobalModel.installed():
        models.embed_photos(
            lib,
            gm.pack,
            photo_ids=sorted(fingerprints),
            device=device,
            batch_size=batch_size,
            progress=progress,
            cancel=cancel,
        )
        store = EmbeddingStore(lib, gm.pack.id, digest=gm.pack.digest, dim=gm.pack.embedding_dim)
        ids = sorted(fingerprints)
        matrix, found = store.get_matrix([fingerprints[i] for i in ids])
        rows = [i for i, ok in zip(ids, found, strict=True) if ok]
        if rows:
            ranked = gm.predict(matrix[found])
            for pid, classes in zip(rows, ranked, strict=True):
                out.setdefault(pid, []).append((gm.source, classes))
        sources.append(gm.source)
    return sources, out


def library_model_dir(lib: Library) -> Path:
    """Where the trained library model and fusion are kept, beside the catalog."""
    return lib.side_dir("library-model")


def train_library_model(
    lib: Library,
    *,
    device: str = "auto",
    batch_size: int | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    five_crop: bool = False,
) -> TrainReport:
    """Train the library model (heads + neighbours) and the fusion/calibration on the library's own
    geotagged photos (``five_crop``: on five-crop embeddings, recorded in the model id).
    Raises UserInputError when the library has no geotagged photo at all."""
    started = time.monotonic()
    known, fingerprints = known_points(lib)
    if not known:
        raise UserInputError(
            "the library has no geotagged photos to learn from: place a few photos by hand "
            "(geotagger accept PHOTO --lat X --lon Y) or import a global model (geotagger models import-semp PATH)"
        )
    model_id, vectors, summary = library_embeddings(
        lib,
        fingerprints,
        device=device,
        batch_size=batch_size,
        progress=progress,
        cancel=cancel,
        five_crop=five_crop,
    )
    targets = [photo_point(p) for p in target_photos(lib, None)]
    _, global_preds = global_predictions(
        lib, fingerprints, device=device, batch_size=batch_size, progress=progress, cancel=cancel
    )
    trained = library_training.train(
        known, vectors, model_id, progress=progress, cancel=cancel, targets=targets, global_preds=global_preds
    )
    version = f"{known_digest(known)}-{int(time.time())}"
    trained.library.info.update({"version": version})
    library_training.save(trained, library_model_dir(lib), version)
    with lib.catalog.writer() as session:
        session.merge(
            Setting(
                key=MODEL_SETTING,
                value={
                    "version": version,
                    "model_id": model_id,
                    "known": len(known),
                    "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "heldout": trained.heldout,
                },
            )
        )
    return TrainReport(
        known_photos=len(known),
        embedded=len(vectors),
        heads=[{"tau": lv.tau, "classes": len(lv.class_names)} for lv in trained.library.levels],
        heldout=trained.heldout,
        version=version,
        seconds=time.monotonic() - started,
        device=getattr(summary, "device", None),
    )


def needs_training(lib: Library, known: Sequence[PhotoPoint], *, five_crop: bool = False) -> bool:
    """True without a trained model, when it was trained on embeddings of the other recipe (single
    centre crop vs five-crop) or when enough geotagged photos came or went since training."""
    from geotagger.locate.embed import is_five_crop

    try:
        model = library_training.load(library_model_dir(lib)).library
    except ModelError:
        return True
    if is_five_crop(model.model_id) != five_crop:
        return True
    trained = set(model.info.get("known_ids", model.ids.tolist()))  # as library_training.load_ids
    current = {p.id for p in known}
    changed = len(current ^ trained)
    return changed >= max(RETRAIN_MIN_CHANGED, RETRAIN_MIN_SHARE * max(len(trained), 1))
