"""Fusion and calibration on a synthetic library: trips in several cities, every second photo geotagged."""

from __future__ import annotations

import numpy as np
import pytest

from geotagger.locate.calibration import (
    LEVEL_RADIUS_KM,
    RADII_KM,
    Calibrator,
    choose_level,
    isotonic_apply,
    isotonic_fit,
    reliability_table,
)
from geotagger.locate.fusion import MAX_CANDIDATES, MERGE_KM, EvidenceContext, FusionModel, train_fusion
from geotagger.locate.library_model import LibraryModel, normalise
from geotagger.locate.time_evidence import PhotoPoint, haversine_km

CITIES = [(48.85, 2.35), (41.9, 12.5), (40.4, -3.7), (52.5, 13.4), (59.3, 18.1), (38.7, -9.1)]


def synthetic_library(seed: int = 0, per_trip: int = 24):
    """Points (query ones without coordinates), their truths and embeddings."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(len(CITIES), 32))
    points, truth, emb = [], {}, {}
    pid = 0
    for trip, (clat, clon) in enumerate(CITIES):
        start = trip * 30 * 86400.0
        for k in range(per_trip):
            pid += 1
            lat = clat + rng.normal(0, 0.003)
            lon = clon + rng.normal(0, 0.003)
            t = start + k * 600.0 + rng.uniform(0, 120)
            known = k % 2 == 0
            points.append(
                PhotoPoint(
                    pid,
                    f"/lib/trip{trip}/IMG_{pid:04d}.jpg",
                    f"/lib/trip{trip}",
                    t,
                    None,
                    "cam|x|1",
                    lat if known else None,
                    lon if known else None,
                )
            )
            truth[pid] = (lat, lon)
            emb[pid] = centers[trip] + rng.normal(0, 0.8, 32)
    return points, truth, emb


def _train(points, truth, emb, sources=("time", "library")):
    known = [p for p in points if p.lat is not None]
    library = LibraryModel(
        "test",
        np.array([p.id for p in known]),
        normalise(np.stack([emb[p.id] for p in known])),
        np.array([p.lat for p in known]),
        np.array([p.lon for p in known]),
    )
    ctx = EvidenceContext(known, library)
    pools = [ctx.pool(p, emb[p.id], exclude_self=True, sources=sources) for p in known]
    model = train_fusion(pools, [truth[p.id] for p in known], sources)
    return ctx, model


def test_fused_candidates_are_right_ranked_distinct_and_explained() -> None:
    points, truth, emb = synthetic_library()
    ctx, model = _train(points, truth, emb)
    queries = [p for p in points if p.lat is None]
    hits = 0
    for q in queries:
        cands = model.candidates(ctx.pool(q, emb[q.id]))
        assert 1 <= len(cands) <= MAX_CANDIDATES
        best = cands[0]
        hits += float(haversine_km(best.lat, best.lon, *truth[q.id])) <= 1.0
        assert best.level in LEVEL_RADIUS_KM and best.radius_km == LEVEL_RADIUS_KM[best.level]
        assert 0.0 <= best.confidence <= 1.0
        for i, a in enumerate(cands):
            for b in cands[i + 1 :]:
                assert float(haversine_km(a.lat, a.lon, b.lat, b.lon)) >= MERGE_KM
        if best.source == "time":
            assert {"neighbour", "neighbour_id", "gap_s", "direction"} <= set(best.evidence)
            assert best.evidence["text"].startswith(("taken ", "between "))
    assert hits / len(queries) > 0.9


def test_confidence_is_calibrated_on_held_out_known_photos() -> None:
    points, truth, emb = synthetic_library(seed=1)
    ctx, model = _train(points, truth, emb)
    assert model.calibrator.samples == sum(p.lat is not None for p in points)
    report = model.report["heldout_accuracy"]
    assert report["2500"] >= report["1"] and 0.0 <= report["1"] <= 1.0
    # Confident answers are right; the model round-trips through JSON unchanged.
    again = FusionModel.from_dict(model.to_dict())
    for q in [p for p in points if p.lat is None][:10]:
        pool = ctx.pool(q, emb[q.id])
        a, b = model.candidates(pool), again.candidates(pool)
        assert [(c.lat, c.confidence) for c in a] == [(c.lat, c.confidence) for c in b]


def test_time_alone_and_library_alone() -> None:
    points, truth, emb = synthetic_library(seed=2)
    q = next(p for p in points if p.lat is None)
    ctx, model = _train(points, truth, emb, sources=("time",))
    cands = model.candidates(ctx.pool(q, emb[q.id], sources=("time",)))
    assert cands and all(c.source == "time" for c in cands)
    ctx, model = _train(points, truth, emb, sources=("library",))
    cands = model.candidates(ctx.pool(q, emb[q.id], sources=("library",)))
    assert cands and all(c.source == "library" for c in cands)
    # the visual neighbours are from the same trip: within 25 km
    assert float(haversine_km(cands[0].lat, cands[0].lon, *truth[q.id])) < 25


def test_photo_without_time_or_embedding_has_no_pool() -> None:
    points, truth, emb = synthetic_library()
    ctx, _ = _train(points, truth, emb)
    untimed = PhotoPoint(999, "/elsewhere/x.jpg", "/elsewhere", None, None, None)
    assert ctx.pool(untimed, None) == []


def test_isotonic_fit_is_monotone_and_smoothed() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=400)
    hits = (rng.uniform(size=400) < scores).astype(float)
    kx, ky = isotonic_fit(scores, hits)
    assert np.all(np.diff(ky) >= 0)
    assert isotonic_apply(kx, ky, np.array([0.05]))[0] < isotonic_apply(kx, ky, np.array([0.95]))[0]
    # a block of 3 hits out of 3 does not claim certainty
    kx, ky = isotonic_fit(np.array([0.1, 0.2, 0.3]), np.array([1.0, 1.0, 1.0]))
    assert ky.max() == pytest.approx(4 / 5)


def test_calibrator_caps_when_too_few_samples_and_is_monotone_in_radius() -> None:
    raw = np.array([[0.99, 0.5, 0.99, 0.99, 0.99]])
    few = Calibrator.fit(raw, np.ones_like(raw))
    out = few.apply(raw)[0]
    assert out.max() <= 0.75 and np.all(np.diff(out) >= 0)
    level, conf = choose_level(np.array([0.3, 0.65, 0.8, 0.9, 0.95]))
    assert (level, conf) == ("city", 0.65)
    assert choose_level(np.array([0.1, 0.1, 0.1, 0.2, 0.3]))[0] == "country"
    assert len(RADII_KM) == 5


def test_reliability_table_counts_every_suggestion_once() -> None:
    conf = np.array([0.1, 0.55, 0.75, 0.85, 0.92, 0.97, 1.0])
    rows = reliability_table(conf, np.ones_like(conf))
    assert sum(r["n"] for r in rows) == len(conf)


def test_shift_weights_favour_known_photos_that_look_like_the_targets() -> None:
    from geotagger.locate.fusion import shift_weights

    known = [60.0] * 10 + [5 * 86400.0] * 30 + [None] * 2
    targets = [60.0] * 30 + [5 * 86400.0] * 5
    w = shift_weights(known, targets)
    assert w.mean() == pytest.approx(1.0)
    assert w[0] > 1.0 > w[20] and np.all((w > 0) & np.isfinite(w))
    assert shift_weights(known, []).tolist() == [1.0] * len(known)


def test_time_rule_goes_first_within_the_learned_gate() -> None:
    from geotagger.locate.fusion import rule_choice

    points, truth, emb = synthetic_library(seed=3)
    ctx, model = _train(points, truth, emb)
    assert model.gate_s >= 0.0 and "gate_s" in model.report
    q = next(p for p in points if p.lat is None and p.id > 3)
    pool = ctx.pool(q, emb[q.id])
    index, gap = rule_choice(pool)
    assert pool[index].feats.get("is_interp") or pool[index].feats.get("nearest")
    model.gate_s = float("inf")
    assert model.rank(pool)[0][0] is pool[index]
