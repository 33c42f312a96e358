"""The JPEG EXIF GPS writer: existing bytes never move, exiftool sees GPS and nothing else changed."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from geotagger.errors import MetadataError, UserInputError, WriteRefusedError
from geotagger.metadata.read import read_metadata
from geotagger.metadata.verify import gps_of_tiff, verify_jpeg_patch
from geotagger.metadata.write_jpeg import GpsFix, add_gps
from tests.factories import make_image, make_jpeg

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed")
FIX = GpsFix(-33.856784, 151.215297, alt=-12.5, radius_m=2500.0)
MAKERNOTE = b"TESTMAKERNOTE\x00" + bytes(range(200))


def exiftool_json(files: list[Path], *args: str) -> dict[str, dict]:
    """exiftool's JSON for many files in one call, keyed by file name."""
    out = subprocess.run(
        [EXIFTOOL, "-json", *args, *map(str, files)], capture_output=True, text=True, check=False
    )
    return {Path(item["SourceFile"]).name: item for item in json.loads(out.stdout or "[]")}


def exiftool_report(files: list[Path], *args: str) -> dict[str, tuple[set[str], dict[str, list]]]:
    """Per file: every -validate warning, and every tag as "Group1:Name" -> its values (one call).

    -G1:4 numbers duplicates (Copy1, Copy2 ...), so no warning or repeated tag is lost in the JSON.
    """
    out: dict[str, tuple[set[str], dict[str, list]]] = {}
    for name, item in exiftool_json(files, "-a", "-G1:4", "-validate", "-warning", "-all", *args).items():
        warnings: set[str] = set()
        tags: dict[str, list] = {}
        for key, value in item.items():
            parts = key.split(":")
            if parts[-1] == "Warning":
                warnings.add(str(value))
            elif key != "SourceFile" and parts[-1] != "Validate":
                tags.setdefault(f"{parts[0]}:{parts[-1]}", []).append(value)
        out[name] = warnings, {k: sorted(v, key=str) for k, v in tags.items()}
    return out


def scan_data(data: bytes) -> bytes:
    """Everything from the first SOS marker on, found by an independent, minimal segment walk."""
    pos = 2
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        if marker == 0xDA:
            return data[pos:]
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]


