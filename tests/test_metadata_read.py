"""read_metadata: generated photos, hand-crafted broken EXIF, RAW containers, XMP, real camera files."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from geotagger.errors import MetadataError
from geotagger.metadata.read import SUPPORTED_EXTENSIONS, read_metadata
from geotagger.metadata.tags import BY_NAME, GPS
from tests.factories import EXIF_SAMPLES, make_image, make_photo

TAKEN = datetime(2021, 5, 6, 7, 8, 9, 123000)

# ------------------------------------------------------------------ helpers: a tiny TIFF/EXIF builder


def ascii_(text: str) -> tuple[int, int, bytes]:
    raw = text.encode() + b"\x00"
    return 2, len(raw), raw


def short(*values: int, e: str = "<") -> tuple[int, int, bytes]:
    return 3, len(values), struct.pack(f"{e}{len(values)}H", *values)


def long_(*values: int, e: str = "<") -> tuple[int, int, bytes]:
    return 4, len(values), struct.pack(f"{e}{len(values)}I", *values)


def rational(*pairs: tuple[int, int], e: str = "<") -> tuple[int, int, bytes]:
    flat = [x for pair in pairs for x in pair]
    return 5, len(pairs), struct.pack(f"{e}{len(flat)}I", *flat)


def build_tiff(
    dirs: dict[str, dict[int, tuple]],
    *,
    e: str = "<",
    magic: int = 42,
    header_extra: bytes = b"",
    next_of: dict[str, int] | None = None,
    pointer_override: dict[int, int] | None = None,
) -> bytes:
    """Lay out IFD0, EXIF and GPS directories (in that order) with their values after each.

    Entries are tag -> (type, count, raw value bytes) or tag -> ("raw", type, count, value field) for
    hand-made broken fields. ExifIFD/GPSIFD pointers are added to IFD0 unless ``pointer_override``
    gives their value.
    """
    order = [k for k in ("IFD0", "EXIF", "GPS") if k in dirs]
    dirs = {k: dict(v) for k, v in dirs.items()}
    pointers = {"EXIF": 0x8769, "GPS": 0x8825}
    auto = [kind for kind in order[1:] if pointers[kind] not in dirs["IFD0"]]
    for kind in auto:
        dirs["IFD0"][pointers[kind]] = ("raw", 4, 1, 0)  # placeholder, fixed below
    start = 8 + len(header_extra)
    sizes = {}
    for kind in order:
        n = len(dirs[kind])
        data = sum(
            len(v[2]) + (len(v[2]) & 1) for v in dirs[kind].values() if v[0] != "raw" and len(v[2]) > 4
        )
        sizes[kind] = 2 + 12 * n + 4 + data
    offsets = {}
    pos = start
    for kind in order:
        offsets[kind] = pos
        pos += sizes[kind]
    for kind in auto:
        value = (pointer_override or {}).get(pointers[kind], offsets[kind])
        dirs["IFD0"][pointers[kind]] = ("raw", 4, 1, value)
    out = bytearray((b"II" if e == "<" else b"MM") + struct.pack(e + "HI", magic, start) + header_extra)
    for kind in order:
        entries = sorted(dirs[kind].items())
        data_at = offsets[kind] + 2 + 12 * len(entries) + 4
        table, data = bytearray(struct.pack(e + "H", len(entries))), bytearray()
        for tag_id, spec in entries:
            if spec[0] == "raw":
                _, type_id, count, field = spec
                table += struct.pack(e + "HHII", tag_id, type_id, count, field)
                continue
            type_id, count, raw = spec
            if len(raw) <= 4:
                table += struct.pack(e + "HHI", tag_id, type_id, count) + raw.ljust(4, b"\x00")
            else:
                table += struct.pack(e + "HHII", tag_id, type_id, count, data_at + len(data))
                data += raw + (b"\x00" if len(raw) & 1 else b"")
        table += struct.pack(e + "I", (next_of or {}).get(kind, 0))
        out += table + data
    return bytes(out)


def standard_dirs(lat=(46, 35, 34.8), lon=(7, 2, 3), lat_ref="N", lon_ref="E") -> dict[str, dict[int, tuple]]:
    return {
        "IFD0": {0x010F: ascii_("Maker"), 0x0110: ascii_("Model X"), 0x0112: short(3)},
        "EXIF": {
            0x9003: ascii_("2019:12:31 23:59:58"),
            0x9291: ascii_("25"),
            0x9011: ascii_("-05:30"),
            0xA431: ascii_("BODY123"),
        },
        "GPS": {
            0x0001: ascii_(lat_ref),
            0x0002: rational(*[(round(v * 100), 100) for v in lat]),
            0x0003: ascii_(lon_ref),
            0x0004: rational(*[(round(v * 100), 100) for v in lon]),
            0x0005: (1, 1, b"\x01"),
            0x0006: rational((1234, 10)),
        },
    }


def plain_jpeg(size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    make_image(size).save(buf, "JPEG", quality=70)
    return buf.getvalue()


def jpeg_with_app1(payload: bytes, size=(64, 48)) -> bytes:
    """A real JPEG with ``payload`` inserted as APP1 right after SOI."""
    base = plain_jpeg(size)
    return base[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + base[2:]


def exif_jpeg(tmp_path: Path, tiff: bytes, name: str = "x.jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(jpeg_with_app1(b"Exif\x00\x00" + tiff))
    return path


def read_fast(path: Path):
    """read_metadata, asserting it is quick (no hang, no runaway loop)."""
    start = time.perf_counter()
    try:
        return read_metadata(path)
    finally:
        assert time.perf_counter() - start < 2.0


# ------------------------------------------------------------------ contract


def test_supported_extensions_cover_the_issue_list():
    wanted = ".jpg .jpeg .jpe .png .tif .tiff .webp .heic .heif .cr2 .cr3 .nef .arw .dng .orf .rw2 .raf"
    assert set(wanted.split()) <= SUPPORTED_EXTENSIONS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in SUPPORTED_EXTENSIONS)


def test_tag_table_has_the_gps_tags_the_writer_needs():
    ids = {
        "GPSVersionID": 0,
        "GPSLatitudeRef": 1,
        "GPSLatitude": 2,
        "GPSLongitudeRef": 3,
        "GPSLongitude": 4,
        "GPSAltitudeRef": 5,
        "GPSAltitude": 6,
        "GPSMapDatum": 0x12,
        "GPSHPositioningError": 0x1F,
    }
    for name, tag_id in ids.items():
        assert BY_NAME[name].tag_id == tag_id and BY_NAME[name].ifd == GPS
    assert BY_NAME["GPSLatitude"].xmp == "exif:GPSLatitude"


# ------------------------------------------------------------------ generated photos


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".heic"])
def test_generated_photo_round_trip(tmp_path: Path, suffix: str):
    path = make_photo(
        tmp_path / f"p{suffix}",
        size=(320, 200),
        lat=-33.865143,
        lon=151.2099,
        alt=-12.5,
        taken=TAKEN,
        offset="+10:00",
        serial="SN-42",
        orientation=6,
    )
    meta = read_fast(path)
    assert meta.format == {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".heic": "HEIF"}[suffix]
    assert (meta.width, meta.height) == (320, 200)
    assert meta.orientation == 6
    assert meta.taken_at == TAKEN
    assert meta.taken_offset_min == 600
    assert (meta.camera_make, meta.camera_model, meta.camera_serial) == ("TestCam", "T1", "SN-42")
    assert meta.gps_lat == pytest.approx(-33.865143, abs=1e-6)
    assert meta.gps_lon == pytest.approx(151.2099, abs=1e-6)
    assert meta.gps_alt == pytest.approx(-12.5)
    assert meta.gps_source == "exif"
    assert meta.warnings == []


def test_generated_tiff_and_photo_without_gps(tmp_path: Path):
    meta = read_fast(make_photo(tmp_path / "p.tif", size=(90, 70), taken=TAKEN, orientation=8))
    assert (meta.format, meta.width, meta.height, meta.orientation) == ("TIFF", 90, 70, 8)
    assert meta.taken_at == TAKEN.replace(microsecond=0)  # Pillow's TIFF writer keeps only IFD0 DateTime
    meta = read_fast(make_photo(tmp_path / "n.jpg", taken=TAKEN))
    assert meta.gps_lat is None and meta.gps_source is None and meta.taken_offset_min is None


def test_crafted_tiff_with_exif_and_gps_in_both_byte_orders(tmp_path: Path):
    for e in "<>":
        dirs = standard_dirs()
        if e == ">":  # rebuild multi-byte values big-endian
            dirs["IFD0"][0x0112] = short(3, e=e)
            for tag, pairs in (
                (2, [(4600, 100), (3500, 100), (3480, 100)]),
                (4, [(700, 100), (200, 100), (300, 100)]),
            ):
                dirs["GPS"][tag] = rational(*pairs, e=e)
            dirs["GPS"][6] = rational((1234, 10), e=e)
        tiff = build_tiff(
            {**dirs, "IFD0": {**dirs["IFD0"], 0x0100: long_(640, e=e), 0x0101: long_(480, e=e)}}, e=e
        )
        path = tmp_path / f"c{ord(e)}.tif"
        path.write_bytes(tiff)
        meta = read_fast(path)
        assert (meta.format, meta.width, meta.height, meta.orientation) == ("TIFF", 640, 480, 3)
        assert meta.taken_at == datetime(2019, 12, 31, 23, 59, 58, 250000)
        assert meta.taken_offset_min == -330
        assert meta.camera_serial == "BODY123"
        assert meta.gps_lat == pytest.approx(46 + 35 / 60 + 34.8 / 3600, abs=1e-9)
        assert meta.gps_lon == pytest.approx(7 + 2 / 60 + 3 / 3600, abs=1e-9)
        assert meta.gps_alt == pytest.approx(-123.4)  # AltitudeRef 1 = below sea level


def test_southern_western_refs_and_time_fallbacks(tmp_path: Path):
    dirs = standard_dirs(lat_ref="S", lon_ref="W")
    del dirs["EXIF"][0x9003]
    dirs["EXIF"][0x9004] = ascii_("2018:01:02 03:04:05")  # CreateDate
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs)))
    assert meta.gps_lat < 0 and meta.gps_lon < 0
    assert meta.taken_at == datetime(2018, 1, 2, 3, 4, 5)
    dirs["EXIF"] = {0x9011: ascii_("+01:00")}
    dirs["IFD0"][0x0132] = ascii_("2017:07:08 09:10:11")  # DateTime only
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs), "b.jpg"))
    assert meta.taken_at == datetime(2017, 7, 8, 9, 10, 11)


def test_serial_number_from_nikon_and_canon_maker_notes(tmp_path: Path):
    dirs = standard_dirs()
    del dirs["EXIF"][0xA431]
    nikon_tiff = build_tiff({"IFD0": {0x001D: ascii_("N-7654321")}})
    dirs["EXIF"][0x927C] = (7, 10 + len(nikon_tiff), b"Nikon\x00\x02\x10\x00\x00" + nikon_tiff)
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs)))
    assert meta.camera_serial == "N-7654321" and meta.warnings == []
    # Canon: the MakerNote is a bare directory whose offsets count from the EXIF TIFF header
    dirs = standard_dirs()
    del dirs["EXIF"][0xA431]
    dirs["IFD0"][0x010F] = ascii_("Canon")
    dirs["EXIF"][0x927C] = ("raw", 7, 18, 0)  # placeholder to size the layout
    probe = build_tiff(dirs)
    note = struct.pack("<H", 1) + struct.pack("<HHII", 0x000C, 4, 1, 1234567) + b"\x00" * 4
    dirs["EXIF"][0x927C] = ("raw", 7, len(note), len(probe))
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs) + note, "c.jpg"))
    assert meta.camera_serial == "1234567" and meta.camera_make == "Canon"


# ------------------------------------------------------------------ broken EXIF: warnings, never crashes


def test_ifd_loops_are_cut(tmp_path: Path):
    dirs = standard_dirs()
    looped = build_tiff(dirs, next_of={"IFD0": 8})  # IFD0's next directory is itself
    meta = read_fast(exif_jpeg(tmp_path, looped))
    assert meta.gps_lat is not None and any("loop" in w for w in meta.warnings)
    to_self = build_tiff(dirs, pointer_override={0x8769: 8})  # ExifIFD points back at IFD0
    meta = read_fast(exif_jpeg(tmp_path, to_self, "b.jpg"))
    assert meta.camera_make == "Maker" and any("loop" in w for w in meta.warnings)


def test_huge_counts_and_offsets_past_the_end(tmp_path: Path):
    dirs = standard_dirs()
    dirs["IFD0"][0x010F] = ("raw", 2, 0x7FFFFFFF, 100)  # Make claiming 2 GB
    dirs["EXIF"][0x9003] = ("raw", 2, 20, 0xFFFFFF00)  # value offset past the end
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs)))
    assert meta.camera_make is None and meta.taken_at is None
    assert meta.gps_lat is not None and meta.width == 64
    assert any("Make" in w for w in meta.warnings) and any("DateTimeOriginal" in w for w in meta.warnings)
    far = build_tiff(standard_dirs(), pointer_override={0x8825: 0x7FFFFFF0})  # GPS IFD past the end
    meta = read_fast(exif_jpeg(tmp_path, far, "b.jpg"))
    assert meta.gps_lat is None and meta.camera_make == "Maker"
    assert any("outside" in w for w in meta.warnings)
    entries = bytearray(build_tiff(standard_dirs()))
    struct.pack_into("<H", entries, 8, 0xFFFF)  # IFD0 claims 65535 entries
    meta = read_fast(exif_jpeg(tmp_path, bytes(entries), "c.jpg"))
    assert meta.width == 64 and any("65535" in w for w in meta.warnings)


def test_zero_denominators_and_empty_rationals(tmp_path: Path):
    dirs = standard_dirs()
    dirs["GPS"][0x0002] = rational((46, 1), (35, 0), (0, 1))
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs)))
    assert meta.gps_lat is None and meta.gps_lon is None
    assert any("zero denominator" in w for w in meta.warnings)
    dirs["GPS"][0x0002] = rational((0, 0), (0, 0), (0, 0))
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs), "b.jpg"))
    assert meta.gps_lat is None and any("0/0" in w for w in meta.warnings)


def test_wrong_types_and_bad_values(tmp_path: Path):
    dirs = standard_dirs()
    dirs["GPS"][0x0002] = ascii_("46.5")  # latitude as text
    dirs["IFD0"][0x0112] = ascii_("up")  # orientation as text
    dirs["EXIF"][0x9003] = short(2019)  # date as a number
    dirs["EXIF"][0x9004] = ascii_("2019:13:45 99:00:00")  # impossible date
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs)))
    assert meta.gps_lat is None and meta.orientation is None and meta.taken_at is None
    assert meta.camera_make == "Maker"
    assert len(meta.warnings) >= 3
    dirs = standard_dirs()
    dirs["GPS"][0x0002] = rational((46, 1), (3558, 100))  # degrees + decimal minutes only
    dirs["GPS"][0x0004] = rational((7034, 1000))  # decimal degrees only
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs), "short.jpg"))
    assert meta.gps_lat == pytest.approx(46.593) and meta.gps_lon == pytest.approx(7.034)
    dirs = standard_dirs(lat=(0, 0, 0), lon=(0, 0, 0))  # what receivers without a fix write
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs), "z.jpg"))
    assert meta.gps_lat is None and any("0, 0" in w for w in meta.warnings)
    dirs = standard_dirs(lat=(95, 0, 0))  # out of range
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs), "b.jpg"))
    assert meta.gps_lat is None and any("out of range" in w for w in meta.warnings)
    bad_pointer = standard_dirs()
    bad_pointer["IFD0"][0x8769] = ascii_("not a pointer")
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(bad_pointer), "c.jpg"))
    assert meta.taken_at is None and any("ExifIFD" in w for w in meta.warnings)
    dirs = standard_dirs()
    dirs["GPS"][0x0002] = (99, 3, b"\x00" * 24)  # unknown TIFF type
    meta = read_fast(exif_jpeg(tmp_path, build_tiff(dirs), "d.jpg"))
    assert meta.gps_lat is None and any("unknown type" in w for w in meta.warnings)


def test_garbage_exif_block_keeps_the_image_readable(tmp_path: Path):
    for i, payload in enumerate(
        [b"Exif\x00\x00", b"Exif\x00\x00XX\x00\x2a", b"Exif\x00\x00II*\x00\xff\xff\xff\x7f"]
    ):
        path = tmp_path / f"g{i}.jpg"
        path.write_bytes(jpeg_with_app1(payload))
        meta = read_fast(path)
        assert meta.format == "JPEG" and meta.width == 64


# ------------------------------------------------------------------ not images: MetadataError


def _expect_error(path: Path, fragment: str) -> None:
    with pytest.raises(MetadataError) as info:
        read_fast(path)
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_files_that_are_not_images(tmp_path: Path):
    (tmp_path / "zero.jpg").write_bytes(b"")
    _expect_error(tmp_path / "zero.jpg", "empty")
    (tmp_path / "text.jpg").write_text("this is not a photo\n" * 20)
    _expect_error(tmp_path / "text.jpg", "text")
    (tmp_path / "noise.jpg").write_bytes(bytes(range(256)) * 4)
    _expect_error(tmp_path / "noise.jpg", "not an image")
    (tmp_path / "page.jpg").write_text("<!DOCTYPE html><html><body>Ÿ 404 not found</body></html>")
    _expect_error(tmp_path / "page.jpg", "text")
    buf = io.BytesIO()
    make_image((8, 8)).save(buf, "GIF")
    (tmp_path / "anim.jpg").write_bytes(buf.getvalue())
    _expect_error(tmp_path / "anim.jpg", "GIF")
    jpeg = jpeg_with_app1(b"Exif\x00\x00" + build_tiff(standard_dirs()))
    (tmp_path / "cut.jpg").write_bytes(jpeg[:100])  # truncated inside the EXIF segment
    _expect_error(tmp_path / "cut.jpg", "truncated")
    (tmp_path / "folder.jpg").mkdir()
    _expect_error(tmp_path / "folder.jpg", "folder")
    _expect_error(tmp_path / "missing.jpg", "cannot read")
    png = io.BytesIO()
    make_image((8, 8)).save(png, "PNG")
    (tmp_path / "cut.png").write_bytes(png.getvalue()[:20])
    _expect_error(tmp_path / "cut.png", "PNG")
    (tmp_path / "cut.heic").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
    _expect_error(tmp_path / "cut.heic", "HEIF")


def test_truncated_after_the_header_is_still_readable(tmp_path: Path):
    full = make_photo(tmp_path / "full.jpg", size=(400, 300), lat=1.5, lon=2.5, taken=TAKEN).read_bytes()
    (tmp_path / "half.jpg").write_bytes(full[: len(full) // 2])
    meta = read_fast(tmp_path / "half.jpg")
    assert (meta.width, meta.gps_lat, meta.taken_at) == (400, pytest.approx(1.5), TAKEN)


@pytest.mark.parametrize("suffix", [".png", ".webp", ".heic"])
def test_truncated_image_data_gives_a_warning(tmp_path: Path, suffix: str):
    full = make_photo(tmp_path / f"full{suffix}", size=(300, 200), lat=1.5, lon=2.5).read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(full[: len(full) - 200])
    meta = read_fast(cut)
    assert meta.width == 300 and any("truncated" in w for w in meta.warnings)
    assert read_fast(tmp_path / f"full{suffix}").warnings == []


def test_decompression_bomb_sizes_are_refused(tmp_path: Path):
    ihdr = struct.pack(">II5B", 100_000, 100_000, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 4
    (tmp_path / "bomb.png").write_bytes(png + b"\x00\x00\x00\x00IEND\xaeB`\x82")
    _expect_error(tmp_path / "bomb.png", "too large")
    jpeg = bytearray(plain_jpeg())
    sof = jpeg.find(b"\xff\xc0")
    struct.pack_into(">HH", jpeg, sof + 5, 65000, 65000)
    (tmp_path / "bomb.jpg").write_bytes(bytes(jpeg))
    _expect_error(tmp_path / "bomb.jpg", "too large")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import os

    path = make_photo(tmp_path / "locked.jpg")
    if os.name == "posix" and os.geteuid() != 0:
        path.chmod(0)
        try:
            _expect_error(path, "Permission denied")
        finally:
            path.chmod(0o644)
    else:  # root reads everything: simulate the refusal at the one place files are opened

        def refuse(*_args, **_kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("geotagger.metadata.tiff.os.open", refuse)
        _expect_error(path, "Permission denied")


def test_fifo_named_jpg_does_not_block(tmp_path: Path):
    import os

    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    os.mkfifo(tmp_path / "pipe.jpg")
    _expect_error(tmp_path / "pipe.jpg", "not a regular file")


# ------------------------------------------------------------------ RAW containers (metadata only)


def _raw_dirs() -> dict[str, dict[int, tuple]]:
    dirs = standard_dirs()
    dirs["IFD0"][0x0100] = long_(160)
    dirs["IFD0"][0x0101] = long_(120)
    return dirs


def test_tiff_based_raw_formats(tmp_path: Path):
    cr2 = build_tiff(_raw_dirs(), header_extra=b"CR\x02\x00\x00\x00\x00\x00")
    orf = build_tiff(_raw_dirs(), magic=0x4F52)
    rw2_dirs = standard_dirs()  # Panasonic: sensor size in IFD0 tags 2 and 3, no ImageWidth
    rw2_dirs["IFD0"][0x0002], rw2_dirs["IFD0"][0x0003] = short(5184), short(3888)
    rw2 = build_tiff(rw2_dirs, magic=0x55)
    for name, data, fmt in (
        ("a.CR2", cr2, "RAW:CR2"),
        ("b.orf", orf, "RAW:ORF"),
        ("c.rw2", rw2, "RAW:RW2"),
        ("d.NEF", build_tiff(_raw_dirs()), "RAW:NEF"),
        ("e.dng", build_tiff(_raw_dirs()), "RAW:DNG"),
        ("f.arw", build_tiff(_raw_dirs()), "RAW:ARW"),
    ):
        (tmp_path / name).write_bytes(data)
        meta = read_fast(tmp_path / name)
        assert meta.format == fmt
        assert meta.taken_at == datetime(2019, 12, 31, 23, 59, 58, 250000)
        assert meta.gps_lat == pytest.approx(46.593, abs=1e-3)
        assert meta.camera_model == "Model X"
        assert (meta.width, meta.height) == ((5184, 3888) if fmt == "RAW:RW2" else (160, 120))


def test_raw_size_comes_from_the_full_resolution_sub_image(tmp_path: Path):
    """NEF/DNG: IFD0 is a thumbnail (NewSubfileType 1); the raw image sits in a SubIFD."""
    dirs = _raw_dirs()
    dirs["IFD0"][0x00FE] = long_(1)
    tiff = bytearray(build_tiff(dirs))
    sub_at = len(tiff)
    sub = struct.pack("<H", 3) + b"".join(
        struct.pack("<HHII", tag, 4, 1, value) for tag, value in ((0xFE, 0), (0x100, 6016), (0x101, 4016))
    )
    tiff += sub + b"\x00\x00\x00\x00"
    # add a SubIFDs entry by rebuilding IFD0 with it
    dirs["IFD0"][0x014A] = ("raw", 13, 1, sub_at)
    head = build_tiff(dirs)
    assert len(head) == sub_at + 12  # one more IFD0 entry shifts everything by 12 bytes
    dirs["IFD0"][0x014A] = ("raw", 13, 1, sub_at + 12)
    data = build_tiff(dirs) + sub + b"\x00\x00\x00\x00"
    (tmp_path / "x.nef").write_bytes(data)
    meta = read_fast(tmp_path / "x.nef")
    assert (meta.width, meta.height) == (6016, 4016)


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def test_cr3_metadata_boxes(tmp_path: Path):
    dirs = standard_dirs()
    cmt1 = build_tiff({"IFD0": dirs["IFD0"]})
    cmt2 = build_tiff({"IFD0": dirs["EXIF"]})  # each CMT box is a TIFF whose first IFD is that kind
    cmt4 = build_tiff({"IFD0": dirs["GPS"]})
    uuid = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
    meta_boxes = _box(b"CMT1", cmt1) + _box(b"CMT2", cmt2) + _box(b"CMT4", cmt4)
    moov = _box(b"moov", _box(b"uuid", uuid + meta_boxes))
    data = _box(b"ftyp", b"crx \x00\x00\x00\x01crx isom") + moov + _box(b"mdat", b"\x00" * 100)
    (tmp_path / "x.cr3").write_bytes(data)
    meta = read_fast(tmp_path / "x.cr3")
    assert meta.format == "RAW:CR3"
    assert meta.camera_make == "Maker" and meta.orientation == 3
    assert meta.taken_at == datetime(2019, 12, 31, 23, 59, 58, 250000) and meta.taken_offset_min == -330
    assert meta.gps_lat == pytest.approx(46.593, abs=1e-3) and meta.gps_alt == pytest.approx(-123.4)


def test_hostile_heif_tables_stay_bounded(tmp_path: Path):
    """Zero-size iloc fields (no progress per extent) and oversized ipma counts must not run away."""
    items = b"".join(struct.pack(">HHHH", i, 0, 0, 64) for i in range(4096))
    iloc = _box(b"iloc", bytes([1, 0, 0, 0, 0, 0]) + struct.pack(">H", 65535) + items)
    assoc = b"".join(struct.pack(">HB", 1, 255) + bytes(255) for _ in range(200))
    ipma = _box(b"ipma", bytes(4) + struct.pack(">I", 100000) + assoc)
    meta_box = _box(b"meta", bytes(4) + _box(b"pitm", bytes(5) + b"\x01") + iloc + _box(b"iprp", ipma))
    path = tmp_path / "hostile.heic"
    path.write_bytes(_box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + meta_box)
    start = time.perf_counter()
    meta = read_metadata(path)
    assert time.perf_counter() - start < 0.5
    assert meta.format == "HEIF" and meta.width is None and meta.warnings


def test_raf_reads_exif_of_the_embedded_preview(tmp_path: Path):
    preview = jpeg_with_app1(b"Exif\x00\x00" + build_tiff(standard_dirs()), size=(160, 120))
    header = b"FUJIFILMCCD-RAW 0201FF383501X-T3\x00".ljust(84, b"\x00")
    offset = len(header) + 8 + 12
    data = header + struct.pack(">II", offset, len(preview)) + b"\x00" * 12 + preview
    (tmp_path / "x.raf").write_bytes(data)
    meta = read_fast(tmp_path / "x.raf")
    assert meta.format == "RAW:RAF"
    assert meta.camera_model == "Model X" and meta.gps_lon == pytest.approx(7.0342, abs=1e-3)
    assert (meta.width, meta.height) == (160, 120)  # no PixelX/YDimension: the preview's size
    dirs = standard_dirs()
    dirs["EXIF"][0xA002], dirs["EXIF"][0xA003] = long_(6240), long_(4160)
    preview = jpeg_with_app1(b"Exif\x00\x00" + build_tiff(dirs), size=(160, 120))
    (tmp_path / "y.raf").write_bytes(
        header + struct.pack(">II", offset, len(preview)) + b"\x00" * 12 + preview
    )
    assert (read_fast(tmp_path / "y.raf").width, read_fast(tmp_path / "y.raf").height) == (6240, 4160)


# ------------------------------------------------------------------ XMP: sidecars and embedded


SIDECAR = """<?xml version="1.0"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"
     xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
     exif:GPSLatitude="{lat}" exif:GPSLongitude="{lon}" exif:GPSAltitude="4250/10" exif:GPSAltitudeRef="0">
   <photoshop:DateCreated>{date}</photoshop:DateCreated>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"""


def test_sidecar_supplies_gps_and_time(tmp_path: Path):
    photo = make_photo(tmp_path / "IMG_1.jpg", make=None, model=None)
    sidecar = tmp_path / "IMG_1.xmp"
    sidecar.write_text(SIDECAR.format(lat="46,35.58N", lon="7,2.05W", date="2020-05-01T12:34:56.5+02:00"))
    meta = read_fast(photo)
    assert meta.gps_source == "xmp" and meta.sidecar_path == str(sidecar)
    assert meta.gps_lat == pytest.approx(46 + 35.58 / 60) and meta.gps_lon == pytest.approx(-(7 + 2.05 / 60))
    assert meta.gps_alt == pytest.approx(425.0)
    assert meta.taken_at == datetime(2020, 5, 1, 12, 34, 56, 500000) and meta.taken_offset_min == 120
    # name.ext.xmp (upper-case too) is preferred over name.xmp; decimal coordinates work
    ext_sidecar = tmp_path / "IMG_1.jpg.XMP"
    ext_sidecar.write_text(SIDECAR.format(lat="-12.5", lon="130.25", date="2020-05-02T01:02:03Z"))
    meta = read_fast(photo)
    assert meta.sidecar_path == str(ext_sidecar)
    assert (meta.gps_lat, meta.gps_lon, meta.taken_offset_min) == (-12.5, 130.25, 0)
    names = frozenset(p.name for p in tmp_path.iterdir())
    assert read_metadata(photo, dir_names=names).sidecar_path == str(ext_sidecar)
    assert read_metadata(photo, dir_names=frozenset()).sidecar_path is None
    # with a folder listing, any letter case matches
    odd = frozenset({"img_1.JPG.Xmp"})
    assert read_metadata(photo, dir_names=odd).sidecar_path == str(tmp_path / "img_1.JPG.Xmp")


def test_embedded_exif_gps_wins_over_a_sidecar(tmp_path: Path):
    photo = make_photo(tmp_path / "a.jpg", lat=10.0, lon=20.0, taken=TAKEN)
    (tmp_path / "a.xmp").write_text(SIDECAR.format(lat="1,0N", lon="2,0E", date="2000-01-01T00:00:00"))
    meta = read_fast(photo)
    assert (meta.gps_source, meta.gps_lat, meta.taken_at) == ("exif", pytest.approx(10.0), TAKEN)
    assert meta.sidecar_path is not None


def test_bad_sidecars_give_warnings(tmp_path: Path):
    photo = make_photo(tmp_path / "a.jpg", lat=10.0, lon=20.0)
    sidecar = tmp_path / "a.xmp"
    sidecar.write_text("<x:xmpmeta><unclosed>")
    assert any("not readable XML" in w for w in read_fast(photo).warnings)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>'
    )
    sidecar.write_text(bomb)
    meta = read_fast(photo)
    assert meta.gps_lat == pytest.approx(10.0) and any("sidecar" in w for w in meta.warnings)
    sidecar.write_text(SIDECAR.format(lat="north", lon="7,2E", date="someday"))
    photo2 = make_photo(tmp_path / "b.jpg")
    (tmp_path / "b.xmp").write_text(SIDECAR.format(lat="north", lon="7,2E", date="someday"))
    meta = read_fast(photo2)
    assert meta.gps_lat is None and len(meta.warnings) == 2


def test_embedded_xmp_packet_in_jpeg(tmp_path: Path):
    packet = SIDECAR.format(lat="48,51.5N", lon="2,21.1E", date="2019-07-14T10:00:00").encode()
    path = tmp_path / "x.jpg"
    path.write_bytes(jpeg_with_app1(b"http://ns.adobe.com/xap/1.0/\x00" + packet))
    meta = read_fast(path)
    assert meta.gps_source == "xmp" and meta.gps_lat == pytest.approx(48 + 51.5 / 60)
    assert meta.taken_at == datetime(2019, 7, 14, 10, 0, 0)
    # a sidecar outranks the embedded packet
    (tmp_path / "x.xmp").write_text(SIDECAR.format(lat="1,0S", lon="2,0W", date="2001-01-01T01:01:01"))
    meta = read_fast(path)
    assert meta.gps_lat == pytest.approx(-1.0) and meta.taken_at == datetime(2001, 1, 1, 1, 1, 1)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIF", "TIFF"])
def test_embedded_xmp_in_png_webp_heif_tiff(tmp_path: Path, fmt: str):
    from PIL import PngImagePlugin

    packet = SIDECAR.format(lat="10,30N", lon="20,15E", date="2019-07-14T10:00:00")
    path = tmp_path / f"x.{fmt.lower()}"
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet)
        make_image((40, 30)).save(path, "PNG", pnginfo=info)
    elif fmt == "HEIF":  # 40 x 30 is coded as 64 x 64 and cropped by a clean-aperture box
        import pillow_heif

        pillow_heif.register_heif_opener()
        make_image((40, 30)).save(path, "HEIF", xmp=packet.encode())
    elif fmt == "TIFF":  # XMLPacket tag 700 in IFD0
        ifd0 = {0x0100: long_(40), 0x0101: long_(30), 0x02BC: (1, len(packet), packet.encode())}
        path.write_bytes(build_tiff({"IFD0": ifd0}))
    else:
        make_image((40, 30)).save(path, "WEBP", xmp=packet.encode())
    meta = read_fast(path)
    assert (meta.format, meta.width, meta.height) == (fmt, 40, 30)
    assert (
        meta.gps_source == "xmp"
        and meta.gps_lat == pytest.approx(10.5)
        and meta.gps_lon == pytest.approx(20.25)
    )


# ------------------------------------------------------------------ real camera files


def _sample_files() -> list[Path]:
    if not EXIF_SAMPLES.is_dir():
        pytest.skip("exif-samples data is absent")
    return sorted(p for p in EXIF_SAMPLES.rglob("*") if p.suffix.lower() in SUPPORTED_EXTENSIONS)


def test_every_sample_reads_without_unexpected_errors():
    files = _sample_files()
    assert len(files) > 50
    for path in files:
        try:
            meta = read_fast(path)
        except MetadataError:
            continue  # a clear refusal is allowed; anything else fails the test
        assert meta.format and meta.width and meta.height, path


# Capture times that exiftool finds in vendor-specific blocks we deliberately do not parse.
_EXOTIC_TIME_GROUPS = {"PictureInfo", "CIFF", "Reconyx", "MakerNotes", "Canon", "Nikon", "Olympus"}


def test_samples_match_exiftool_gps_and_capture_time():
    files = _sample_files()
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        pytest.skip("exiftool is not installed")
    cmd = [exiftool, "-n", "-json", "-G1", "-q", "-q", "-GPSLatitude", "-GPSLongitude", "-DateTimeOriginal"]
    cmd += ["-SerialNumber", "-ImageWidth", "-ImageHeight"]
    out = subprocess.run([*cmd, *map(str, files)], capture_output=True, text=True, timeout=120, check=False)
    records = {Path(r["SourceFile"]).resolve(): r for r in json.loads(out.stdout or "[]")}
    checked_gps = checked_time = 0
    for path in files:
        record = records.get(path.resolve())
        assert record is not None, path
        try:
            meta = read_metadata(path)
        except MetadataError:
            pytest.fail(f"{path.name}: exiftool reads it, we refused it")
        # Composite (signed by the refs) first; XMP values are signed already.
        lat = record.get("Composite:GPSLatitude", record.get("XMP-exif:GPSLatitude"))
        lon = record.get("Composite:GPSLongitude", record.get("XMP-exif:GPSLongitude"))
        if isinstance(lat, float | int) and isinstance(lon, float | int):
            assert meta.gps_lat == pytest.approx(lat, abs=1e-5), path.name
            assert meta.gps_lon == pytest.approx(lon, abs=1e-5), path.name
            checked_gps += 1
        else:
            assert meta.gps_lat is None, path.name
        serial = record.get("ExifIFD:SerialNumber", record.get("Nikon:SerialNumber"))
        if serial is not None:
            assert meta.camera_serial == str(serial), path.name
        group = "File" if "File:ImageWidth" in record or meta.format != "TIFF" else "IFD0"
        width, height = record.get(f"{group}:ImageWidth"), record.get(f"{group}:ImageHeight")
        if isinstance(width, int) and isinstance(height, int):  # JPEG SOF / PNG IHDR ... size
            assert (meta.width, meta.height) == (width, height), path.name
        times = {k.split(":")[0]: str(v) for k, v in record.items() if k.endswith(":DateTimeOriginal")}
        want = times.get("ExifIFD") or times.get("XMP-exif")
        if want is None:
            assert set(times) <= _EXOTIC_TIME_GROUPS, (path.name, times)
            continue
        assert meta.taken_at is not None, path.name
        assert meta.taken_at.strftime("%Y:%m:%d %H:%M:%S") == want[:19], path.name
        checked_time += 1
    assert checked_gps >= 10 and checked_time >= 50
