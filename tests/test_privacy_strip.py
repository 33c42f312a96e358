"""`export --location strip|city`: no carrier of the precise location survives in a copy (issue #10, 3-4).

Each carrier is built the way other tools leave it; exiftool (with the thumbnail and the MPF second image
piped back into it) is the independent reader, and the copy's bytes are searched for the original
coordinate as rationals and as decimal text.
"""

from __future__ import annotations

import os
import random
import shutil
import zlib
from pathlib import Path

import pytest

from geotagger.export import exporter
from geotagger.export.scan import scan_bytes
from geotagger.export.strip import strip_bytes, strip_gps
from geotagger.services import exporting, indexing
from tests import privacy_fixtures as fx
from tests.factories import EXIF_SAMPLES, make_image

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
TRIALS = int(os.environ.get("GEOTAGGER_TRIALS", "8"))


def _png(folder: Path, name: str, *chunks: tuple[bytes, bytes]) -> Path:
    path = folder / name
    path.write_bytes(fx.png_with_chunks(*chunks))
    return path


def _jpeg(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _raw_exif() -> bytes:
    return fx.raw_profile("exif", b"Exif\x00\x00" + fx.exif_block())


def _iptc_ext(folder: Path) -> Path:
    path = _jpeg(folder, "iptc_ext.jpg", fx.plain_jpeg())
    fx.exiftool_write(
        path,
        "-XMP-iptcExt:LocationShownCity=Paris",
        "-XMP-iptcExt:LocationShownSublocation=Tour Eiffel",
        f"-XMP-iptcExt:LocationShownGPSLatitude={fx.LAT}",
        f"-XMP-iptcExt:LocationShownGPSLongitude={fx.LON}",
        f"-XMP-iptcExt:LocationCreatedGPSLatitude={fx.LAT}",
        "-XMP-iptcExt:LocationCreatedCountryName=France",
    )
    return path


def _heic(folder: Path, name: str, exif: bytes | None = None) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = folder / name
    make_image((64, 48)).save(path, "HEIF", **({"exif": exif} if exif else {}))
    return path


def _webp(folder: Path) -> Path:
    path = folder / "exif.webp"
    make_image((64, 48)).save(path, "WEBP", exif=b"Exif\x00\x00" + fx.exif_block(endian="<"))
    return path


def _saved(path: Path, fmt: str, **metadata: bytes) -> Path:
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    make_image((64, 48)).save(path, fmt, **metadata)
    return path


def _with_sidecar(path: Path, packet: bytes) -> Path:
    path.with_name(path.name + ".xmp").write_bytes(packet)
    return path


def _thumb_with_gps() -> bytes:
    return fx.insert_segments(fx.plain_jpeg((64, 48), 70), fx.exif_app1(fx.exif_block()))


CARRIERS = {
    "tiff-exif-xmp-iptc": lambda d: fx.tiff_with_gps(d / "exif.tif"),
    "png-raw-exif-tEXt": lambda d: _png(
        d, "raw_text.png", (b"tEXt", b"Raw profile type exif\x00" + _raw_exif())
    ),
    "png-raw-exif-zTXt": lambda d: _png(
        d, "raw_z.png", (b"zTXt", b"Raw profile type exif\x00\x00" + zlib.compress(_raw_exif()))
    ),
    "png-raw-exif-iTXt": lambda d: _png(
        d, "raw_i.png", (b"iTXt", b"Raw profile type exif\x00\x00\x00\x00\x00" + _raw_exif())
    ),
    "png-xmp-compressed-iTXt": lambda d: _png(
        d, "xmp_z.png", (b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(fx.EXIF_XMP))
    ),
    "png-xmp-tEXt": lambda d: _png(d, "xmp_t.png", (b"tEXt", b"XML:com.adobe.xmp\x00" + fx.EXIF_XMP)),
    "jpeg-drone-dji-xmp": lambda d: _jpeg(
        d, "dji.jpg", fx.insert_segments(fx.plain_jpeg(), fx.xmp_app1(fx.DRONE_XMP))
    ),
    "drone-dji-sidecar": lambda d: _with_sidecar(_jpeg(d, "dji_side.jpg", fx.plain_jpeg()), fx.DRONE_XMP),
    "jpeg-iptc-ext-structures": _iptc_ext,
    "jpeg-iptc-iim": lambda d: _jpeg(
        d,
        "iim.jpg",
        fx.insert_segments(
            fx.plain_jpeg(), fx.segment(0xED, b"Photoshop 3.0\x00" + fx.iptc_irb(fx.PLACE_DATASETS))
        ),
    ),
    "jpeg-ifd1-gps": lambda d: _jpeg(
        d,
        "ifd1.jpg",
        fx.insert_segments(
            fx.plain_jpeg(),
            fx.exif_app1(fx.exif_block(gps=False, ifd1_gps=True, thumbnail=fx.plain_jpeg((64, 48), 70))),
        ),
    ),
    "jpeg-thumbnail-own-gps": lambda d: _jpeg(
        d,
        "thumb.jpg",
        fx.insert_segments(
            fx.plain_jpeg(), fx.exif_app1(fx.exif_block(gps=False, thumbnail=_thumb_with_gps()))
        ),
    ),
    "jpeg-mpf-second-image": lambda d: _jpeg(
        d,
        "mpf.jpg",
        fx.with_mpf(
            fx.insert_segments(fx.plain_jpeg(), fx.exif_app1(fx.exif_block(gps=False))),
            fx.insert_segments(fx.plain_jpeg((160, 120)), fx.exif_app1(fx.exif_block())),
        ),
    ),
    "jpeg-orphaned-gps-ifd": lambda d: _jpeg(
        d, "orphan.jpg", fx.insert_segments(fx.plain_jpeg(), fx.exif_app1(fx.exif_block(orphan=True)))
    ),
    "webp-exif": _webp,
    "webp-xmp": lambda d: _saved(d / "xmp.webp", "WEBP", xmp=fx.EXIF_XMP),
    "png-eXIf": lambda d: _saved(d / "exif_chunk.png", "PNG", exif=b"Exif\x00\x00" + fx.exif_block()),
    "heic-xmp": lambda d: _saved(d / "xmp.heic", "HEIF", xmp=fx.EXIF_XMP),
    "jpeg-extended-xmp": lambda d: _jpeg(
        d, "extended.jpg", fx.insert_segments(fx.plain_jpeg(), *fx.extended_xmp_segments(fx.EXIF_XMP))
    ),
    "heic-exif": lambda d: _heic(d, "exif.heic", b"Exif\x00\x00" + fx.exif_block()),
    "heic-sidecar-only": lambda d: _with_sidecar(_heic(d, "side.heic"), fx.EXIF_XMP),
}


def _export(library, tmp_path: Path, carrier: str, mode: str):
    photos = tmp_path / "photos"
    photos.mkdir()
    original = CARRIERS[carrier](photos)
    sidecar = original.with_name(original.name + ".xmp")
    before = fx.exiftool_locations(sidecar if sidecar.exists() else original)
    assert before, f"fixture {carrier} carries no location exiftool reads"
    indexing.index(library, [photos], workers=0)
    report = exporting.export(library, tmp_path / "out", filter="all", location=mode)
    assert report.skipped == [] and len(report.items) == 1, report.skipped
    copy = report.folder / report.items[0].dest_name
    sidecar = copy.with_name(copy.name + ".xmp")
    return copy, [p for p in (copy, sidecar) if p.exists()]


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_strip_leaves_no_location_in_any_carrier(library, tmp_path: Path, carrier: str) -> None:
    _copy, files = _export(library, tmp_path, carrier, "strip")
    for path in files:
        assert fx.exiftool_locations(path) == {}, path.name
        assert fx.leaked_bytes(path) == [], path.name


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_city_keeps_no_precise_coordinate(library, tmp_path: Path, carrier: str) -> None:
    _copy, files = _export(library, tmp_path, carrier, "city")
    for path in files:
        found = fx.exiftool_locations(path)
        for key, value in found.items():
            if "Latitude" in key and isinstance(value, float):
                assert abs(value - fx.LAT) > 1e-3, (path.name, key)
            if "Longitude" in key and isinstance(value, float):
                assert abs(value - fx.LON) > 1e-3, (path.name, key)
        assert not any("Eiffel" in str(v) for v in found.values()), found
        assert fx.leaked_bytes(path) == [], path.name


def test_tiff_strip_really_writes_the_stripped_file(tmp_path: Path) -> None:
    """Item 3: the stripped TIFF block was computed and the unchanged bytes returned."""
    path = fx.tiff_with_gps(tmp_path / "a.tif")
    assert strip_gps(path) is True
    assert fx.exiftool_locations(path) == {}
    assert strip_gps(path) is False


def test_a_copy_that_keeps_a_location_is_skipped_with_a_reason(library, tmp_path: Path, monkeypatch) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    CARRIERS["jpeg-iptc-iim"](photos)
    indexing.index(library, [photos], workers=0)
    monkeypatch.setattr(exporter, "strip_gps", lambda path: False)  # a stripper that misses a carrier
    report = exporting.export(library, tmp_path / "out", filter="all", location="strip")
    assert report.items == [] and len(report.skipped) == 1
    assert "location is left in the copy" in report.skipped[0][1] and "City" in report.skipped[0][1]
    assert list((report.folder).iterdir()) == []


def _random_jpeg(rng: random.Random) -> tuple[bytes, list[str]]:
    endian = rng.choice("<>")
    chosen = [
        c for c in ("gps", "orphan", "ifd1", "thumb", "drone", "xmp", "iim", "mpf") if rng.random() < 0.5
    ]
    tiff = fx.exif_block(
        gps="gps" in chosen,
        ifd1_gps="ifd1" in chosen,
        thumbnail=_thumb_with_gps() if "thumb" in chosen else None,
        orphan="orphan" in chosen,
        endian=endian,
    )
    segments = [fx.exif_app1(tiff)]
    if "drone" in chosen:
        segments.append(fx.xmp_app1(fx.DRONE_XMP))
    if "xmp" in chosen and "drone" not in chosen:
        segments.append(fx.xmp_app1(fx.EXIF_XMP))
    if "iim" in chosen:
        segments.append(fx.segment(0xED, b"Photoshop 3.0\x00" + fx.iptc_irb(fx.PLACE_DATASETS)))
    rng.shuffle(segments)
    data = fx.insert_segments(fx.plain_jpeg((rng.randrange(16, 400), rng.randrange(16, 300))), *segments)
    if "mpf" in chosen:
        second = fx.insert_segments(fx.plain_jpeg((80, 60)), fx.exif_app1(fx.exif_block(endian=endian)))
        data = fx.with_mpf(data, second)
    return data, chosen


def test_random_carrier_mixes_are_stripped(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("GEOTAGGER_SEED", "10")))
    for trial in range(TRIALS):
        data, chosen = _random_jpeg(rng)
        new, _found = strip_bytes(data, ".jpg")
        assert len(new) == len(data)  # in place: thumbnails' and MPF images' offsets stay valid
        path = tmp_path / f"trial{trial}.jpg"
        path.write_bytes(new)
        assert fx.exiftool_locations(path) == {}, chosen
        assert fx.leaked_bytes(path) == [], chosen
        assert scan_bytes(new) == [], chosen


