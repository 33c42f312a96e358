"""End to end: catalog suggestions -> explain (stored evidence, overlay) -> CLI -> analyse."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from geotagger.catalog.schema import Photo, Suggestion
from geotagger.cli.main import main
from geotagger.errors import UserInputError
from geotagger.paths import models_dir
from geotagger.services import explaining
from tests.explain_tiny import make_pack
from tests.factories import make_jpeg


@pytest.fixture
def setup(library, tmp_path, monkeypatch):
    from sqlalchemy import select

    from geotagger.locate.pack import write_card
    from geotagger.services.indexing import index

    monkeypatch.setenv("GEOTAGGER_DEFAULT_MODEL", "tiny")
    make_pack(models_dir() / "tiny")
    geo = make_pack(models_dir() / "tinygeo", "tinygeo", seed=1)
    np.savez(
        geo / "heads.npz",
        W0=np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32),
        b0=np.zeros(3),
    )
    card = json.loads((geo / "model.json").read_text())
    card["levels"] = [{"name": "fine"}]
    write_card(geo, card)

    photos = tmp_path / "photos"
    query = make_jpeg(photos / "query.jpg", size=(320, 240), taken=datetime(2020, 5, 1, 12, 0))
    near = make_jpeg(
        photos / "near.jpg", size=(320, 240), lat=48.85, lon=2.35, taken=datetime(2020, 5, 1, 12, 5)
    )
    index(library, [photos], workers=0)
    now = datetime(2024, 1, 1)
    with library.catalog.writer() as session:
        pid = session.scalars(select(Photo.id).where(Photo.filename == "query.jpg")).one()
        rows = [
            ("library", 48.85, 2.35, {"neighbours": [[str(near), 0.9]], "neighbour_id": 2}),
            ("time", 48.86, 2.36, {"text": "taken 5 min after near.jpg"}),
            ("model:tinygeo", 40.0, 3.0, {"class_index": 1, "level_index": 0}),
        ]
        for rank, (source, lat, lon, ev) in enumerate(rows):
            session.add(
                Suggestion(
                    photo_id=pid,
                    rank=rank,
                    source=source,
                    lat=lat,
                    lon=lon,
                    radius_km=1.0,
                    level="city",
                    confidence=0.8,
                    address={"display": "Paris, France"},
                    evidence=ev,
                    created_at=now,
                )
            )
    return library, query, near, pid


def test_explain_neighbour_candidate_stores_concepts_and_writes_overlay(setup, tmp_path):
    lib, query, _near, pid = setup
    out = tmp_path / "overlay.png"
    exp = explaining.explain(lib, str(query), candidate=0, overlay=out, ocr=False)
    assert exp.method == "similarity to neighbour"
    assert exp.attribution is not None and exp.attribution.shape == (336, 448)
    assert exp.attribution.min() >= 0.0 and exp.attribution.max() == pytest.approx(1.0)
    assert all(m.shape == exp.attribution.shape for m in exp.masks.values())
    assert Image.open(out).size == (320, 240)
    with lib.catalog.reader() as session:
        s = session.query(Suggestion).filter_by(photo_id=pid, rank=0).one()
        assert s.evidence["neighbours"]  # the engine's evidence is kept
        assert s.evidence["explanation"]["method"] == "similarity to neighbour"
        stored = s.evidence["concepts"]
    assert [c["name"] for c in stored] == [c[0] for c in exp.concepts]
    for name, influence, share in exp.concepts:
        assert influence >= 0 and 0 < share <= 1 and name in exp.masks


def test_explain_class_candidate_uses_cam_and_time_candidate_has_none(setup):
    lib, query, _near, pid = setup
    exp = explaining.explain(lib, pid, candidate=2, ocr=False)
    assert exp.method == "class activation map"
    assert exp.attribution is not None
    timed = explaining.explain(lib, pid, candidate=1)
    assert timed.attribution is None and timed.concepts == []
    assert "5 min" in timed.note
    with pytest.raises(UserInputError):
        explaining.explain(lib, pid, candidate=7)


def test_cli_explain_json_and_table(setup, capsys):
    lib, query, _near, _pid = setup
    rc = main(["--library", lib.location, "explain", str(query), "--no-ocr", "--format", "json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "similarity to neighbour" and isinstance(data["concepts"], list)
    rc = main(["--library", lib.location, "explain", str(query), "--candidate", "2"])  # numbered from 1
    assert rc == 0
    assert "time evidence" in capsys.readouterr().out
    assert main(["--library", lib.location, "explain", str(query), "--candidate", "0"]) == 1
    assert "numbered from 1" in capsys.readouterr().err
    assert main(["--library", lib.location, "explain", "/nope.jpg"]) == 1


def test_analyse_with_truth_csv(setup, tmp_path):
    lib, query, _near, _pid = setup
    truth = tmp_path / "truth.csv"
    truth.write_text(f"file,lat,lon\n{query},48.851,2.351\n")
    report = explaining.analyse(lib, truth, tmp_path / "out")
    assert report.photos == 1 and report.correct == 1
    assert report.table.is_file() and Image.open(report.plot).format == "PNG"
    header = report.table.read_text().splitlines()[0]
    assert header == "concept,n_correct,mean_correct,n_wrong,mean_wrong,difference"


def test_library_class_candidate_uses_the_library_heads(setup):
    from geotagger.locate.library_model import Level, LibraryModel
    from geotagger.services.explaining import LIBRARY_MODEL_DIR

    lib, _query, _near, pid = setup
    rng = np.random.default_rng(4)
    level = Level(
        "city",
        ["Paris", "Lyon"],
        np.array([48.85, 45.76]),
        np.array([2.35, 4.83]),
        rng.standard_normal((16, 2)).astype(np.float32),
        np.zeros(2, np.float32),
    )
    model = LibraryModel(
        "tiny", np.array([2]), np.ones((1, 16), np.float32) / 4, np.array([48.85]), np.array([2.35]), [level]
    )
    model.save(lib.data_dir / LIBRARY_MODEL_DIR)
    with lib.catalog.writer() as session:
        s = session.query(Suggestion).filter_by(photo_id=pid, rank=0).one()
        s.evidence = {"class_probs": [["Lyon", 0.7], ["Paris", 0.2]], "class": "Lyon"}
    exp = explaining.explain(lib, pid, ocr=False)
    assert exp.method == "class activation map"
    assert "Lyon" in exp.note


def test_cli_batch_mode_reports_failures_and_goes_on(setup, capsys):
    lib, query, _near, pid = setup
    rc = main(["--library", lib.location, "explain", str(query), "/nope.jpg", "--no-ocr", "--format", "json"])
    assert rc == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data[0]["photo"] == str(query) and data[0]["method"] == "similarity to neighbour"
    assert data[1]["photo"] == "/nope.jpg" and data[1]["error"]
    assert main(["--library", lib.location, "explain", str(query), str(query), "--overlay", "x.png"]) == 1


def test_missing_ocr_models_are_reported_not_fatal(setup, monkeypatch):
    import geotagger.explain.explainer as explainer_module

    monkeypatch.setattr(explainer_module, "ocr_available", lambda: False)
    lib, query, _near, _pid = setup
    exp = explaining.explain(lib, str(query), ocr=True)
    assert exp.attribution is not None and exp.ocr_text == ""
    assert "rapidocr-onnxruntime" in exp.ocr_note and "--no-deps" in exp.ocr_note


def test_overlay_for_a_time_candidate_says_why_none_was_written(setup, tmp_path, capsys):
    lib, query, _near, _pid = setup
    out = tmp_path / "time.png"
    exp = explaining.explain(lib, str(query), candidate=1, overlay=out)
    assert exp.overlay is None and not out.exists()
    assert "capture time" in exp.overlay_note and "--candidate 1, 3" in exp.overlay_note
    rc = main(["--library", lib.location, "explain", str(query), "--candidate", "2", "--overlay", str(out)])
    assert rc == 0
    assert "no overlay written" in capsys.readouterr().err


def test_neighbour_candidate_is_not_explained_by_a_far_away_head_class(setup):
    """The heads' top class (Lyon) is 390 km from a Paris neighbour candidate: explain the neighbour."""
    from geotagger.locate.library_model import Level, LibraryModel
    from geotagger.services.explaining import LIBRARY_MODEL_DIR

    lib, _query, near, pid = setup
    level = Level(
        "city",
        ["Paris", "Lyon"],
        np.array([48.85, 45.76]),
        np.array([2.35, 4.83]),
        np.random.default_rng(4).standard_normal((16, 2)).astype(np.float32),
        np.zeros(2, np.float32),
    )
    model = LibraryModel(
        "tiny", np.array([2]), np.ones((1, 16), np.float32) / 4, np.array([48.85]), np.array([2.35]), [level]
    )
    model.save(lib.data_dir / LIBRARY_MODEL_DIR)
    with lib.catalog.writer() as session:
        s = session.query(Suggestion).filter_by(photo_id=pid, rank=0).one()
        s.evidence = {"neighbours": [[str(near), 0.9]], "class_probs": [["Lyon", 0.7], ["Paris", 0.2]]}
    exp = explaining.explain(lib, pid, ocr=False)
    assert exp.method == "class activation map" and "Paris" in exp.note  # the class at the candidate
    with lib.catalog.writer() as session:
        s = session.query(Suggestion).filter_by(photo_id=pid, rank=0).one()
        s.evidence = {"neighbours": [[str(near), 0.9]], "class_probs": [["Lyon", 0.7]]}
    exp = explaining.explain(lib, pid, ocr=False)
    assert exp.method == "similarity to neighbour" and "near.jpg" in exp.note


def test_no_suggestions_message_fits_the_photo(setup, tmp_path):
    """'run locate first' is wrong advice for a photo with GPS or a file that cannot be read."""
    lib, _query, near, _pid = setup
    with pytest.raises(UserInputError, match="already has GPS") as info:
        explaining.explain(lib, str(near))
    assert "locate" not in str(info.value)
    from geotagger.services.indexing import index

    broken = tmp_path / "photos" / "broken.jpg"
    broken.write_text("not a photo")
    index(lib, [broken.parent], workers=0)
    with pytest.raises(UserInputError, match="could not be read"):
        explaining.explain(lib, str(broken))


def test_analyse_into_a_path_under_a_file_is_a_one_line_error(setup, tmp_path, capsys):
    lib, _query, _near, _pid = setup
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    with pytest.raises(UserInputError, match="cannot create the analysis folder"):
        explaining.analyse(lib, None, blocker / "out")
    assert main(["--library", lib.location, "explain", "--analyse", str(blocker / "out")]) == 1
    assert capsys.readouterr().err.startswith("error: cannot create the analysis folder")
