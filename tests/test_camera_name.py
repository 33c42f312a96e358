"""The one rule for naming a camera (details pane, clock list): the make is not repeated."""

from __future__ import annotations

import pytest

from geotagger.metadata.camera import camera_name


@pytest.mark.parametrize(
    ("make", "model", "name"),
    [
        ("Canon", "Canon EOS 40D", "Canon EOS 40D"),
        ("NIKON CORPORATION", "NIKON D700", "NIKON D700"),
        ("Apple", "iPhone 12", "Apple iPhone 12"),
        ("  SONY ", " ILCE-7M3 ", "SONY ILCE-7M3"),
        (None, "DSC-RX100", "DSC-RX100"),
        ("FUJIFILM", None, "FUJIFILM"),
        (None, None, ""),
    ],
)
def test_camera_name(make, model, name) -> None:
    assert camera_name(make, model) == name
