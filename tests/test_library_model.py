"""The library model: neighbours, heads, persistence, and training on a library's own photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from geotagger.errors import ModelError
from geotagger.locate import library_training
from geotagger.locate.library_model import Level, LibraryModel, normalise, softmax, train_heads
from tests.test_fusion import synthetic_library


def _model(n: int = 30, dim: int = 16, seed: int = 0) -> LibraryModel:
    rng = np.random.default_rng(seed)
    return LibraryModel(
        "m",
        np.arange(100, 100 + n),
        normalise(rng.normal(size=(n, dim))),
        rng.uniform(-60, 60, n),
        rng.uniform(-170, 170, n),
    )


def test_neighbours_are_sorted_exclude_self_and_respect_a_subset() -> None:
    model = _model()
    query = model.emb[3] * 2.0  # scale must not matter (cosine)
    rows, sims = model.neighbours(query, k=5)
    assert rows[0] == 3 and sims[0] == pytest.approx(1.0, abs=1e-5)
    assert np.all(np.diff(sims) <= 1e-7)
    rows, _ = model.neighbours(query, k=5, exclude_id=103)
    assert 3 not in rows.tolist() and len(rows) == 5
    rows, _ = model.neighbours(query, k=10, rows=np.array([1, 2, 3]), exclude_id=103)
    assert sorted(rows.tolist()) == [1, 2]


def test_heads_learn_separable_classes() -> None:
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(4, 24))
    y = rng.integers(0, 4, 200)
    x = centers[y] + rng.normal(0, 0.3, (200, 24))
    labels = np.stack([y // 2, y], axis=1)
    labels[:5, 1] = -1  # unassigned at the fine level: ignored there
    heads = train_heads(x, labels, [2, 4])
    for (w, b), truth in zip(heads, (y // 2, y), strict=True):
        assert (softmax(normalise(x) @ w + b).argmax(axis=1) == truth).mean() > 0.95


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = _model()
    level = Level(
        "tau5",
        ["A", "B"],
        np.array([1.0, 2.0]),
        np.array([3.0, 4.0]),
        np.zeros((16, 2), np.float32),
        np.zeros(2, np.float32),
        tau=5,
    )
    model.levels, model.labels, model.hierarchy = [level], np.zeros((30, 1), int), np.array([[0], [1]])
    model.save(tmp_path)
    back = LibraryModel.load(tmp_path)
    assert back.model_id == "m" and back.ids.tolist() == model.ids.tolist()
    assert np.allclose(back.emb, model.emb, atol=1e-3)  # stored as float16
    assert back.levels[0].class_names == ["A", "B"] and back.levels[0].tau == 5 and back.has_heads
    assert back.levels[0].nearest_class(2.0, 4.0) == 1
    with pytest.raises(ModelError):
        LibraryModel.load(tmp_path / "nothing-here")


def test_training_builds_heads_fusions_and_reloads(tmp_path: Path) -> None:
    points, truth, emb = synthetic_library(per_trip=20)
    known = [p for p in points if p.lat is not None]
    trained = library_training.train(known, emb, "m", source_sets=[("time", "library"), ("library",)])
    assert trained.library.has_heads and trained.library.labels is not None
    assert len(trained.library.levels) >= 1 and set(trained.fusions) == {"time+library", "library"}
    library_training.save(trained, tmp_path, "v1")
    again = library_training.load(tmp_path)
    assert again.version == "v1" and library_training.load_ids(tmp_path) == {p.id for p in known}
    with pytest.raises(ModelError):
        again.fusion_for(["time"])
    # A photo geotagged after training is a neighbour at once (labelled by its nearest class).
    library = again.library_with(known, emb, "m")
    assert library.size == len(known) and library.labels is not None
    q = next(p for p in points if p.lat is None)
    from geotagger.locate.fusion import EvidenceContext

    cands = again.fusion_for(["time", "library"]).candidates(
        EvidenceContext(known, library).pool(q, emb[q.id])
    )
    assert cands and cands[0].confidence > 0


def test_signs_train_a_twin_and_leave_the_plain_fusion_as_without_them() -> None:
    """Text read on some known photos trains a separate "+text" fusion; the plain one (which ranks every
    photo without a sign) is exactly the model trained without any text."""
    from geotagger.locate.text_evidence.matcher import TextMatch
    from geotagger.locate.text_evidence.pool import PhotoMatches

    points, _truth, emb = synthetic_library(per_trip=20)
    known = [p for p in points if p.lat is not None]
    signs = {
        p.id: PhotoMatches(
            (640, 480),
            (
                TextMatch(
                    1,
                    "Somewhere",
                    "city",
                    p.lat + 0.01,
                    p.lon,
                    "SOMEWHERE",
                    0.9,
                    (0, 0, 9, 9),
                    1.0,
                    1.0,
                    1,
                    0.8,
                    50_000,
                ),
            ),
        )
        for p in known[::4]
    }
    sets = [("time", "library")]
    plain = library_training.train(known, emb, "m", source_sets=sets)
    with_signs = library_training.train(known, emb, "m", source_sets=sets, texts=signs)
    assert set(plain.fusions) == {"time+library"} and plain.text_fusion_for(sets[0]) is None
    assert set(with_signs.fusions) == {"time+library", "time+library+text"}
    assert with_signs.fusion_for(sets[0]).to_dict() == plain.fusion_for(sets[0]).to_dict()
    assert with_signs.text_fusion_for(sets[0]).to_dict() != plain.fusion_for(sets[0]).to_dict()


def test_tiny_library_uses_neighbours_only() -> None:
    points, truth, emb = synthetic_library(per_trip=4)
    known = [p for p in points if p.lat is not None]
    trained = library_training.train(known, emb, "m", source_sets=[("time", "library")])
    assert not trained.library.levels and trained.library.size == len(known)


class _FakeGeoPack:
    """Just what GlobalModel reads from a geo pack: heads, partitionings, id."""

    id = "fake-semp"
    is_geo = True

    def __init__(self) -> None:
        from geotagger.geo.semp import Partitioning, PartitioningSet, PlaceClass, hierarchy_matrix

        coarse = [
            PlaceClass(0, "FR", ["France"], "country", 46.5, 2.5, 10, "FR"),
            PlaceClass(1, "IT", ["Italy"], "country", 42.8, 12.5, 10, "IT"),
        ]
        fine = [
            PlaceClass(0, "FR/paris", ["France", "Paris"], "locality", 48.85, 2.35, 5, "FR", parent=0),
            PlaceClass(1, "IT/rome", ["Italy", "Rome"], "locality", 41.9, 12.5, 5, "IT", parent=1),
        ]
        parts = [Partitioning(100, coarse), Partitioning(10, fine)]
        self._json = json.loads(PartitioningSet(parts, hierarchy_matrix(parts)).to_json())
        eye = np.eye(2, 8, dtype=np.float32) * 8.0
        self._heads = [(eye, np.zeros(2, np.float32)), (eye, np.zeros(2, np.float32))]

    def heads(self):
        return self._heads

    def partitionings_json(self):
        return self._json


def test_global_model_ranks_places_hierarchically_and_joins_the_pool() -> None:
    from geotagger.locate.fusion import EvidenceContext
    from geotagger.locate.global_model import GlobalModel
    from geotagger.locate.time_evidence import PhotoPoint

    gm = GlobalModel(_FakeGeoPack())
    emb = np.zeros((2, 8), np.float32)
    emb[0, 1] = 1.0  # looks like class 1 (Rome)
    emb[1, 0] = 1.0  # Paris
    ranked = gm.predict(emb)
    assert ranked[0][0].display == "Rome, Italy" and ranked[1][0].display == "Paris, France"
    assert ranked[0][0].score > ranked[0][1].score
    known = [PhotoPoint(1, "/a/1.jpg", "/a", 0.0, None, None, 45.0, 7.0)]
    query = PhotoPoint(2, "/a/2.jpg", "/a", 60.0, None, None)
    pool = EvidenceContext(known).pool(query, None, global_classes=[(gm.source, ranked[0])])
    globals_ = [it for it in pool if it.source == "model:fake-semp"]
    assert len(globals_) == 2 and globals_[0].feats["global_p"] > globals_[1].feats["global_p"]
    assert globals_[0].evidence["class"] == "Rome, Italy"


def test_library_with_two_geotagged_photos_still_gets_honest_suggestions() -> None:
    from geotagger.locate.fusion import EvidenceContext

    points, truth, emb = synthetic_library(per_trip=4)
    known = [p for p in points if p.lat is not None][:2]
    trained = library_training.train(known, emb, "m", source_sets=[("time", "library")])
    fusion = trained.fusion_for(["time", "library"])
    assert fusion.report["untrained"]
    q = next(p for p in points if p.lat is None)
    cands = fusion.candidates(EvidenceContext(known, trained.library).pool(q, emb[q.id]))
    assert cands[0].source == "time"  # the time rule goes first
    # minutes from a geotagged photo of the same trip: the measured prior for that gap says "exact"
    from geotagger.locate.time_priors import prior

    gap = cands[0].evidence["gap_s"]
    assert gap < 600
    assert cands[0].level == "exact" and cands[0].confidence == pytest.approx(
        prior("same_clock", gap)[0][0], abs=1e-3
    )
    assert all(c.confidence < cands[0].confidence for c in cands[1:])