def _samples() -> list[Path]:
    if not EXIF_SAMPLES.is_dir():
        return []
    suffixes = {".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".heif"}
    return sorted(p for p in EXIF_SAMPLES.rglob("*") if p.suffix.lower() in suffixes and p.is_file())


def test_strip_export_of_every_camera_sample(library, tmp_path: Path) -> None:
    samples = _samples()
    if not samples:
        pytest.skip("shared exif samples absent")
    photos = tmp_path / "photos"
    for i, sample in enumerate(samples):
        target = photos / f"{i:03d}_{sample.name}"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(sample, target)
    indexing.index(library, [photos], workers=0)
    report = exporting.export(library, tmp_path / "out", filter="all", location="strip")
    copies = [report.folder / item.dest_name for item in report.items]
    found = fx.exiftool_locations_many(copies, tmp_path / "embedded")
    assert {path.name: tags for path, tags in found.items() if tags} == {}
    for path, reason in report.skipped:
        assert reason.strip() and "\n" not in reason, path
    print(f"{len(report.items)} exported, {len(report.skipped)} skipped: {report.skipped}")


@pytest.mark.parametrize("mode", ["strip", "city"])
def test_old_position_after_accept_force_and_write_is_not_exported(
    library, tmp_path: Path, mode: str
) -> None:
    """An in-place write appends a new GPS directory; the old one may stay in the file as rationals."""
    from geotagger.services import decisions, writing

    photos = tmp_path / "photos"
    photos.mkdir()
    original = _jpeg(photos, "moved.jpg", fx.insert_segments(fx.plain_jpeg(), fx.exif_app1(fx.exif_block())))
    indexing.index(library, [photos], workers=0)
    decisions.accept(library, str(original), lat=46.5775, lon=7.9120, level="exact", force=True)
    assert writing.write(library).written == 1
    indexing.index(library, [photos], workers=0)
    report = exporting.export(library, tmp_path / "out", filter="all", location=mode)
    assert report.skipped == [] and len(report.items) == 1
    copy = report.folder / report.items[0].dest_name
    assert fx.leaked_bytes(copy) == []  # the first position, as rationals or text
    assert fx.leaked_bytes(copy, 46.5775, 7.9120) == []  # the written one
    found = fx.exiftool_locations(copy)
    if mode == "strip":
        assert found == {}
    else:
        assert abs(found["GPS:GPSLatitude"] - 46.5775) > 1e-3


def _warnings(folder: Path) -> dict[str, int]:
    rows = fx.json.loads(
        fx.subprocess.run(
            ["exiftool", "-json", "-q", "-q", "-validate", "-a", str(folder)], capture_output=True, text=True
        ).stdout
    )
    counts = {}
    for row in rows:  # "OK" or "2 Warnings (1 minor)"
        first = str(row.get("Validate", "OK")).split()[0]
        counts[Path(row["SourceFile"]).name] = int(first) if first.isdigit() else 0
    return counts


def test_stripping_camera_samples_adds_no_warning_and_decodes(tmp_path: Path) -> None:
    """In-place stripping keeps every structure valid: exiftool -validate counts never grow."""
    samples = _samples()
    if not samples:
        pytest.skip("shared exif samples absent")
    before, after = tmp_path / "before", tmp_path / "after"
    before.mkdir()
    after.mkdir()
    for i, sample in enumerate(samples):
        shutil.copyfile(sample, before / f"{i:03d}_{sample.name}")
        shutil.copyfile(sample, after / f"{i:03d}_{sample.name}")
    changed = [p for p in sorted(after.iterdir()) if strip_gps(p)]
    assert changed and all(scan_bytes(p.read_bytes()) == [] for p in after.iterdir())
    old, new = _warnings(before), _warnings(after)
    assert {name: (old[name], n) for name, n in new.items() if n > old[name]} == {}
    for path in changed:
        if path.suffix.lower() in (".heic", ".heif"):
            import pillow_heif

            assert pillow_heif.open_heif(path).size  # still decodes


def test_tiff_pixels_that_look_like_gps_directories_are_left_alone(tmp_path: Path) -> None:
    """16-bit pixels of small values often read as a GPS entry table; only metadata is searched."""
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 40, size=(4000, 4000)).astype("<u2").tobytes()
    path = tmp_path / "dark16.tif"
    Image.frombytes("I;16", (4000, 4000), pixels).save(path)
    fx.exiftool_write(path, f"-GPSLatitude={fx.LAT}", "-GPSLatitudeRef=N", f"-GPSLongitude={fx.LON}")
    assert strip_gps(path) is True
    with Image.open(path) as image:
        assert image.tobytes() == pixels
    assert fx.exiftool_locations(path) == {}
    assert scan_bytes(path.read_bytes()) == []


