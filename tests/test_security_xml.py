"""XMP sidecars stay well-formed whatever the place names hold (exiftool as the independent reader)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geotagger.metadata.xmp_write import XmpLocation, merge_xmp
from tests.exiftool import exiftool_json

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")


def test_place_names_with_markup_and_controls_stay_parseable(tmp_path: Path) -> None:
    city = 'Zü<r>&"ich\x01\x1b ]]> {{7*7}}'
    sidecar = tmp_path / "a.jpg.xmp"
    sidecar.write_bytes(merge_xmp(None, XmpLocation(None, city, "St'ate", "Land", "CH")))
    # merging again parses what was written (a control character made it invalid XML before)
    sidecar.write_bytes(merge_xmp(sidecar.read_bytes(), XmpLocation(None, city, "St'ate", "Land", "CH")))
    (row,) = exiftool_json("-XMP:City", "-XMP:State", sidecar)
    assert row["City"] == 'Zü<r>&"ich\ufffd\ufffd ]]> {{7*7}}' and row["State"] == "St'ate"