def markers(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, first bytes of payload) of every segment before the scan."""
    out, pos = [], 2
    while data[pos + 1] != 0xDA:
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        out.append((data[pos + 1], data[pos + 4 : pos + 10]))
        pos += 2 + length
    return out


def build_tiff(endian: str, *, with_thumbnail: bool = True, with_gps: bool = False) -> bytes:
    """A TIFF block like a camera's: IFD0 -> Exif IFD with a MakerNote, IFD1 with a JPEG thumbnail."""
    e = "<" if endian == "II" else ">"
    thumb = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 30, 30)).save(thumb, "JPEG")
    thumb_bytes = thumb.getvalue()

    def ifd(entries: list[tuple[int, int, int, bytes]], at: int, nxt: int = 0) -> bytes:
        table, data = struct.pack(e + "H", len(entries)), b""
        data_at = at + 2 + 12 * len(entries) + 4
        for tag_id, type_id, count, raw in entries:
            if len(raw) <= 4:
                table += struct.pack(e + "HHI", tag_id, type_id, count) + raw.ljust(4, b"\x00")
            else:
                table += struct.pack(e + "HHII", tag_id, type_id, count, data_at + len(data))
                data += raw + b"\x00" * (len(raw) % 2)
        return table + struct.pack(e + "I", nxt) + data

    make, model = b"TestCam\x00", b"Model 7\x00"
    # Fixed layout: IFD0 at 8, Exif IFD at 200, GPS at 560, IFD1 at 700, thumbnail at 800.
    ifd0_entries = [
        (0x010F, 2, len(make), make),
        (0x0110, 2, len(model), model),
        (0x011A, 5, 1, struct.pack(e + "II", 72, 1)),
        (0x011B, 5, 1, struct.pack(e + "II", 72, 1)),
        (0x0128, 3, 1, struct.pack(e + "H", 2)),
        (0x0213, 3, 1, struct.pack(e + "H", 1)),
        (0x8769, 4, 1, struct.pack(e + "I", 200)),
    ]
    if with_gps:
        ifd0_entries.append((0x8825, 4, 1, struct.pack(e + "I", 560)))
    exif_entries = [
        (0x9000, 7, 4, b"0232"),
        (0x9003, 2, 20, b"2021:06:01 12:34:56\x00"),
        (0x9101, 7, 4, b"\x01\x02\x03\x00"),
        (0x927C, 7, len(MAKERNOTE), MAKERNOTE),
        (0xA000, 7, 4, b"0100"),
        (0xA001, 3, 1, struct.pack(e + "H", 1)),
        (0xA002, 4, 1, struct.pack(e + "I", 64)),
        (0xA003, 4, 1, struct.pack(e + "I", 48)),
    ]
    gps_entries = [
        (0x0000, 1, 4, bytes((2, 2, 0, 0))),
        (0x0001, 2, 2, b"N\x00"),
        (0x0002, 5, 3, struct.pack(e + "6I", 10, 1, 0, 1, 0, 1)),
        (0x0003, 2, 2, b"E\x00"),
        (0x0004, 5, 3, struct.pack(e + "6I", 20, 1, 0, 1, 0, 1)),
    ]
    ifd1_entries = [
        (0x0103, 3, 1, struct.pack(e + "H", 6)),
        (0x0201, 4, 1, struct.pack(e + "I", 800)),
        (0x0202, 4, 1, struct.pack(e + "I", len(thumb_bytes))),
    ]
    block = bytearray(endian.encode() + struct.pack(e + "HI", 42, 8))
    block += ifd(ifd0_entries, 8, 700 if with_thumbnail else 0)
    assert len(block) <= 200
    for at, part in ((200, ifd(exif_entries, 200)), (560, ifd(gps_entries, 560) if with_gps else b"")):
        assert len(block) <= at
        block += b"\x00" * (at - len(block))
        block += part
    if with_thumbnail:
        assert len(block) <= 700
        block += b"\x00" * (700 - len(block)) + ifd(ifd1_entries, 700)
        block += b"\x00" * (800 - len(block)) + thumb_bytes
    return bytes(block)


def segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with(segments: list[bytes], *, jfif: bool = True) -> bytes:
    """A real JPEG (Pillow's scan data) with our own segments after SOI (and JFIF)."""
    buf = io.BytesIO()
    make_image((64, 48)).save(buf, "JPEG", quality=80)
    data = buf.getvalue()
    assert data[2:4] == b"\xff\xe0"
    app0_end = 4 + struct.unpack(">H", data[4:6])[0]
    head = data[:app0_end] if jfif else data[:2]
    return head + b"".join(segments) + data[app0_end:]


