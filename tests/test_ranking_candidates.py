"""One ranking: per-candidate calibration, the level rule, the order, no two candidates for one place, and
candidates numbered from 1 wherever a user picks one."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from geotagger.catalog import Suggestion
from geotagger.cli.main import main
from geotagger.locate.calibration import LEVEL_RADIUS_KM, RADII_KM, Calibrator
from geotagger.locate.fusion import FEATURES, FusionModel, PoolItem
from geotagger.locate.levels import expected_hits, pick_level
from geotagger.locate.time_evidence import haversine_km
from geotagger.services import Library, decisions, indexing
from tests.factories import make_jpeg
from tests.test_fusion import _train, synthetic_library


def _flat(value: float) -> Calibrator:
    """A calibrator that maps every raw score to ``value`` at every radius."""
    knots = {f"{r:g}": ([0.0, 1.0], [value, value]) for r in RADII_KM}
    return Calibrator(knots=knots, samples=100)


def _per_radius(values: tuple[float, ...]) -> Calibrator:
    knots = {f"{r:g}": ([0.0, 1.0], [v, v]) for r, v in zip(RADII_KM, values, strict=True)}
    return Calibrator(knots=knots, samples=100)


def _model(first: Calibrator, alternatives: Calibrator) -> FusionModel:
    """Raw P = 0.5 for every place; the ranking prefers more visual similarity ("psim")."""
    d = len(FEATURES)
    rank = np.zeros((len(RADII_KM), d))
    rank[:, FEATURES.index("psim")] = 1.0
    return FusionModel(
        ("time", "library"),
        np.zeros(d),
        np.ones(d),
        np.zeros((len(RADII_KM), d)),
        rank,
        first,
        {},
        0.0,
        alternatives,
    )


def _item(lat: float, lon: float, strength: float) -> PoolItem:
    return PoolItem(lat, lon, "library", {"psim": strength}, {"text": f"place {lat:g}, {lon:g}"})


def test_level_rule_finest_sure_level_else_finest_likely_else_country() -> None:
    assert pick_level([0.92, 0.95, 0.97, 0.98, 0.99]) == ("exact", 0.92)
    assert pick_level([0.84, 0.89, 0.95, 0.97, 0.99]) == ("region", 0.95)  # not "exact 84%"
    assert pick_level([0.3, 0.65, 0.8, 0.85, 0.95]) == ("city", 0.65)  # none sure: finest likely
    assert pick_level([0.1, 0.1, 0.2, 0.3, 0.5]) == ("country", 0.3)
    assert expected_hits([0.1, 0.2, 0.3, 0.4, 0.5]) == pytest.approx(1.5)


def test_each_candidate_carries_its_own_calibrated_numbers() -> None:
    # Same raw score everywhere: only the role (choice or alternative) tells the numbers apart.
    model = _model(_flat(0.6), _flat(0.3))
    pool = [_item(48.85, 2.35, 3.0), _item(41.9, 12.5, 2.0), _item(59.3, 18.1, 1.0)]
    cands = model.candidates(pool)
    assert [(c.lat, c.lon) for c in cands] == [(48.85, 2.35), (41.9, 12.5), (59.3, 18.1)]
    assert cands[0].level == "exact" and cands[0].confidence == pytest.approx(0.6)
    for c in cands:
        p = c.evidence["p_within_km"]
        assert c.confidence == pytest.approx(p[f"{LEVEL_RADIUS_KM[c.level]:g}"])
        assert (c.level, c.confidence) == pick_level([p[f"{r:g}"] for r in RADII_KM])
    for c in cands[1:]:
        assert set(c.evidence["p_within_km"].values()) == {0.3}
        assert (c.level, c.confidence) == ("country", pytest.approx(0.3))
    again = FusionModel.from_dict(model.to_dict())  # both calibrations are saved
    assert [c.evidence["p_within_km"] for c in again.candidates(pool)] == [
        c.evidence["p_within_km"] for c in cands
    ]


def test_a_candidate_naming_the_same_place_as_a_better_one_is_dropped() -> None:
    # The choice is sure at city level; alternatives are sure at country level or at the exact spot.
    model = _model(_per_radius((0.5, 0.95, 0.96, 0.97, 0.98)), _per_radius((0.3, 0.4, 0.5, 0.95, 0.96)))
    pool = [
        _item(48.85, 2.35, 5.0),  # the choice: city
        _item(48.90, 2.40, 4.0),  # 7 km away, country level: the choice lies within its radius
        _item(45.76, 4.84, 3.0),  # Lyon, 390 km away: still inside its own 750 km
        _item(40.4, -3.7, 2.0),  # Madrid: another country
    ]
    cands = model.candidates(pool)
    assert [(c.lat, c.lon) for c in cands] == [(48.85, 2.35), (40.4, -3.7)]
    # A finer candidate inside a coarser better one is a refinement and stays.
    model = _model(_per_radius((0.03, 0.4, 0.5, 0.95, 0.96)), _per_radius((0.95, 0.96, 0.97, 0.98, 0.99)))
    cands = model.candidates(pool[:2])
    assert [(c.level, c.lat) for c in cands] == [("country", 48.85), ("exact", 48.90)]


def test_trained_candidates_follow_the_stated_order_and_never_repeat_a_place() -> None:
    points, truth, emb = synthetic_library(seed=3)
    ctx, model = _train(points, truth, emb)
    assert model.alt_calibrator.samples > 0 and model.report["alternatives"] > 0
    checked = 0
    for q in [p for p in points if p.lat is None]:
        pool = ctx.pool(q, emb[q.id])
        cands = model.candidates(pool)
        choice = model.rank(pool, limit=1)[0][0]
        assert (cands[0].lat, cands[0].lon) == (choice.lat, choice.lon)  # the fusion's choice first
        hits = [expected_hits(list(c.evidence["p_within_km"].values())) for c in cands]
        assert hits[1:] == sorted(hits[1:], reverse=True)  # then by calibrated expected radii hit
        for i, later in enumerate(cands):
            p = [later.evidence["p_within_km"][f"{r:g}"] for r in RADII_KM]
            assert (later.level, later.confidence) == pick_level(p)
            for better in cands[:i]:
                d = float(haversine_km(later.lat, later.lon, better.lat, better.lon))
                assert d > later.radius_km, "two candidates name the same place"
        checked += len(cands) > 1
    assert checked > 0


@pytest.fixture
def suggested(library: Library, tmp_path: Path) -> int:
    folder = tmp_path / "photos"
    make_jpeg(folder / "plain.jpg")
    indexing.index(library, [folder], workers=0)
    photo_id = indexing.list_photos(library)[0]["id"]
    with library.catalog.writer() as session:
        for rank, (lat, lon, level, confidence, source) in enumerate(
            [(48.8566, 2.3522, "city", 0.92, "time"), (45.764, 4.8357, "region", 0.4, "library")]
        ):
            session.add(
                Suggestion(
                    photo_id=photo_id,
                    rank=rank,
                    source=source,
                    lat=lat,
                    lon=lon,
                    radius_km=LEVEL_RADIUS_KM[level],
                    level=level,
                    confidence=confidence,
                    address={},
                    evidence={},
                    created_at=datetime(2024, 1, 1),
                )
            )
    return photo_id


def test_cli_numbers_candidates_from_one(library: Library, suggested: int, capsys) -> None:
    argv = ["--library", str(library.catalog.path)]
    assert main([*argv, "suggestions", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["candidate"] == 1 and [a["candidate"] for a in row["alternatives"]] == [2]
    assert main([*argv, "accept", str(suggested), "--candidate", "0"]) == 1
    assert "numbered from 1 (1 = best)" in capsys.readouterr().err
    assert main([*argv, "accept", str(suggested), "--candidate", "3"]) == 1
    assert "candidate 3 is none" in capsys.readouterr().err
    assert main([*argv, "accept", str(suggested), "--candidate", "2"]) == 0
    assert "from library" in capsys.readouterr().out  # 2 = the second listed, the library's
    assert decisions.resolve_photo(library, suggested).review_state == "accepted"
    assert main([*argv, "accept", str(suggested), "--candidate", "1"]) == 0
    assert "from time" in capsys.readouterr().out


def test_a_class_candidate_line_shows_no_number_that_is_not_its_own() -> None:
    # A global model's places share one class_probs list; its first entry is not the other places' figure.
    model = _model(_flat(0.6), _flat(0.3))
    shared = [["Paris, France", 0.98], ["Rome, Italy", 0.01]]
    pool = [
        PoolItem(48.85, 2.35, "model:semp", {"psim": 2.0}, {"class_probs": shared, "class": "Paris, France"}),
        PoolItem(41.9, 12.5, "model:semp", {"psim": 1.0}, {"class_probs": shared, "class": "Rome, Italy"}),
    ]
    first, second = model.candidates(pool)
    assert "Rome, Italy" in second.evidence["text"] and "%" not in second.evidence["text"]
    assert "98" not in second.evidence["text"] and second.confidence == pytest.approx(0.3)
    assert first.evidence["text"] == "the global model semp recognises Paris, France"


def test_an_alternative_far_from_a_likely_choice_claims_no_more_than_the_choice_leaves() -> None:
    # The choice is 95% sure within 200 km and 97% within 750 km of Paris; Rome is 1100 km away, so
    # Rome within 1 km needs Paris wrong within 750 km (3%), Rome within 750 km needs it wrong within
    # 200 km (5%); within 2500 km nothing is excluded.
    model = _model(_per_radius((0.5, 0.8, 0.95, 0.97, 0.99)), _flat(0.6))
    choice, rome = model.candidates([_item(48.85, 2.35, 2.0), _item(41.9, 12.5, 1.0)])
    p = [rome.evidence["p_within_km"][f"{r:g}"] for r in RADII_KM]
    assert p == pytest.approx([0.03, 0.03, 0.03, 0.05, 0.6])
    assert (rome.level, rome.confidence) == ("country", pytest.approx(0.05))
    assert choice.evidence["p_within_km"]["200"] == pytest.approx(0.95)  # the choice is not bounded
