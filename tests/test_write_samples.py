"""Every real camera JPEG in exif-samples, written through the services and checked by exiftool.

Accepted files: GPS readable, no new exiftool -validate warning, every non-GPS tag equal, scan data
byte-identical. Refused files: original untouched, a sidecar exiftool reads. Undo: identical bytes.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
from pathlib import Path

import pytest

from geotagger.services import decisions, indexing, writing
from tests.factories import EXIF_SAMPLES
from tests.test_write_jpeg import EXIFTOOL, exiftool_json, exiftool_report, scan_data

IGNORED_GROUPS = {"System", "File", "Composite", "ExifTool", "GPS"}
# IFD0 tags a JPEG's EXIF must have (exiftool -validate); the writer adds them only when it creates EXIF.
CREATED_IFD0 = {"IFD0:XResolution", "IFD0:YResolution", "IFD0:ResolutionUnit", "IFD0:YCbCrPositioning"}
LAT, LON = 46.5586, 7.9067


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tags(tags: dict[str, list]) -> dict[str, list]:
    return {k: v for k, v in tags.items() if k.split(":")[0] not in IGNORED_GROUPS}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not EXIF_SAMPLES.is_dir():
        pytest.skip("exif-samples not available")
    if EXIFTOOL is None:
        pytest.skip("exiftool not installed")
    folder = tmp_path_factory.mktemp("corpus")
    samples = sorted(p for p in EXIF_SAMPLES.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    for i, src in enumerate(samples):
        shutil.copyfile(src, folder / f"{i:03d}_{src.name}")
    return folder


def test_every_sample_jpeg_written_safely_and_undone(corpus: Path, library) -> None:
    files = sorted(corpus.iterdir())
    before_sha = {p.name: _sha(p) for p in files}
    before_scan = {p.name: scan_data(p.read_bytes()) for p in files if _has_scan(p)}
    before = exiftool_report(files)

    indexing.index(library, [corpus], workers=0)
    for path in files:
        decisions.accept(library, str(path), lat=LAT, lon=LON, level="city", force=True)
    report = writing.write(library, place_names="none")
    assert report.failed == 0, [i.detail for i in report.items if i.status == "failed"]

    in_file = [Path(i.path) for i in report.items if any(t.startswith("exif:") for t in i.targets)]
    sidecars = [Path(t.split(":", 1)[1]) for i in report.items for t in i.targets if t.startswith("sidecar:")]
    assert len(in_file) >= 80 and len(in_file) + len(sidecars) == len(files)
    after = exiftool_report([*in_file, *sidecars])
    positions = exiftool_json(
        [*in_file, *sidecars], "-n", "-GPSLatitude", "-GPSLongitude", "-GPSHPositioningError"
    )
    for path in in_file:
        name = path.name
        (old_warnings, old_tags), (new_warnings, new_tags) = before[name], after[name]
        assert not new_warnings - old_warnings, (name, new_warnings - old_warnings)
        old, new = _tags(old_tags), _tags(new_tags)
        changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        if not any(k.startswith("IFD0:") for k in old):  # the writer created the EXIF segment
            changed -= CREATED_IFD0
        assert not changed, (name, sorted(changed)[:5])
        assert positions[name]["GPSLatitude"] == pytest.approx(LAT, abs=1e-6), name
        assert positions[name]["GPSLongitude"] == pytest.approx(LON, abs=1e-6), name
        # a hand placement at city level is ±25 km, what city means everywhere (4a8a7b4)
        assert positions[name]["GPSHPositioningError"] == pytest.approx(25_000), name
        assert scan_data(path.read_bytes()) == before_scan[name], name
    for sidecar in sidecars:
        photo = sidecar.with_name(sidecar.name[: -len(".xmp")])
        assert _sha(photo) == before_sha[photo.name], "a refused file must stay untouched"
        assert positions[sidecar.name]["GPSLatitude"] == pytest.approx(LAT, abs=1e-6)
        assert not after[sidecar.name][0], after[sidecar.name][0]

    undone = writing.undo(library, last=len(files))
    assert len(undone) == len(files)
    assert {p.name: _sha(p) for p in sorted(corpus.iterdir())} == before_sha  # sidecars removed too


def _has_scan(path: Path) -> bool:
    """Whether the minimal segment walk finds the scan (broken samples may have none)."""
    try:
        scan_data(path.read_bytes())
    except (AssertionError, IndexError, struct.error):
        return False
    return True
