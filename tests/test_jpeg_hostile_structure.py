"""Hostile EXIF structures: directory loops, overlapping IFDs, dangling offsets, absurd counts.

The writer must refuse them (WriteRefusedError, so the caller writes an XMP sidecar and leaves the
photo's bytes alone) or patch them so that exiftool, the independent reader, sees no new -validate
warning and every non-GPS tag as before. Files are built byte by byte; a seeded fuzz mutates the
structure of a camera-like block (GEOTAGGER_TRIALS trials, small by default for CI).
"""

from __future__ import annotations

import os
import random
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest

from geotagger.errors import MetadataError, WriteRefusedError
from geotagger.metadata.verify import verify_jpeg_patch
from geotagger.metadata.write_jpeg import GpsFix, add_gps
from tests.test_write_jpeg import EXIFTOOL, build_tiff, exiftool_report, jpeg_with, segment

needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed")
FIX = GpsFix(-33.856784, 151.215297, radius_m=2500.0)
TRIALS = int(os.environ.get("GEOTAGGER_TRIALS", "200"))
# build_tiff's fixed layout: IFD0 at 8, Exif IFD at 200, GPS at 560, IFD1 at 700, thumbnail at 800.
IFD0, EXIF, GPS, IFD1, THUMB = 8, 200, 560, 700, 800
_SKIP_GROUPS = {"GPS", "Composite", "System", "ExifTool"}


@dataclass(frozen=True)
class Field:
    """A 4-byte offset field of the block (a pointer or an out-of-line value offset) or a count."""

    at: int
    kind: str  # "pointer", "value", "dircount", "count"