XMP_PACKET = (
    b"http://ns.adobe.com/xap/1.0/\x00"
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
ICC = b"ICC_PROFILE\x00\x01\x01" + bytes(128)


def check_patch(old: bytes, new: bytes, fix: GpsFix = FIX) -> None:
    assert scan_data(new) == scan_data(old)
    verify_jpeg_patch(old, new, fix)


@pytest.mark.parametrize("endian", ["II", "MM"])
@pytest.mark.parametrize("with_gps", [False, True])
def test_camera_like_exif_keeps_every_offset(endian: str, with_gps: bool, tmp_path: Path) -> None:
    tiff = build_tiff(endian, with_gps=with_gps)
    old = jpeg_with([segment(0xE1, b"Exif\x00\x00" + tiff), segment(0xE2, ICC)])
    new = add_gps(old, FIX)
    check_patch(old, new)
    start = new.index(b"Exif\x00\x00") + 6
    new_tiff = new[start : start + len(tiff) + 1000]
    # The MakerNote and the thumbnail are at the same offsets with the same bytes.
    assert new_tiff.index(MAKERNOTE) == tiff.index(MAKERNOTE)
    assert new_tiff[800:802] == b"\xff\xd8"
    assert new_tiff[:2] == endian.encode()
    lat, lon = gps_of_tiff(new[start:])
    assert lat == pytest.approx(FIX.lat, abs=1e-6) and lon == pytest.approx(FIX.lon, abs=1e-6)
    assert markers(new) == markers(old)
    path = tmp_path / "x.jpg"
    path.write_bytes(new)
    meta = read_metadata(path)
    assert meta.gps_source == "exif"
    assert meta.gps_lat == pytest.approx(FIX.lat, abs=1e-6)
    assert meta.gps_lon == pytest.approx(FIX.lon, abs=1e-6)
    assert meta.gps_alt == pytest.approx(-12.5)
    assert meta.camera_make == "TestCam"


def test_xmp_before_exif_keeps_order_and_adds_no_second_exif() -> None:
    old = jpeg_with([segment(0xE1, XMP_PACKET), segment(0xE1, b"Exif\x00\x00" + build_tiff("II"))])
    new = add_gps(old, FIX)
    check_patch(old, new)
    assert new.count(b"Exif\x00\x00") == 1
    assert [m for m, _ in markers(new) if 0xE0 <= m <= 0xEF] == [0xE0, 0xE1, 0xE1]
    assert markers(new)[1][1] == XMP_PACKET[:6]


def test_jpeg_without_exif_gets_one_after_jfif() -> None:
    old = jpeg_with([segment(0xE1, XMP_PACKET), segment(0xE2, ICC)])
    new = add_gps(old, GpsFix(48.8584, 2.2945))
    check_patch(old, new, GpsFix(48.8584, 2.2945))
    kinds = markers(new)
    assert kinds[0][1].startswith(b"JFIF") and kinds[1][1] == b"Exif\x00\x00"
    assert kinds[2:] == markers(old)[1:]
    no_jfif = jpeg_with([], jfif=False)
    assert markers(add_gps(no_jfif, FIX))[0][1] == b"Exif\x00\x00"


def test_pillow_jpeg_round_trip(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "p.jpg", make="Pillow", model="PIL")
    old = path.read_bytes()
    new = add_gps(old, FIX)
    check_patch(old, new)
    again = add_gps(new, GpsFix(1.5, -2.5))  # replacing our own GPS appends and repoints again
    check_patch(new, again, GpsFix(1.5, -2.5))
    path.write_bytes(again)
    assert read_metadata(path).gps_lat == pytest.approx(1.5)


def test_refuses_what_it_cannot_patch_safely() -> None:
    big = build_tiff("II") + bytes(65_400 - len(build_tiff("II")))
    with pytest.raises(WriteRefusedError, match="64 KB"):
        add_gps(jpeg_with([segment(0xE1, b"Exif\x00\x00" + big)]), FIX)
    broken = bytearray(build_tiff("II"))
    broken[4:8] = struct.pack("<I", 60_000)  # IFD0 offset outside the block
    with pytest.raises(WriteRefusedError, match="outside"):
        add_gps(jpeg_with([segment(0xE1, b"Exif\x00\x00" + bytes(broken))]), FIX)
    two = segment(0xE1, b"Exif\x00\x00" + build_tiff("II"))
    with pytest.raises(WriteRefusedError, match="more than one"):
        add_gps(jpeg_with([two, two]), FIX)
    mpf = segment(0xE2, b"MPF\x00II*\x00\x08\x00\x00\x00")
    with pytest.raises(WriteRefusedError, match="MPF"):
        add_gps(jpeg_with([mpf, two]), FIX)
    dangling = bytearray(build_tiff("MM"))
    dangling[8 + 2 + 12 * 6 + 8 : 8 + 2 + 12 * 6 + 12] = struct.pack(">I", len(dangling) - 4)
    with pytest.raises(WriteRefusedError, match="Exif directory"):
        add_gps(jpeg_with([segment(0xE1, b"Exif\x00\x00" + bytes(dangling))]), FIX)
    with pytest.raises(WriteRefusedError, match="not a JPEG"):
        add_gps(b"\x89PNG\r\n\x1a\n", FIX)
    with pytest.raises(WriteRefusedError):
        add_gps(jpeg_with([two])[:300], FIX)  # truncated before the scan


def test_bad_coordinates_are_user_errors() -> None:
    for lat, lon in ((91, 0), (0, 181), (float("nan"), 0)):
        with pytest.raises(UserInputError):
            GpsFix(lat, lon)


def test_verification_catches_a_changed_byte() -> None:
    old = jpeg_with([segment(0xE1, b"Exif\x00\x00" + build_tiff("II"))])
    new = bytearray(add_gps(old, FIX))
    new[new.index(MAKERNOTE) + 20] ^= 0xFF
    with pytest.raises(MetadataError, match="existing EXIF bytes changed"):
        verify_jpeg_patch(old, bytes(new), FIX)
    tail = bytearray(add_gps(old, FIX))
    tail[-10] ^= 0xFF
    with pytest.raises(MetadataError, match="image data"):
        verify_jpeg_patch(old, bytes(tail), FIX)
    with pytest.raises(MetadataError, match="GPS reads back"):
        verify_jpeg_patch(old, add_gps(old, GpsFix(0, 0)), FIX)


@needs_exiftool
def test_generated_variants_validate_in_exiftool(tmp_path: Path) -> None:
    variants = {
        "le.jpg": jpeg_with([segment(0xE1, b"Exif\x00\x00" + build_tiff("II"))]),
        "be_gps.jpg": jpeg_with([segment(0xE1, b"Exif\x00\x00" + build_tiff("MM", with_gps=True))]),
        "xmp_first.jpg": jpeg_with(
            [segment(0xE1, XMP_PACKET), segment(0xE1, b"Exif\x00\x00" + build_tiff("MM"))]
        ),
        "no_exif.jpg": jpeg_with([segment(0xE2, ICC)]),
    }
    files = []
    for name, data in variants.items():
        (tmp_path / f"old_{name}").write_bytes(data)
        (tmp_path / f"new_{name}").write_bytes(add_gps(data, FIX))
        files += [tmp_path / f"old_{name}", tmp_path / f"new_{name}"]
    report = exiftool_report(files, "-n")
    for name in variants:
        (old_warnings, old), (new_warnings, new) = report[f"old_{name}"], report[f"new_{name}"]
        assert new_warnings <= old_warnings, name
        old, new = {k: v[0] for k, v in old.items()}, {k: v[0] for k, v in new.items()}
        assert new["Composite:GPSLatitude"] == pytest.approx(FIX.lat, abs=1e-6)
        assert new["Composite:GPSLongitude"] == pytest.approx(FIX.lon, abs=1e-6)
        assert new["GPS:GPSLatitudeRef"] == "S" and new["GPS:GPSLongitudeRef"] == "E"
        assert new["GPS:GPSHPositioningError"] == pytest.approx(2500)
        assert new["GPS:GPSMapDatum"] == "WGS-84" and new["GPS:GPSVersionID"] == "2 3 0 0"
        assert new["GPS:GPSAltitudeRef"] == 1 and new["GPS:GPSAltitude"] == pytest.approx(12.5)
        if name != "no_exif.jpg":
            assert new.get("ExifIFD:MakerNoteUnknown", new.get("ExifIFD:MakerNote")) == old.get(
                "ExifIFD:MakerNoteUnknown", old.get("ExifIFD:MakerNote")
            )
            assert new["IFD1:ThumbnailLength"] == old["IFD1:ThumbnailLength"]
        if name == "xmp_first.jpg":
            assert new["XMP-xmp:Rating"] == 4


SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "exif-samples"


def _dms_bytes(endian: str, lat: float, lon: float) -> list[bytes]:
    """The GPSLatitude / GPSLongitude rationals exactly as the writer encodes them."""
    from geotagger.metadata.write_jpeg import _dms

    return [_dms(endian, lat), _dms(endian, lon)]


@needs_exiftool
@pytest.mark.parametrize("endian", ["II", "MM"])
def test_rewriting_gps_erases_the_old_position(endian: str, tmp_path: Path) -> None:
    """accept --force + write: the first written position must not survive as unreferenced rationals."""
    e = "<" if endian == "II" else ">"
    original = jpeg_with([segment(0xE1, b"Exif\x00\x00" + build_tiff(endian))])
    first_fix = GpsFix(46.593151, 7.909374, radius_m=10.0)
    first = add_gps(original, first_fix)
    for raw in _dms_bytes(e, first_fix.lat, first_fix.lon):
        assert raw in first
    second = add_gps(first, FIX)
    verify_jpeg_patch(first, second, FIX)
    for raw in _dms_bytes(e, first_fix.lat, first_fix.lon):
        assert raw not in second  # byte search: the old rationals are gone, not just unreferenced
    assert len(second) > len(first)  # appended, nothing moved
    assert second.index(MAKERNOTE) == first.index(MAKERNOTE) == original.index(MAKERNOTE)
    (tmp_path / "first.jpg").write_bytes(first)
    (tmp_path / "second.jpg").write_bytes(second)
    report = exiftool_report([tmp_path / "first.jpg", tmp_path / "second.jpg"], "-n")
    (old_warnings, old), (new_warnings, new) = report["first.jpg"], report["second.jpg"]
    assert new_warnings <= old_warnings
    assert new["Composite:GPSLatitude"] == [pytest.approx(FIX.lat, abs=1e-6)]
    assert new["Composite:GPSLongitude"] == [pytest.approx(FIX.lon, abs=1e-6)]
    assert {k: v for k, v in new.items() if not k.startswith(("GPS:", "Composite:", "System:"))} == {
        k: v for k, v in old.items() if not k.startswith(("GPS:", "Composite:", "System:"))
    }


def test_replacing_camera_gps_zeroes_its_directory() -> None:
    old = jpeg_with([segment(0xE1, b"Exif\x00\x00" + build_tiff("MM", with_gps=True))])
    camera = struct.pack(">6I", 10, 1, 0, 1, 0, 1) + b"\x00\x02"  # 10 deg N, then the E ref entry
    tiff_at = old.index(b"Exif\x00\x00") + 6
    gps_dir = old[tiff_at + 560 : tiff_at + 560 + 2 + 12 * 5 + 4]
    new = add_gps(old, FIX)
    verify_jpeg_patch(old, new, FIX)
    assert gps_dir not in new and camera[:24] not in new[tiff_at:]
    assert new[tiff_at + 560 : tiff_at + 560 + len(gps_dir)] == bytes(len(gps_dir))


def test_verification_catches_an_old_position_left_behind() -> None:
    """The old writer's output (old GPS directory left intact) must fail verification."""
    original = jpeg_with([segment(0xE1, b"Exif\x00\x00" + build_tiff("II"))])
    first = add_gps(original, GpsFix(46.593151, 7.909374))
    second = bytearray(add_gps(first, FIX))
    for raw in _dms_bytes("<", 46.593151, 7.909374):  # put the old rationals back where they were
        at = first.index(raw)
        second[at : at + 24] = raw
    with pytest.raises(MetadataError, match="old GPS directory"):
        verify_jpeg_patch(first, bytes(second), FIX)


@needs_exiftool
@pytest.mark.skipif(not (SAMPLES / "jpg" / "gps").is_dir(), reason="exif-samples not available")
def test_real_gps_photos_keep_no_old_rationals(tmp_path: Path) -> None:
    from geotagger.metadata.verify import _gps_rationals
    from geotagger.metadata.write_jpeg import exif_segments, parse_segments

    files = []
    for src in sorted((SAMPLES / "jpg" / "gps").glob("*.jpg")):
        old = src.read_bytes()
        (exif,) = exif_segments(old, parse_segments(old)[0])
        old_tiff = exif.payload(old)[6:]
        before = _gps_rationals(old_tiff, "<" if old_tiff[:2] == b"II" else ">")
        new = add_gps(old, FIX)
        verify_jpeg_patch(old, new, FIX)
        assert before and all(raw not in new for raw in before.values()), src.name
        (tmp_path / f"old_{src.name}").write_bytes(old)
        (tmp_path / f"new_{src.name}").write_bytes(new)
        files += [tmp_path / f"old_{src.name}", tmp_path / f"new_{src.name}"]
    report = exiftool_report(files, "-n")
    for path in files[::2]:
        (old_warnings, old_tags), (new_warnings, new_tags) = report[path.name], report["new" + path.name[3:]]
        assert new_warnings <= old_warnings, path.name
        assert new_tags["Composite:GPSLatitude"] == [pytest.approx(FIX.lat, abs=1e-6)]
        skip = ("GPS:", "Composite:", "System:")
        assert {k: v for k, v in new_tags.items() if not k.startswith(skip)} == {
            k: v for k, v in old_tags.items() if not k.startswith(skip)
        }, path.name


@needs_exiftool
def test_accept_force_and_write_twice_leaves_only_the_last_position(library, tmp_path: Path) -> None:
    """The CLI path of issue 10 item 4: camera GPS, then two forced acceptances, each written."""
    from geotagger.services import decisions, indexing, writing

    folder = tmp_path / "photos"
    folder.mkdir()
    path = folder / "gps.jpg"
    path.write_bytes(jpeg_with([segment(0xE1, b"Exif\x00\x00" + build_tiff("MM", with_gps=True))]))
    camera = struct.pack(">6I", 10, 1, 0, 1, 0, 1)
    assert camera in path.read_bytes()
    indexing.index(library, [folder], workers=0)
    positions = [(46.593151, 7.909374), (-33.856784, 151.215297)]
    for lat, lon in positions:
        decisions.accept(library, str(path), lat=lat, lon=lon, level="exact", force=True)
        (item,) = writing.write(library).items
        assert item.status == "written" and item.targets[0] == f"exif:{path}", item.detail
    data = path.read_bytes()
    assert camera not in data
    assert not any(raw in data for raw in _dms_bytes(">", *positions[0]))
    assert all(raw in data for raw in _dms_bytes(">", *positions[1]))
    row = exiftool_json([path], "-n", "-a", "-G1", "-GPS:all")[path.name]
    assert (row["GPS:GPSLatitude"], row["GPS:GPSLongitude"]) == (
        pytest.approx(-positions[1][0], abs=1e-6),
        pytest.approx(positions[1][1], abs=1e-6),
    )


def test_position_left_by_an_earlier_replace_is_erased_too() -> None:
    """A photo written twice by the writer before this fix holds the first GPS directory unreferenced;
    the next write erases it as well (and only it: the MakerNote and thumbnail stay where they are)."""
    camera = build_tiff("MM", with_gps=True)
    original = jpeg_with([segment(0xE1, b"Exif\x00\x00" + camera)])
    tiff_at = original.index(b"Exif\x00\x00") + 6
    gps_dir = slice(tiff_at + 560, tiff_at + 560 + 2 + 12 * 5 + 4 + 48)  # table and its two values
    left_behind = bytearray(add_gps(original, GpsFix(46.593151, 7.909374)))
    left_behind[gps_dir] = original[gps_dir]  # what the old writer produced: camera GPS still there
    left_behind = bytes(left_behind)
    old_values = camera[560 + 66 : 560 + 66 + 48]  # the camera's latitude and longitude rationals
    assert old_values in left_behind
    new = add_gps(left_behind, FIX)
    verify_jpeg_patch(left_behind, new, FIX)
    assert old_values not in new and original[gps_dir] not in new
    assert not any(raw in new for raw in _dms_bytes(">", 46.593151, 7.909374))
    assert new.index(MAKERNOTE) == original.index(MAKERNOTE)
    assert gps_of_tiff(new[tiff_at:]) == (pytest.approx(FIX.lat, abs=1e-6), pytest.approx(FIX.lon, abs=1e-6))
