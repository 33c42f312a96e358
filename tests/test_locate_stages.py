"""The locate pipeline's stages (geotagger.services.locate_stages): one training path, and the seams the
clock and text sources plug into (``run.points`` is what evidence reads; a rerun recomputes nothing)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from geotagger.catalog.schema import Setting
from geotagger.services import Library, indexing, locating, training
from geotagger.services.locate_stages import embeddings, evidence, fusion, library_model, store, targets
from geotagger.services.locate_stages.run import LocateRun
from tests.model_fixtures import lite0_pack_dir
from tests.test_locate_cli import TRIPS, make_library

DAY_S = 86400.0


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (a1, o1), (a2, o2) = (map(math.radians, a), map(math.radians, b))
    h = math.sin((a2 - a1) / 2) ** 2 + math.cos(a1) * math.cos(a2) * math.sin((o2 - o1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _best(lib: Library) -> dict[str, tuple[float, float, float, str]]:
    return {r["file"]: (r["lat"], r["lon"], r["confidence"], r["level"]) for r in locating.suggestions(lib)}


@pytest.fixture
def indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Library]:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))
    make_library(tmp_path / "photos")
    lib = Library(tmp_path / "cat.sqlite")
    indexing.index(lib, [tmp_path / "photos"], workers=0)
    yield lib
    lib.close()


def test_locate_trains_on_its_own_through_the_same_path_as_models_train(indexed: Library) -> None:
    first = locating.locate(indexed, sources=["time", "library"])
    assert first.retrained and first.located == 10 and first.model_version
    with indexed.catalog.reader() as session:
        setting = session.get(Setting, library_model.MODEL_SETTING)
        assert setting is not None and setting.value["known"] == 10
        assert setting.value["version"] == first.model_version
    automatic = _best(indexed)

    report = training.train_library_model(indexed)
    assert report.known_photos == 10 and report.embedded == 10 and report.version != first.model_version
    again = locating.locate(indexed, sources=["time", "library"])
    assert not again.retrained and again.located == 10  # a new model version: every key changed
    assert _best(indexed) == automatic  # trained the same way, so the same suggestions

    rerun = locating.locate(indexed, sources=["time", "library"])
    assert rerun.located == 0 and rerun.unchanged == 10


def test_evidence_reads_the_points_a_clock_stage_may_rewrite(indexed: Library) -> None:
    """Shifting one photo's point by the ten days between the trips (and into that trip's folder: another
    folder's photos are weak evidence on their own) moves its suggestion to the other trip; the photos left
    alone keep theirs (what a clock stage relies on)."""
    run = LocateRun(indexed, sources=("time",), use_tracks=False)
    targets.select_targets(run)
    targets.load_known(run)
    library_model.check(run)
    embeddings.embed(run)
    library_model.prepare(run)
    store.find_changed(run)
    assert set(run.keys) == set(run.points) and len(run.points) == 10
    paris = next(p for p in run.points.values() if "/paris/" in p.path)
    rome_folder = next(p.folder for p in run.points.values() if "/rome/" in p.path)
    run.points[paris.id] = dataclasses.replace(paris, local_s=paris.local_s + 10 * DAY_S, folder=rome_folder)
    evidence.collect(run)
    fusion.rank(run)
    rome = TRIPS["rome"][:2]
    for photo_id, (_key, candidates) in run.results.items():
        expected = (
            rome if photo_id == paris.id or "/rome/" in run.points[photo_id].path else TRIPS["paris"][:2]
        )
        assert _km((candidates[0].lat, candidates[0].lon), expected) < 5, run.points[photo_id].path


def test_suggestion_key_changes_with_what_the_suggestion_rests_on(indexed: Library) -> None:
    locating.locate(indexed, sources=["time"])
    run = LocateRun(indexed, sources=("time",), use_tracks=False)
    targets.select_targets(run)
    targets.load_known(run)
    library_model.prepare(run)
    store.find_changed(run)
    assert run.keys == {} and run.report.unchanged == 10  # what locate stored is current
    other = LocateRun(indexed, sources=("time", "library"), use_tracks=False)
    targets.select_targets(other)
    targets.load_known(other)
    library_model.prepare(other)
    store.find_changed(other)
    assert set(other.keys) == set(other.points)  # another source set: every photo is stale


def test_a_model_saved_by_an_older_feature_set_is_retrained_not_an_error(indexed: Library) -> None:
    """After an upgrade that changes the fusion features, `locate` retrains on its own instead of failing."""
    first = locating.locate(indexed, sources=["time", "library"])
    assert first.retrained
    saved = library_model.library_model_dir(indexed) / "fusion.json"
    data = json.loads(saved.read_text())
    for fusion_model in data["fusions"].values():
        fusion_model["features"] = fusion_model["features"][:-1]  # as written by an older release
    saved.write_text(json.dumps(data))
    again = locating.locate(indexed, sources=["time", "library"])
    assert again.retrained and again.located == 10 and again.model_version != first.model_version
    assert not locating.locate(indexed, sources=["time", "library"]).retrained