def _fields(tiff: bytes) -> list[Field]:
    """Every offset and count field of the block, found by a minimal walk of its known directories."""
    e = "<" if tiff[:2] == b"II" else ">"
    fields = [Field(4, "pointer")]
    sizes = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8}
    for at in (IFD0, EXIF, GPS, IFD1):
        if at + 2 > len(tiff):
            continue
        (count,) = struct.unpack_from(e + "H", tiff, at)
        if count == 0:
            continue
        fields.append(Field(at, "dircount"))
        count = min(count, (len(tiff) - at - 6) // 12)  # an earlier mutation may have broken it
        for i in range(count):
            pos = at + 2 + 12 * i
            tag_id, type_id, n = struct.unpack_from(e + "HHI", tiff, pos)
            fields.append(Field(pos + 4, "count"))
            if tag_id in (0x8769, 0x8825, 0xA005, 0x0201):
                fields.append(Field(pos + 8, "pointer"))
            elif sizes.get(type_id, 0) * n > 4:
                fields.append(Field(pos + 8, "value"))
        fields.append(Field(at + 2 + 12 * count, "pointer"))  # next-IFD pointer
    return fields


def _targets(tiff: bytes) -> list[int]:
    """Offsets that make a pointer hostile: other directories, inside tables and values, the end."""
    return [
        IFD0,
        EXIF,
        GPS,
        IFD1,
        THUMB,
        IFD0 + 2 + 12 * 2,
        EXIF + 2 + 12 * 3,
        IFD1 + 14,
        THUMB + 4,
        len(tiff) - 2,
        len(tiff) - 14,
        len(tiff),
        len(tiff) + 100,
        0,
        3,
        0xFFFFFFF0,
    ]


def mutate(tiff: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One or two structural mutations (loops, overlaps, out-of-range offsets, huge counts)."""
    e = "<" if tiff[:2] == b"II" else ">"
    block = bytearray(tiff)
    names = []
    for _ in range(rng.choice((1, 1, 2))):
        fields = _fields(bytes(block))
        f = rng.choice(fields)
        if f.kind == "dircount":
            value = rng.choice((0, 1, 40, 999, 1001, 0xFFFF))
            block[f.at : f.at + 2] = struct.pack(e + "H", value)
        elif f.kind == "count":
            value = rng.choice((0, 2, 100, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF))
            block[f.at : f.at + 4] = struct.pack(e + "I", value)
        else:
            value = rng.choice(_targets(bytes(block)))
            block[f.at : f.at + 4] = struct.pack(e + "I", value)
        names.append(f"{f.kind}@{f.at}={value}")
    return bytes(block), ",".join(names)


def fuzz_cases(trials: int, seed: int = 20261130) -> list[tuple[str, bytes]]:
    """Seeded hostile JPEGs over both byte orders, with and without GPS and thumbnail."""
    rng = random.Random(seed)
    bases = [
        build_tiff(endian, with_gps=gps, with_thumbnail=thumb)
        for endian in ("II", "MM")
        for gps in (False, True)
        for thumb in (True, False)
    ]
    cases = []
    for i in range(trials):
        block, what = mutate(rng.choice(bases), rng)
        cases.append((f"{i:03d} {what}", jpeg_with([segment(0xE1, b"Exif\x00\x00" + block)])))
    return cases


def _non_gps(tags: dict[str, list]) -> dict[str, list]:
    return {k: v for k, v in tags.items() if k.split(":")[0] not in _SKIP_GROUPS}


def run_cases(cases: list[tuple[str, bytes]], folder: Path) -> tuple[int, list[str]]:
    """(refused, failures): each case is refused, or patched with no new exiftool warning, the
    intended GPS and every non-GPS tag unchanged."""
    refused, written, failures = 0, [], []
    for i, (name, old) in enumerate(cases):
        try:
            new = add_gps(old, FIX)
            verify_jpeg_patch(old, new, FIX, name)
        except WriteRefusedError:
            refused += 1
            continue
        except MetadataError as exc:  # verification caught a bad patch: still nothing written
            refused += 1
            failures.append(f"{name}: writer produced a patch its verification rejects ({exc})")
            continue
        (folder / f"old_{i}.jpg").write_bytes(old)
        (folder / f"new_{i}.jpg").write_bytes(new)
        written.append((i, name))
    if written:
        files = [folder / f"{p}_{i}.jpg" for i, _ in written for p in ("old", "new")]
        report = exiftool_report(files, "-n")
        for i, name in written:
            (old_warn, old_tags), (new_warn, new_tags) = report[f"old_{i}.jpg"], report[f"new_{i}.jpg"]
            if new_warn - old_warn:
                failures.append(f"{name}: new exiftool warnings {sorted(new_warn - old_warn)}")
            if _non_gps(new_tags) != _non_gps(old_tags):
                changed = sorted(
                    k
                    for k in set(_non_gps(new_tags)) | set(_non_gps(old_tags))
                    if new_tags.get(k) != old_tags.get(k)
                )
                failures.append(f"{name}: non-GPS tags changed {changed[:5]}")
            lat = new_tags.get("Composite:GPSLatitude", [None])[0]
            if lat is None or abs(lat - FIX.lat) > 1e-6:
                failures.append(f"{name}: exiftool reads GPSLatitude {lat}")
    return refused, failures


def _put(block: bytearray, at: int, value: int, endian: str = "<") -> bytes:
    block[at : at + 4] = struct.pack(endian + "I", value)
    return bytes(block)


def _entry_value_at(tiff: bytes, directory: int, tag_id: int) -> int:
    """Byte offset of the value field of ``tag_id`` in the directory at ``directory``."""
    e = "<" if tiff[:2] == b"II" else ">"
    (count,) = struct.unpack_from(e + "H", tiff, directory)
    for i in range(count):
        if struct.unpack_from(e + "H", tiff, directory + 2 + 12 * i)[0] == tag_id:
            return directory + 2 + 12 * i + 8
    raise AssertionError(f"tag 0x{tag_id:04x} not found")


def hostile_blocks() -> dict[str, bytes]:
    """The hand-built classes of the issue, each one structural defect in a camera-like block."""
    base = build_tiff("II")
    ifd0_next = IFD0 + 2 + 12 * 7
    ifd1_next = IFD1 + 2 + 12 * 3
    gps = build_tiff("II", with_gps=True)
    return {
        "ifd0_next_to_itself": _put(bytearray(base), ifd0_next, IFD0),
        "exififd_to_ifd0": _put(bytearray(base), _entry_value_at(base, IFD0, 0x8769), IFD0),
        "ifd1_next_to_ifd0": _put(bytearray(base), ifd1_next, IFD0),
        "ifd1_next_to_itself": _put(bytearray(base), ifd1_next, IFD1),
        "exififd_inside_ifd0": _put(bytearray(base), _entry_value_at(base, IFD0, 0x8769), IFD0 + 2 + 24),
        "gps_to_exififd": _put(bytearray(gps), _entry_value_at(gps, IFD0, 0x8825), EXIF),
        "gps_inside_thumbnail": _put(bytearray(gps), _entry_value_at(gps, IFD0, 0x8825), THUMB + 4),
        "ifd1_overlaps_exif": _put(bytearray(base), ifd0_next, EXIF + 2 + 12 * 4),
        "makernote_over_gps": _put(bytearray(gps), _entry_value_at(gps, EXIF, 0x927C), GPS - 40),
        "ifd0_next_past_end": _put(bytearray(base), ifd0_next, len(base) + 64),
        "huge_entry_count": _put(bytearray(base), _entry_value_at(base, EXIF, 0x9003) - 4, 0xFFFFFFF0),
    }


@pytest.mark.parametrize("name", sorted(hostile_blocks()))
def test_hostile_structure_is_refused(name: str) -> None:
    old = jpeg_with([segment(0xE1, b"Exif\x00\x00" + hostile_blocks()[name])])
    with pytest.raises(WriteRefusedError, match="EXIF"):
        add_gps(old, FIX)


@needs_exiftool
def test_seeded_structure_fuzz_refuses_or_patches_cleanly(tmp_path: Path) -> None:
    refused, failures = run_cases(fuzz_cases(TRIALS), tmp_path)
    assert not failures, "\n".join(failures)
    assert 0 < refused < TRIALS  # the corpus exercises both outcomes


def test_write_service_leaves_a_hostile_photo_untouched_and_writes_a_sidecar(library, tmp_path: Path) -> None:
    from geotagger.metadata.xmp import read_sidecar
    from geotagger.services import decisions, indexing, writing

    folder = tmp_path / "photos"
    folder.mkdir()
    path = folder / "loop.jpg"
    path.write_bytes(jpeg_with([segment(0xE1, b"Exif\x00\x00" + hostile_blocks()["exififd_to_ifd0"])]))
    before = path.read_bytes()
    indexing.index(library, [folder], workers=0)
    decisions.accept(library, str(path), lat=FIX.lat, lon=FIX.lon, level="exact")
    (item,) = writing.write(library).items
    assert item.status == "written", item.detail
    assert item.targets == [f"sidecar:{path}.xmp"]
    assert path.read_bytes() == before  # not one byte written into the file
    sidecar = read_sidecar(Path(f"{path}.xmp"))
    assert (sidecar.lat, sidecar.lon) == (pytest.approx(FIX.lat, abs=1e-6), pytest.approx(FIX.lon, abs=1e-6))
