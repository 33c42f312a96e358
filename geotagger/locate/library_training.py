"""Training the library model and the fusion on the library's own geotagged photos.

Steps: (1) the neighbour store (embeddings + coordinates of every geotagged photo); (2) with enough photos,
SemP partitionings of their reverse-geocoded addresses (thresholds suited to the library's size) and one
linear head per level; heads are also trained k-fold so each photo gets class probabilities from heads that
never saw it; (3) every geotagged photo is located from the others (leave-one-out pools) to train the
fusion model for each source set, whose out-of-fold scores calibrate the confidences. All of it is saved
next to the catalog and reloaded by ``locate``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geotagger.errors import ModelError
from geotagger.locate.fusion import SOURCES, EvidenceContext, FusionModel, shift_weights, train_fusion
from geotagger.locate.library_model import MIN_PHOTOS_FOR_HEADS, Level, LibraryModel, normalise, train_heads
from geotagger.locate.time_evidence import PhotoPoint
from geotagger.progress import CancelToken, Progress

SOURCE_SETS: tuple[tuple[str, ...], ...] = (("time", "library"), ("time",), ("library",))
# A fusion trained with the place names read on signs is kept apart from its twin trained without them
# ("time+library" and "time+library+text"): a photo with no sign is ranked by the model that never saw
# text, exactly as without OCR; only a photo with a text candidate uses the text model. One model for
# both let the rare text features move the shared weights: on library-dev's `days` variant 25 photos
# without any text changed their first choice (-0.7/+1.2/-1.4/-1.2/-0.5 points at 1/25/200/750/2500 km).
TEXT_KEY = "+text"
HEAD_FOLDS = 3
FUSION_FILE = "fusion.json"


def sources_key(sources: Sequence[str]) -> str:
    return "+".join(s for s in SOURCES if s in sources)


@dataclass
class Trained:
    library: LibraryModel
    fusions: dict[str, FusionModel]
    version: str = ""
    heldout: dict[str, Any] = field(default_factory=dict)

    def fusion_for(self, sources: Sequence[str]) -> FusionModel:
        key = sources_key(sources)
        if key not in self.fusions:
            raise ModelError(f"the library model has no fusion for {key}; run `geotagger models train`")
        return self.fusions[key]

    def text_fusion_for(self, sources: Sequence[str]) -> FusionModel | None:
        """The twin trained with signs read on the known photos; None when none of them had one."""
        return self.fusions.get(sources_key(sources) + TEXT_KEY)

    def library_with(
        self, known: Sequence[PhotoPoint], vectors: dict[int, np.ndarray], model_id: str
    ) -> LibraryModel:
        """The trained heads over a neighbour store of *today's* geotagged photos (new GPS photos count
        as neighbours right away; the heads wait for the next retraining)."""
        rows = [p for p in known if p.id in vectors]
        ids = np.array([p.id for p in rows], dtype=np.int64)
        emb = normalise(np.stack([vectors[p.id] for p in rows])) if rows else np.zeros((0, 1), np.float32)
        old_labels = self.library.labels
        labels = None
        if old_labels is not None and self.library.levels:
            labels = np.full((len(rows), len(self.library.levels)), -1, dtype=np.int64)
            for r, p in enumerate(rows):
                old = self.library.row_of(p.id)
                if old is not None:
                    labels[r] = old_labels[old]
                else:
                    assert p.lat is not None and p.lon is not None
                    labels[r] = [lv.nearest_class(p.lat, p.lon) for lv in self.library.levels]
        return LibraryModel(
            model_id if model_id == self.library.model_id else model_id,
            ids,
            emb,
            np.array([p.lat for p in rows], dtype=float),
            np.array([p.lon for p in rows], dtype=float),
            self.library.levels if model_id == self.library.model_id else [],
            dict(self.library.info),
            labels if model_id == self.library.model_id else None,
            self.library.hierarchy if model_id == self.library.model_id else None,
        )


def _partitionings(known: Sequence[PhotoPoint]) -> Any:
    from geotagger.geo.geocoder import ReverseGeocoder
    from geotagger.geo.semp import build_partitionings, suggest_thresholds

    lats = [p.lat for p in known]
    lons = [p.lon for p in known]
    addresses = ReverseGeocoder.default().lookup_many(lats, lons)
    taus = suggest_thresholds(len(known))
    return build_partitionings(addresses, lats, lons, taus=taus)


def _levels_from(pset: Any) -> tuple[list[Level], np.ndarray]:
    levels = []
    for part in pset.partitionings:
        coords = part.class_coordinates()
        levels.append(
            Level(
                name=f"tau{part.tau}",
                class_names=[c.display for c in part.classes],
                class_lat=coords[:, 0].copy(),
                class_lon=coords[:, 1].copy(),
                tau=int(part.tau),
            )
        )
    return levels, np.asarray(pset.labels, dtype=np.int64)


def train(
    known: Sequence[PhotoPoint],
    vectors: dict[int, np.ndarray],
    model_id: str,
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    source_sets: Sequence[Sequence[str]] = SOURCE_SETS,
    targets: Sequence[PhotoPoint] = (),
    global_preds: dict[int, list[tuple[str, list[Any]]]] | None = None,
    texts: dict[int, Any] | None = None,
) -> Trained:
    """Train everything from the geotagged photos ``known`` and their embeddings ``vectors``;
    ``targets`` (the photos to locate) steer the covariate-shift weights (fusion.shift_weights);
    ``texts``: place names read on the known photos (text_evidence.pool.PhotoMatches), so the fusion
    learns what a sign is worth in this library."""
    embedded = [p for p in known if p.id in vectors]
    ids = np.array([p.id for p in embedded], dtype=np.int64)
    emb = normalise(np.stack([vectors[p.id] for p in embedded])) if embedded else np.zeros((0, 1), np.float32)
    library = LibraryModel(
        model_id,
        ids,
        emb,
        np.array([p.lat for p in embedded], dtype=float),
        np.array([p.lon for p in embedded], dtype=float),
    )
    library.info["known_ids"] = [int(p.id) for p in known]
    oof: dict[int, list[np.ndarray]] = {}
    if len(embedded) >= MIN_PHOTOS_FOR_HEADS:
        if progress:
            progress.start(None, "training the library heads")
        pset = _partitionings(embedded)
        levels, labels = _levels_from(pset)
        counts = [len(lv.class_names) for lv in levels]
        if all(c >= 2 for c in counts):
            for (w, b), lv in zip(train_heads(emb, labels, counts), levels, strict=True):
                lv.weight, lv.bias = w, b
            library.levels, library.labels, library.hierarchy = levels, labels, np.asarray(pset.M)
            fold = np.arange(len(embedded)) % HEAD_FOLDS
            for f in range(HEAD_FOLDS):
                if cancel:
                    cancel.check()
                train_rows = fold != f
                heads = train_heads(emb[train_rows], labels[train_rows], counts, seed=f + 1)
                for r in np.flatnonzero(~train_rows):
                    oof[int(ids[r])] = [
                        Level(lv.name, lv.class_names, lv.class_lat, lv.class_lon, w, b).probs(
                            emb[r : r + 1]
                        )[0]
                        for lv, (w, b) in zip(levels, heads, strict=True)
                    ]
    context = EvidenceContext(known, library)
    truths = [(float(p.lat), float(p.lon)) for p in known]  # type: ignore[arg-type]
    fusions: dict[str, FusionModel] = {}
    heldout: dict[str, Any] = {}
    pool_weights = (
        shift_weights(
            [context.nearest_gap(p, exclude_self=True) for p in known],
            [context.nearest_gap(t) for t in targets],
        )
        if targets
        else None
    )
    with_text = [None, texts] if texts else [None]
    if progress:
        progress.start(
            len(with_text) * len(source_sets) * len(known), "calibrating on the library's geotagged photos"
        )
    for sources, text_of in ((s, t) for s in source_sets for t in with_text):
        key = sources_key(sources) + (TEXT_KEY if text_of else "")
        pools = []
        for p in known:
            if cancel:
                cancel.check()
            full = set(sources) == set(SOURCES)
            pools.append(
                context.pool(
                    p,
                    vectors.get(p.id),
                    exclude_self=True,
                    sources=sources,
                    class_probs=oof.get(p.id),
                    global_classes=(global_preds or {}).get(p.id, []) if full else (),
                    text=(text_of or {}).get(p.id),
                )
            )
            if progress:
                progress.advance()
        model = train_fusion(
            pools, truths, sources, cancel_check=cancel.check if cancel else None, pool_weights=pool_weights
        )
        fusions[key] = model
        heldout[key] = model.report
    if progress:
        progress.finish()
    if not fusions:
        raise ModelError(
            "no geotagged photo could be located from the others; add capture times or embeddings"
        )
    return Trained(library, fusions, heldout=heldout)


def save(trained: Trained, folder: Path, version: str) -> None:
    trained.version = version
    trained.library.save(folder)
    data = {"version": version, "fusions": {k: m.to_dict() for k, m in trained.fusions.items()}}
    tmp = folder / (FUSION_FILE + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(folder / FUSION_FILE)


def load(folder: Path) -> Trained:
    library = LibraryModel.load(folder)
    try:
        data = json.loads((folder / FUSION_FILE).read_text())
        fusions = {k: FusionModel.from_dict(v) for k, v in data["fusions"].items()}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(
            f"the fusion model in {folder} cannot be read ({exc}); run `geotagger models train`"
        ) from exc
    heldout = {k: m.report for k, m in fusions.items()}
    return Trained(library, fusions, str(data.get("version", "")), heldout)


def load_ids(folder: Path) -> set[int] | None:
    """Photo ids the saved model was trained on (None when there is no usable saved model)."""
    try:
        trained = load(folder)
    except ModelError:
        return None
    return set(trained.library.info.get("known_ids", trained.library.ids.tolist()))