def test_damaged_carriers_give_a_metadata_error_or_a_clean_copy(tmp_path: Path) -> None:
    """Seeded byte flips and truncations: stripping raises MetadataError (the photo is skipped with
    that reason) or returns bytes; the scanner never raises; never another exception."""
    from geotagger.errors import MetadataError

    seeds = []
    for name, build in CARRIERS.items():
        folder = tmp_path / name
        folder.mkdir()
        path = build(folder)
        seeds.append((path.suffix, path.read_bytes()))
    rng = random.Random(int(os.environ.get("GEOTAGGER_SEED", "10")))
    for _trial in range(TRIALS * 40):
        suffix, data = rng.choice(seeds)
        buf = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(min(len(buf), 8192))
            buf[at] = rng.choice([0, 0xFF, rng.randrange(256), buf[at] ^ (1 << rng.randrange(8))])
        if rng.random() < 0.2:
            buf = buf[: rng.randrange(len(buf))]
        scan_bytes(bytes(buf))
        try:
            new, _found = strip_bytes(bytes(buf), suffix)
        except MetadataError:
            continue
        scan_bytes(new)


def test_a_truncated_exif_block_is_reported_not_raised() -> None:
    data = fx.plain_jpeg()[:-2] + b"Exif\x00\x00MM\x00*\x00\x00"  # the header's IFD0 offset cut off
    findings = scan_bytes(data)
    assert [f.carrier for f in findings] == ["file EXIF block that cannot be read to the end"]


def test_the_original_coordinate_as_text_anywhere_keeps_the_copy_out(library, tmp_path: Path) -> None:
    """A carrier nobody strips (a JPEG comment): the byte search finds the coordinate, so the copy is
    not exported and the report says why."""
    photos = tmp_path / "photos"
    photos.mkdir()
    comment = fx.segment(0xFE, f"shot at {fx.LAT:.6f},{fx.LON:.6f}".encode())
    _jpeg(photos, "comment.jpg", fx.insert_segments(fx.plain_jpeg(), fx.exif_app1(fx.exif_block()), comment))
    indexing.index(library, [photos], workers=0)
    report = exporting.export(library, tmp_path / "out", filter="all", location="strip")
    assert report.items == [] and len(report.skipped) == 1
    assert "original coordinate" in report.skipped[0][1]
