"""Stage 3: image embeddings and global-model predictions.

For training (``run.retrain``) the geotagged photos are embedded and given global predictions first;
for locating with the library source, the geotagged photos and the targets together (only what the
store lacks is computed); with every source, the targets get the installed global packs' top places.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from geotagger.locate.fusion import SOURCES
from geotagger.services.locate_stages.run import LocateRun


def embed(run: LocateRun) -> None:
    """Fill ``run.training`` (when retraining) and ``run.vectors`` / ``run.global_preds``."""
    if run.retrain:
        run.training.model_id, run.training.vectors, summary = library_embeddings(run, run.known_fps)
        run.training.device = getattr(summary, "device", None)
        _, run.training.global_preds = global_predictions(run, run.known_fps)
    if not run.fuses:
        return
    if "library" in run.sources:  # time evidence alone needs no image
        target_fps = {p.id: p.fingerprint for p in run.targets}
        run.model_id, run.vectors, summary = library_embeddings(run, {**run.known_fps, **target_fps})
        run.report.embedded = int(getattr(summary, "computed", 0))
        run.report.device = getattr(summary, "device", None)
        fp_to_path = {p.fingerprint: p.path for p in run.targets}
        for fp, reason in getattr(summary, "errors", {}).items():
            run.report.errors[fp_to_path.get(fp, fp)] = reason
    if set(run.sources) == set(SOURCES):
        run.global_ids, run.global_preds = global_predictions(run, {p.id: p.fingerprint for p in run.targets})


def _embed_photos(run: LocateRun) -> Any:
    """``services.models.embed_photos``, or its drop-in on a Ray cluster (locate --cluster; Ray is
    imported there only, so the default path never needs it)."""
    if run.cluster:
        from geotagger.locate.cluster import cluster_embedder

        return cluster_embedder(run.cluster)
    from geotagger.services import models

    return models.embed_photos


def library_embeddings(
    run: LocateRun, fingerprints: dict[int, str]
) -> tuple[str, dict[int, np.ndarray], Any]:
    """Embed what the store lacks and return (model id, photo id -> vector, embed summary).

    The model id names the recipe too ("<pack id>+5crop" with five-crop test-time augmentation), so a
    library model is only ever trained and queried with vectors of one recipe."""
    from geotagger.locate.embed import store_model_id
    from geotagger.locate.embedding_store import EmbeddingStore
    from geotagger.services import models

    pack = models.ensure_default_pack(progress=run.progress)
    summary = _embed_photos(run)(
        run.lib,
        pack,
        photo_ids=sorted(fingerprints),
        device=run.device,
        batch_size=run.batch_size,
        progress=run.progress,
        cancel=run.cancel,
        five_crop=run.five_crop,
    )
    model_id = store_model_id(pack.id, run.five_crop)
    store = EmbeddingStore(run.lib, model_id, digest=pack.digest, dim=pack.embedding_dim)
    vectors = store.get(list(set(fingerprints.values())))
    out = {pid: vectors[fp] for pid, fp in fingerprints.items() if fp in vectors}
    return model_id, out, summary


def global_predictions(
    run: LocateRun, fingerprints: dict[int, str]
) -> tuple[list[str], dict[int, list[tuple[str, list[Any]]]]]:
    """Top places of every installed global geo pack for the given photos (none installed: empty)."""
    from geotagger.locate.embedding_store import EmbeddingStore
    from geotagger.locate.global_model import GlobalModel

    out: dict[int, list[tuple[str, list[Any]]]] = {}
    sources = []
    for gm in GlobalModel.installed():
        _embed_photos(run)(
            run.lib,
            gm.pack,
            photo_ids=sorted(fingerprints),
            device=run.device,
            batch_size=run.batch_size,
            progress=run.progress,
            cancel=run.cancel,
        )
        store = EmbeddingStore(run.lib, gm.pack.id, digest=gm.pack.digest, dim=gm.pack.embedding_dim)
        ids = sorted(fingerprints)
        matrix, found = store.get_matrix([fingerprints[i] for i in ids])
        rows = [i for i, ok in zip(ids, found, strict=True) if ok]
        if rows:
            ranked = gm.predict(matrix[found])
            for pid, classes in zip(rows, ranked, strict=True):
                out.setdefault(pid, []).append((gm.source, classes))
        sources.append(gm.source)
    return sources, out
