"""The indexer: incremental rescans, moves, missing files, robustness, cancellation, thumbnails."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import unicodedata
import zlib
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select, update

import geotagger.metadata.read as metadata_read
from geotagger.catalog.schema import Photo, Suggestion
from geotagger.errors import CancelledError, MetadataError, NotFoundError, UserInputError
from geotagger.indexing.fingerprint import fingerprint
from geotagger.indexing.reading import read_many
from geotagger.indexing.walk import walk
from geotagger.progress import CancelToken, CountingProgress
from geotagger.services import indexing
from tests.factories import EXIF_SAMPLES, make_jpeg, make_photo

pytestmark = pytest.mark.catalog_backends  # SQLite and PostgreSQL (tests/conftest.py)

BERLIN = (52.520008, 13.404954)


def _rows(lib) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in indexing.list_photos(lib)}


def _index(lib, *paths, **kwargs):
    kwargs.setdefault("workers", 0)
    return indexing.index(lib, list(paths), **kwargs)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    make_jpeg(
        root / "berlin.jpg", lat=BERLIN[0], lon=BERLIN[1], alt=34.5, taken=datetime(2021, 5, 1, 12, 0, 1)
    )
    make_jpeg(root / "nogps.jpg", color=(200, 10, 10), taken=datetime(2021, 5, 1, 13, 0, 0))
    make_photo(root / "sub" / "pic.png", make="PngCam")
    make_photo(root / "sub" / "pic.tiff")  # (Pillow writes no GPS IFD into TIFF)
    make_photo(root / "sub" / "pic.webp")
    make_photo(root / "sub" / "deeper" / "pic.heic", lat=48.85, lon=2.35)
    (root / "notes.txt").write_text("not a photo")
    return root


def test_first_index_reads_every_format(library, photos: Path) -> None:
    report = _index(library, photos)
    assert (report.scanned, report.added, report.errors) == (6, 6, 0)
    rows = _rows(library)
    assert set(rows) == {"berlin.jpg", "nogps.jpg", "pic.png", "pic.tiff", "pic.webp", "pic.heic"}
    berlin = rows["berlin.jpg"]
    assert berlin["gps_lat"] == pytest.approx(BERLIN[0], abs=1e-5)
    assert berlin["gps_lon"] == pytest.approx(BERLIN[1], abs=1e-5)
    assert berlin["gps_source"] == "exif" and berlin["format"] == "JPEG"
    assert berlin["taken_at"] == "2021-05-01T12:00:01" and (berlin["width"], berlin["height"]) == (320, 240)
    assert berlin["folder"] == str(photos) and berlin["status"] == "ok" and berlin["review_state"] == "none"
    assert rows["pic.tiff"]["format"] == "TIFF" and rows["pic.png"]["camera_make"] == "PngCam"
    assert rows["pic.heic"]["gps_lon"] == pytest.approx(2.35, abs=1e-5)
    assert rows["nogps.jpg"]["gps_lat"] is None and rows["nogps.jpg"]["gps_source"] is None
    counts = indexing.status(library)
    assert counts == {
        "photos": 6,
        "with_gps": 2,
        "without_gps": 4,
        "suggested": 0,
        "accepted": 0,
        "rejected": 0,
        "written": 0,
        "errors": 0,
        "missing": 0,
    }
    assert {r["filename"] for r in indexing.list_photos(library, "has-gps")} == {"berlin.jpg", "pic.heic"}
    assert "IndexReport" not in str(report) and "6 added" in str(report)


def test_rescan_skips_unchanged_files_without_reading(library, photos: Path, monkeypatch) -> None:
    _index(library, photos)

    def must_not_read(*_a, **_k):
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(metadata_read, "read_metadata", must_not_read)
    report = _index(library, photos)
    assert (report.scanned, report.unchanged, report.added, report.updated) == (6, 6, 0, 0)


def test_changed_file_is_reread_and_keeps_its_id(library, photos: Path) -> None:
    _index(library, photos)
    before = _rows(library)["nogps.jpg"]
    make_jpeg(photos / "nogps.jpg", lat=10.5, lon=20.25)
    os.utime(photos / "nogps.jpg", ns=(1, 2_000_000_000_000_000_000))
    report = _index(library, photos)
    assert (report.updated, report.unchanged) == (1, 5)
    after = _rows(library)["nogps.jpg"]
    assert after["id"] == before["id"] and after["gps_lat"] == pytest.approx(10.5)


def test_moved_file_keeps_row_suggestions_and_state(library, photos: Path) -> None:
    _index(library, photos)
    old = _rows(library)["nogps.jpg"]
    with library.catalog.writer() as session:
        session.execute(update(Photo).where(Photo.id == old["id"]).values(review_state="suggested"))
        session.add(
            Suggestion(
                photo_id=old["id"],
                rank=0,
                source="time",
                lat=1.0,
                lon=2.0,
                radius_km=3.0,
                level="city",
                confidence=0.5,
                created_at=datetime(2024, 1, 1),
            )
        )
    target = photos / "elsewhere" / "renamed.jpg"
    target.parent.mkdir()
    (photos / "nogps.jpg").rename(target)
    report = _index(library, photos)
    assert (report.moved, report.added, report.missing) == (1, 0, 0)
    rows = _rows(library)
    assert "nogps.jpg" not in rows
    moved = rows["renamed.jpg"]
    assert moved["id"] == old["id"] and moved["review_state"] == "suggested"
    assert moved["folder"] == str(target.parent) and moved["path"] == str(target)
    with library.catalog.reader() as session:
        assert session.scalars(select(Suggestion.photo_id)).all() == [old["id"]]


def test_move_from_a_folder_outside_the_scanned_one(library, tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "old" / "x.jpg", lat=3.0, lon=4.0)
    _index(library, photo.parent)
    row_id = _rows(library)["x.jpg"]["id"]
    (tmp_path / "new").mkdir()
    photo.rename(tmp_path / "new" / "x.jpg")
    report = _index(library, tmp_path / "new")
    assert (report.moved, report.added) == (1, 0)
    assert [(r["id"], r["folder"]) for r in indexing.list_photos(library)] == [
        (row_id, str(tmp_path / "new"))
    ]


def test_copy_is_a_new_photo_not_a_move(library, photos: Path) -> None:
    _index(library, photos)
    shutil.copy2(photos / "berlin.jpg", photos / "berlin-copy.jpg")
    report = _index(library, photos)
    assert (report.added, report.moved) == (1, 0)
    rows = _rows(library)
    assert rows["berlin.jpg"]["id"] != rows["berlin-copy.jpg"]["id"]


def test_deleted_file_is_missing_then_comes_back(library, photos: Path) -> None:
    _index(library, photos)
    original_id = _rows(library)["pic.png"]["id"]
    saved = (photos / "sub" / "pic.png").read_bytes()
    (photos / "sub" / "pic.png").unlink()
    report = _index(library, photos)
    assert report.missing == 1
    assert [r["filename"] for r in indexing.list_photos(library, "missing")] == ["pic.png"]
    assert indexing.status(library)["photos"] == 5
    assert _index(library, photos).missing == 0  # already missing: not counted again
    (photos / "sub" / "pic.png").write_bytes(saved)
    report = _index(library, photos)
    assert report.updated == 1
    back = _rows(library)["pic.png"]
    assert back["status"] == "ok" and back["id"] == original_id


def test_rescanning_one_folder_leaves_other_folders_alone(library, tmp_path: Path) -> None:
    a = make_jpeg(tmp_path / "a" / "one.jpg")
    b = make_jpeg(tmp_path / "b" / "two.jpg", color=(1, 2, 3))
    _index(library, a.parent, b.parent)
    b.unlink()
    report = _index(library, a.parent)
    assert report.missing == 0 and _rows(library)["two.jpg"]["status"] == "ok"


def test_gps_set_by_the_user_survives_a_rescan(library, photos: Path) -> None:
    """After write-back the file carries GPS; the photo must stay accepted/written, not become "exif"."""
    _index(library, photos)
    row = _rows(library)["nogps.jpg"]
    with library.catalog.writer() as session:
        session.execute(
            update(Photo)
            .where(Photo.id == row["id"])
            .values(gps_lat=1.5, gps_lon=2.5, gps_source="accepted", review_state="written")
        )
    make_jpeg(photos / "nogps.jpg", lat=1.5, lon=2.5)  # what the writer would have put in the file
    os.utime(photos / "nogps.jpg", ns=(1, 2_000_000_000_000_000_000))
    assert _index(library, photos).updated == 1
    after = _rows(library)["nogps.jpg"]
    assert (after["gps_source"], after["review_state"]) == ("accepted", "written")
    assert (after["gps_lat"], after["gps_lon"]) == (1.5, 2.5)
    assert after["taken_at"] is None  # metadata columns were refreshed


def test_sidecar_edit_counts_as_a_change(library, tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "p" / "img.jpg")
    _index(library, photo.parent)
    sidecar = photo.with_suffix(".xmp")
    sidecar.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="45,30.0N" '
        'exif:GPSLongitude="7,15.0E"/></rdf:RDF></x:xmpmeta>'
    )
    report = _index(library, photo.parent)
    assert report.updated == 1
    row = _rows(library)["img.jpg"]
    assert row["gps_source"] == "xmp" and row["gps_lat"] == pytest.approx(45.5)


def _bomb_png(path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 200_000, 200_000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def test_bad_input_never_stops_the_run(library, tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "bad"
    good = make_jpeg(root / "good.jpg", lat=1.0, lon=2.0)
    (root / "zero.jpg").write_bytes(b"")
    (root / "text.jpg").write_text("hello, I am not a JPEG\n")
    (root / "truncated.jpg").write_bytes(good.read_bytes()[:300])
    _bomb_png(root / "bomb.png")
    make_jpeg(root / "new\nline.jpg")
    make_jpeg(root / "emoji 📷.jpg", color=(1, 1, 1))
    make_jpeg(root / unicodedata.normalize("NFD", "café.jpg"), color=(2, 2, 2))
    make_jpeg(root / "locked.jpg", color=(3, 3, 3))
    (root / "loop").mkdir()
    (root / "loop" / "back").symlink_to(root, target_is_directory=True)
    (root / "dangling.jpg").symlink_to(root / "nowhere.jpg")
    make_jpeg(root / "closed" / "inside.jpg", color=(4, 4, 4))
    shutil.copy(good, os.fsencode(root) + b"/latin1-\xe9t\xe9.jpg")  # not valid UTF-8

    real_open, real_scandir = open, os.scandir

    def guarded_open(file, *args, **kwargs):
        if str(file).endswith("locked.jpg"):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    def guarded_scandir(path="."):
        if str(path).endswith("closed"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr("builtins.open", guarded_open)
    monkeypatch.setattr(os, "scandir", guarded_scandir)
    report = _index(library, root)
    monkeypatch.undo()

    rows = _rows(library)
    assert rows["good.jpg"]["status"] == "ok"
    for name in ("zero.jpg", "text.jpg", "locked.jpg"):
        assert rows[name]["status"] == "error", name
        assert "\n" not in rows[name]["error"] and rows[name]["error"]
    assert "Permission denied" in rows["locked.jpg"]["error"]
    # Truncated and bomb: either a clean error or whatever the header allows, never a crash.
    assert rows["truncated.jpg"]["status"] in ("ok", "error")
    assert rows["bomb.png"]["status"] == "error"
    for name in ("new\nline.jpg", "emoji 📷.jpg", unicodedata.normalize("NFD", "café.jpg")):
        assert rows[name]["status"] == "ok", name
    # The loop did not index the folder twice; the dangling link and closed folder are warnings.
    assert report.scanned == 9 and len(indexing.list_photos(library)) == 9
    assert any("dangling.jpg" in w for w in report.warnings)
    assert any("closed" in w and "Permission denied" in w for w in report.warnings)
    assert any("latin1-\\xe9t\\xe9.jpg" in w and "not valid UTF-8" in w for w in report.warnings)
    errors = {r["filename"] for r in indexing.list_photos(library, "error")}
    assert {"zero.jpg", "text.jpg", "locked.jpg", "bomb.png"} <= errors
    assert indexing.status(library)["errors"] == len(errors)

    # Access fixed (chmod changes no mtime): the unreadable file is retried, the rest is unchanged.
    again = _index(library, root)
    assert (again.updated, again.added, again.unchanged) == (1, 1, 8)
    assert _rows(library)["locked.jpg"]["status"] == "ok"


def test_unlistable_folder_keeps_its_rows(library, tmp_path: Path, monkeypatch) -> None:
    make_jpeg(tmp_path / "lib" / "closed" / "inside.jpg")
    _index(library, tmp_path / "lib")
    real_scandir = os.scandir
    monkeypatch.setattr(
        os,
        "scandir",
        lambda p=".": (
            (_ for _ in ()).throw(PermissionError(13, "Permission denied"))
            if str(p).endswith("closed")
            else real_scandir(p)
        ),
    )
    report = _index(library, tmp_path / "lib")
    assert report.missing == 0 and report.errors == 1
    assert _rows(library)["inside.jpg"]["status"] == "ok"


def test_file_deleted_during_the_scan_is_skipped(library, tmp_path: Path, monkeypatch) -> None:
    make_jpeg(tmp_path / "d" / "a.jpg")
    make_jpeg(tmp_path / "d" / "b.jpg", color=(9, 9, 9))
    real = metadata_read.read_metadata

    def delete_then_read(path, **kwargs):
        if Path(path).name == "b.jpg":
            Path(path).unlink()
        return real(path, **kwargs)

    monkeypatch.setattr(metadata_read, "read_metadata", delete_then_read)
    report = _index(library, tmp_path / "d")
    assert (report.scanned, report.added) == (2, 1)
    assert any("b.jpg" in w and "deleted during the scan" in w for w in report.warnings)
    assert set(_rows(library)) == {"a.jpg"}


def test_cancel_keeps_work_done_and_next_run_resumes(library, tmp_path: Path) -> None:
    for i in range(10):
        make_jpeg(tmp_path / "c" / f"{i:02d}.jpg", color=(i, i, i))
    token = CancelToken()

    class CancelAfterFour(CountingProgress):
        def advance(self, n: int = 1) -> None:
            super().advance(n)
            if self.done == 4:
                token.cancel()

    with pytest.raises(CancelledError):
        _index(library, tmp_path / "c", progress=CancelAfterFour(), cancel=token)
    assert indexing.status(library)["photos"] == 4
    report = _index(library, tmp_path / "c")
    assert (report.unchanged, report.added, report.missing) == (4, 6, 0)


def test_ctrl_c_commits_rows_read_so_far(library, tmp_path: Path, monkeypatch) -> None:
    for i in range(6):
        make_jpeg(tmp_path / "k" / f"{i}.jpg", color=(i, 0, 0))
    real = metadata_read.read_metadata

    def interrupt_at_four(path, **kwargs):
        if Path(path).name == "4.jpg":
            raise KeyboardInterrupt
        return real(path, **kwargs)

    monkeypatch.setattr(metadata_read, "read_metadata", interrupt_at_four)
    with pytest.raises(KeyboardInterrupt):
        _index(library, tmp_path / "k")
    monkeypatch.undo()
    assert indexing.status(library)["photos"] == 4
    assert _index(library, tmp_path / "k").added == 2


@pytest.mark.parametrize("pool", ["process", "thread"])
def test_parallel_pools_give_the_same_rows_as_sequential(tmp_path: Path, pool: str) -> None:
    from geotagger.services import Library

    for i in range(70):  # more than two chunks, so the pool really starts
        make_jpeg(tmp_path / "many" / f"{i:03d}.jpg", size=(64, 48), lat=i / 10, lon=-i / 10, color=(i, 9, 9))
    make_jpeg(tmp_path / "many" / "zz.jpg").write_text("broken")
    results = {}
    progress = CountingProgress()
    for mode, workers in (("sequential", 0), (pool, 2)):
        with Library(tmp_path / mode / "lib.sqlite") as lib:
            report = indexing.index(lib, [tmp_path / "many"], workers=workers, pool=pool, progress=progress)
            # errors: zz.jpg (unreadable) and 000.jpg (GPS 0, 0 ignored), as `list --filter error` shows
            assert (report.added, report.errors) == (71, 2)
            assert progress.total == progress.done == 71
            results[mode] = [{k: v for k, v in r.items() if k != "id"} for r in indexing.list_photos(lib)]
    assert results["sequential"] == results[pool]


_PARENT = os.getpid()


def _dies_in_workers(jobs):
    if os.getpid() != _PARENT:
        os._exit(3)  # a worker killed mid-chunk (OOM killer, crash in a C library)
    return read_many(jobs)


def test_a_broken_process_pool_does_not_stop_the_run(library, tmp_path: Path, monkeypatch, caplog) -> None:
    for i in range(40):
        make_jpeg(tmp_path / "p" / f"{i:02d}.jpg", size=(32, 32), color=(i, 1, 1))
    monkeypatch.setattr("geotagger.indexing.pool.read_many", _dies_in_workers)
    report = indexing.index(library, [tmp_path / "p"], workers=2, pool="process")
    assert (report.added, report.errors) == (40, 0)
    assert len(indexing.list_photos(library)) == 40
    assert "reader process died" in caplog.text


def test_walk_visits_each_real_folder_once(tmp_path: Path) -> None:
    make_jpeg(tmp_path / "r" / "a.jpg")
    (tmp_path / "r" / "link1").symlink_to(tmp_path / "r", target_is_directory=True)
    (tmp_path / "r" / ".hidden").mkdir()
    make_jpeg(tmp_path / "r" / ".hidden" / "h.jpg")
    make_jpeg(tmp_path / "r" / "._a.jpg")
    problems: list[str] = []
    found = [e.path for e in walk([str(tmp_path / "r")], {".jpg"}, lambda p, m: problems.append(m))]
    assert found == [str(tmp_path / "r" / "a.jpg")] and problems == []


def test_fingerprint_depends_on_content_not_name(tmp_path: Path) -> None:
    a = make_jpeg(tmp_path / "a.jpg", size=(800, 600))
    b = tmp_path / "b.jpg"
    shutil.copy(a, b)
    assert fingerprint(a) == fingerprint(b) and len(fingerprint(a)) == 32
    data = bytearray(b.read_bytes())
    data[-10] ^= 0xFF  # the tail is hashed
    b.write_bytes(bytes(data))
    assert fingerprint(a) != fingerprint(b)


def test_list_filters_and_unknown_filter(library, photos: Path) -> None:
    _index(library, photos)
    assert {r["filename"] for r in indexing.list_photos(library, "no-gps")} == {
        "nogps.jpg",
        "pic.png",
        "pic.tiff",
        "pic.webp",
    }
    assert indexing.list_photos(library, "accepted") == []
    with pytest.raises(UserInputError, match="unknown filter"):
        indexing.list_photos(library, "nonsense")
    with pytest.raises(NotFoundError, match="no such file or folder"):
        indexing.index(library, [photos / "does-not-exist"])


def test_thumbnails_are_upright_cached_and_keyed_by_content(library, tmp_path: Path) -> None:
    src = tmp_path / "t"
    make_jpeg(src / "rotated.jpg", size=(1200, 800), orientation=6)
    make_photo(src / "phone.heic", size=(600, 400))
    (src / "fake.jpg").write_text("not an image")
    preview = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 200, 10)).save(preview, "JPEG")
    small = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 10, 10)).save(small, "JPEG")
    raw_bytes = (
        b"II*\x00" + bytes(1000) + small.getvalue() + b"\xff\xd8\xff junk" + preview.getvalue() + bytes(500)
    )
    (src / "camera.nef").write_bytes(raw_bytes)
    (src / "nopreview.cr2").write_bytes(b"II*\x00" + bytes(5000))
    _index(library, src)
    rows = _rows(library)
    thumb = indexing.thumbnail(library, rows["rotated.jpg"]["id"], size=200)
    with Image.open(thumb) as image:
        assert image.format == "JPEG" and image.size == (133, 200)  # orientation 6: portrait
    assert thumb.is_relative_to(library.data_dir / "thumbnails")
    stamp = thumb.stat().st_mtime_ns
    assert indexing.thumbnail(library, rows["rotated.jpg"]["id"], size=200) == thumb
    assert thumb.stat().st_mtime_ns == stamp
    with Image.open(indexing.thumbnail(library, rows["phone.heic"]["id"], size=64)) as image:
        assert image.size == (64, 43)
    with Image.open(indexing.thumbnail(library, rows["camera.nef"]["id"], size=150)) as image:
        assert image.size == (150, 100) and image.getpixel((75, 50))[1] > 150  # the large green preview
    with pytest.raises(MetadataError, match="no embedded JPEG preview"):
        indexing.thumbnail(library, rows["nopreview.cr2"]["id"])
    with pytest.raises(MetadataError, match="fake.jpg"):
        indexing.thumbnail(library, rows["fake.jpg"]["id"])
    with pytest.raises(NotFoundError):
        indexing.thumbnail(library, 999_999)
    with pytest.raises(UserInputError):
        indexing.thumbnail(library, rows["rotated.jpg"]["id"], size=0)
    (src / "rotated.jpg").rename(src / "moved.jpg")
    _index(library, src)
    assert indexing.thumbnail(library, _rows(library)["moved.jpg"]["id"], size=200) == thumb
    (src / "moved.jpg").unlink()
    thumb.unlink()
    with pytest.raises(NotFoundError, match="missing"):
        indexing.thumbnail(library, rows["rotated.jpg"]["id"], size=200)


def test_every_exif_sample_indexes_and_matches_exiftool(library) -> None:
    if not EXIF_SAMPLES.is_dir():
        pytest.skip("shared exif-samples not present")
    report = indexing.index(library, [EXIF_SAMPLES], workers=2)
    files = [
        p
        for p in EXIF_SAMPLES.rglob("*")
        if p.is_file() and p.suffix.lower() in metadata_read.SUPPORTED_EXTENSIONS
    ]
    assert report.scanned == len(files) == report.added
    rows = {r["path"]: r for r in indexing.list_photos(library)}
    assert all(r["status"] in ("ok", "error") for r in rows.values())
    assert all(r["error"] for r in rows.values() if r["status"] == "error")
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool not installed")
    out = subprocess.run(
        [
            "exiftool",
            "-json",
            "-n",
            "-r",
            "-q",
            "-q",
            "-GPSLatitude",
            "-GPSLongitude",
            "-EXIF:DateTimeOriginal",
        ]
        + [str(EXIF_SAMPLES)],
        capture_output=True,
        text=True,
    ).stdout
    gps_checked = times_checked = 0
    for item in json.loads(out):
        row = rows.get(str(Path(item["SourceFile"]).resolve()))
        if row is None:
            continue
        lat, lon, taken = item.get("GPSLatitude"), item.get("GPSLongitude"), item.get("DateTimeOriginal")
        if isinstance(lat, float | int) and isinstance(lon, float | int):
            assert row["gps_lat"] == pytest.approx(lat, abs=1e-4), item["SourceFile"]
            assert row["gps_lon"] == pytest.approx(lon, abs=1e-4), item["SourceFile"]
            gps_checked += 1
        if isinstance(taken, str) and len(taken) >= 19 and not taken.startswith("0000"):
            assert row["taken_at"] is not None, item["SourceFile"]
            assert row["taken_at"][:19] == taken[:10].replace(":", "-") + "T" + taken[11:19], item[
                "SourceFile"
            ]
            times_checked += 1
    assert gps_checked >= 10 and times_checked >= 50


def test_a_named_non_photo_file_is_skipped_with_a_reason(library, photos: Path) -> None:
    report = _index(library, photos / "notes.txt", photos / "berlin.jpg")
    assert (report.added, report.errors) == (1, 1)
    assert any("notes.txt: skipped: not a photo type" in w and "(.txt)" in w for w in report.warnings)
    assert set(_rows(library)) == {"berlin.jpg"}  # the text file is not catalogued as a broken photo
