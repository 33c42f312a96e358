"""writing.write / writing.undo: journal, backups, sidecars, read-only files, interrupted runs, CLI."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from geotagger.catalog import WriteRecord
from geotagger.cli.main import main
from geotagger.errors import MetadataError
from geotagger.metadata import safe_io
from geotagger.metadata.read import read_metadata
from geotagger.services import Library, decisions, indexing, write_journal, writing
from tests.factories import make_jpeg, make_photo
from tests.test_write_jpeg import EXIFTOOL, build_tiff, exiftool_json, jpeg_with, segment
from tests.test_write_xmp import DARKTABLE

pytestmark = pytest.mark.catalog_backends  # SQLite and PostgreSQL (tests/conftest.py)

LAT, LON = 46.5586, 7.9067  # Lauterbrunnen
OLD_MTIME_NS = 1_500_000_000_123_456_789


class Killed(BaseException):
    """Stands for the process being killed: nothing in geotagger catches it."""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: _sha(p) for p in sorted(folder.iterdir())}


def _prepare(library: Library, folder: Path, *names: str, level: str = "exact") -> list[Path]:
    paths = [folder / n for n in names]
    for path in paths:
        if not path.exists():
            make_photo(path)
        os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    indexing.index(library, [folder], workers=0)
    for path in paths:
        decisions.accept(library, str(path), lat=LAT, lon=LON, level=level)
    return paths


def _records(library: Library) -> list[WriteRecord]:
    with library.catalog.reader() as session:
        rows = list(session.scalars(select(WriteRecord).order_by(WriteRecord.id)))
        session.expunge_all()
        return rows


def test_jpeg_written_in_place_and_undone_exactly_after_reopening(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "a.jpg", level="city")
    before = path.read_bytes()
    report = writing.write(library)
    item = report.items[0]
    assert item.status == "written", item.detail
    assert item.targets == [f"exif:{path}", f"sidecar:{path}.xmp"]
    meta = read_metadata(path)
    assert meta.gps_source == "exif"
    assert (meta.gps_lat, meta.gps_lon) == (pytest.approx(LAT, abs=1e-6), pytest.approx(LON, abs=1e-6))
    assert path.stat().st_mtime_ns == OLD_MTIME_NS
    sidecar = Path(f"{path}.xmp").read_text()
    assert 'photoshop:City="Lauterbrunnen"' in sidecar and 'photoshop:Country="Switzerland"' in sidecar
    photo = decisions.resolve_photo(library, str(path))
    assert photo.review_state == "written" and photo.gps_source == "accepted"
    assert photo.size == path.stat().st_size
    backups = library.data_dir / "backups"
    assert (backups / f"{hashlib.sha256(before).hexdigest()}.jpg").read_bytes() == before
    assert [r.status for r in _records(library)] == ["done", "done"]
    assert writing.write(library).items == []  # nothing accepted is left

    library.close()
    with Library(library.location) as reopened:
        undone = writing.undo(reopened)
        assert [r.kind for r in undone] == ["sidecar", "exif"]
        assert path.read_bytes() == before
        assert path.stat().st_mtime_ns == OLD_MTIME_NS
        assert not Path(f"{path}.xmp").exists()
        photo = decisions.resolve_photo(reopened, str(path))
        assert photo.review_state == "accepted" and photo.gps_lat is None
        assert writing.undo(reopened) == []


def test_other_formats_get_sidecars_and_originals_stay_identical(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    names = ("b.png", "c.tif", "d.webp", "e.heic")
    paths = _prepare(library, folder, *names)
    before = _snapshot(folder)
    report = writing.write(library)
    assert [i.status for i in report.items] == ["written"] * 4, [i.detail for i in report.items]
    for path in paths:
        assert _sha(path) == before[path.name]
        meta = read_metadata(path)
        assert meta.gps_source == "xmp" and meta.sidecar_path == f"{path}.xmp"
        assert meta.gps_lat == pytest.approx(LAT, abs=1e-6)
    writing.undo(library, last=4)
    assert _snapshot(folder) == before


def test_sidecar_policy_and_refused_jpeg(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    big = build_tiff("II") + bytes(65_400 - len(build_tiff("II")))
    (folder / "big.jpg").write_bytes(jpeg_with([segment(0xE1, b"Exif\x00\x00" + big)]))
    paths = _prepare(library, folder, "big.jpg", "f.png")
    before = _snapshot(folder)
    report = writing.write(library, sidecar_policy="xmp", place_names="none")
    by_name = {Path(i.path).name: i for i in report.items}
    assert by_name["big.jpg"].status == "written" and "64 KB" in by_name["big.jpg"].detail
    assert by_name["big.jpg"].targets == [f"sidecar:{folder / 'big.xmp'}"]
    assert by_name["f.png"].targets == [f"sidecar:{folder / 'f.xmp'}"]
    assert all(_sha(p) == before[p.name] for p in paths)
    assert "photoshop:City" not in (folder / "f.xmp").read_text()


def test_merge_into_existing_sidecar_keeps_foreign_data_and_undo_restores_it(
    library: Library, tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    existing = DARKTABLE.replace(b' exif:GPSLatitude="10,0.0N" exif:GPSLongitude="20,0.0E"', b"")
    sidecar = folder / "g.png.xmp"
    sidecar.write_bytes(existing)
    _prepare(library, folder, "g.png")
    assert writing.write(library).items[0].status == "written"
    merged = sidecar.read_text()
    assert 'xmp:Rating="3"' in merged and 'darktable:params="0000803f"' in merged
    assert "exif:GPSLatitude=" in merged
    writing.undo(library)
    assert sidecar.read_bytes() == existing


def test_read_only_photo_gets_a_sidecar(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "h.jpg")
    before = _sha(path)
    path.chmod(0o444)
    try:
        item = writing.write(library).items[0]
    finally:
        path.chmod(0o644)
    assert item.status == "written" and "read-only" in item.detail
    assert item.targets == [f"sidecar:{path}.xmp"]
    assert _sha(path) == before


def test_read_only_folder_is_a_clear_failure(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "i.jpg")
    before = _snapshot(folder)
    folder.chmod(0o555)
    try:
        report = writing.write(library)
    finally:
        folder.chmod(0o755)
    assert report.failed == 1 and "read-only" in report.items[0].detail
    assert _snapshot(folder) == before
    assert decisions.resolve_photo(library, str(path)).review_state == "accepted"


def test_dry_run_changes_nothing(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    _prepare(library, folder, "j.jpg", "k.png")
    before = _snapshot(folder)
    report = writing.write(library, dry_run=True)
    assert [i.status for i in report.items] == ["would write", "would write"]
    assert _snapshot(folder) == before and _records(library) == []
    only = writing.write(library, dry_run=True, photo_ids=[report.items[1].photo_id])
    assert [i.path for i in only.items] == [report.items[1].path]


def test_kill_before_rename_keeps_the_original_and_reconciles(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "k.jpg")
    before = path.read_bytes()
    real_replace = os.replace

    def killed_replace(src, dst):  # noqa: ANN001 - os.replace's signature
        if Path(dst) == path:
            Path(src).write_bytes(b"half-written")  # what a killed process leaves behind
            raise Killed
        return real_replace(src, dst)

    monkeypatch.setattr(safe_io.os, "replace", killed_replace)
    with pytest.raises(Killed):
        writing.write(library, place_names="none")
    monkeypatch.undo()
    assert path.read_bytes() == before
    (pending,) = _records(library)
    assert pending.status == "pending"
    leftover = folder / ".geotagger-999999999-0123abcd.tmp"  # a dead process's temp file
    leftover.write_bytes(b"half-written")  # a real kill would not have cleaned up its temp file

    library.close()
    with Library(library.location) as reopened:
        report = writing.write(reopened, place_names="none")
        assert report.reconciled == [pending.id]
        assert not leftover.exists()
        first, second = _records(reopened)
        assert first.status == "failed" and "before the file was changed" in first.error
        assert second.status == "done" and report.items[0].status == "written"
        assert read_metadata(path).gps_source == "exif"


def test_kill_after_rename_before_journal_update_reconciles_as_done(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "l.jpg")
    before = path.read_bytes()

    def killed(*_args):  # noqa: ANN002 - stands in for write_journal.finish
        raise Killed

    monkeypatch.setattr(write_journal, "finish", killed)
    with pytest.raises(Killed):
        writing.write(library, place_names="none")
    monkeypatch.undo()
    assert read_metadata(path).gps_source == "exif"  # the complete new file
    assert [r.status for r in _records(library)] == ["pending"]
    assert decisions.resolve_photo(library, str(path)).review_state == "accepted"

    library.close()
    with Library(library.location) as reopened:
        report = writing.write(reopened)
        assert len(report.reconciled) == 1 and report.items == []
        assert [r.status for r in _records(reopened)] == ["done"]
        photo = decisions.resolve_photo(reopened, str(path))
        assert photo.review_state == "written" and photo.gps_source == "accepted"
        writing.undo(reopened)
        assert path.read_bytes() == before


def test_undo_refuses_a_file_changed_since(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "m.jpg")
    writing.write(library, place_names="none")
    edited = path.read_bytes() + b"edited elsewhere"
    path.write_bytes(edited)
    with pytest.raises(MetadataError, match="changed after geotagger wrote it"):
        writing.undo(library)
    assert path.read_bytes() == edited


def test_atomic_write_keeps_mode_and_refuses_read_only(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "n.jpg")
    path.chmod(0o640)
    safe_io.atomic_write(path, b"new bytes")
    assert path.read_bytes() == b"new bytes" and stat.S_IMODE(path.stat().st_mode) == 0o640
    path.chmod(0o440)
    with pytest.raises(MetadataError, match="read-only"):
        safe_io.atomic_write(path, b"other")
    assert path.read_bytes() == b"new bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["n.jpg"]


def test_cli_accept_write_undo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "photos"
    path = make_jpeg(folder / "o.jpg")
    before = path.read_bytes()
    base = ["--library", str(tmp_path / "lib.sqlite"), "-q"]
    assert main([*base, "index", str(folder)]) == 0
    assert main([*base, "accept", str(path), "--lat", str(LAT), "--lon", str(LON), "--level", "region"]) == 0
    assert "region" in capsys.readouterr().out
    assert main([*base, "write", "--dry-run"]) == 0
    assert "would write" in capsys.readouterr().out and path.read_bytes() == before
    assert main([*base, "write", "--format", "json"]) == 0
    assert '"status": "written"' in capsys.readouterr().out
    assert 'photoshop:State="Bern"' in Path(f"{path}.xmp").read_text()
    assert "photoshop:City" not in Path(f"{path}.xmp").read_text()  # region level: no city
    assert main([*base, "undo", "--last", "1"]) == 0
    assert f"restored {path}" in capsys.readouterr().out and path.read_bytes() == before
    assert main([*base, "accept", str(path), "--lat", "95", "--lon", "0"]) == 1
    assert "error: latitude 95.0 is outside" in capsys.readouterr().err
    assert main([*base, "reject", str(path)]) == 0
    assert main([*base, "undo", "--last", "0"]) == 1


@pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed")
def test_place_names_embedded_in_the_jpeg(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "p.jpg", level="city")
    (country,) = _prepare(library, folder, "q.jpg", level="country")
    before = _snapshot(folder)
    report = writing.write(library, place_names="embedded")
    assert [i.targets for i in report.items] == [[f"exif:{path}"], [f"xmp:{country}"]]
    assert sorted(p.name for p in folder.iterdir()) == ["p.jpg", "q.jpg"]  # no sidecar
    tags = exiftool_json([path, country], "-n", "-a", "-G1")
    assert tags["p.jpg"]["XMP-photoshop:City"] == "Lauterbrunnen"
    assert tags["p.jpg"]["Composite:GPSLatitude"] == pytest.approx(LAT, abs=1e-6)
    assert tags["q.jpg"]["XMP-photoshop:Country"] == "Switzerland"
    assert "GPS:GPSLatitude" not in tags["q.jpg"] and "XMP-exif:GPSLatitude" not in tags["q.jpg"]
    writing.undo(library, last=2)
    assert _snapshot(folder) == before


def test_links_are_not_replaced(tmp_path: Path) -> None:
    target = make_jpeg(tmp_path / "real.jpg")
    (tmp_path / "sym.jpg").symlink_to(target)
    os.link(target, tmp_path / "hard.jpg")
    for name, message in (("sym.jpg", "symbolic link"), ("hard.jpg", "hard links")):
        with pytest.raises(MetadataError, match=message):
            safe_io.atomic_write(tmp_path / name, b"x")
    assert target.read_bytes()[:2] == b"\xff\xd8" and (tmp_path / "sym.jpg").is_symlink()


def test_dry_run_reports_a_read_only_folder_as_failing(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "ro.jpg")
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        dry = writing.write(library, dry_run=True)
        real = writing.write(library)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert [i.status for i in dry.items] == ["failed"] == [i.status for i in real.items]
    assert f"the folder {folder} is read-only" in dry.items[0].detail
    assert "ro.jpg.xmp cannot be written" in dry.items[0].detail


def test_cli_write_json_lists_targets_of_a_path_with_spaces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    folder = tmp_path / "my photos"
    path = make_jpeg(folder / "a b.jpg")
    base = ["--library", str(tmp_path / "lib.sqlite"), "-q"]
    assert main([*base, "index", str(folder)]) == 0
    assert main([*base, "accept", str(path), "--lat", str(LAT), "--lon", str(LON)]) == 0
    capsys.readouterr()
    assert main([*base, "write", "--dry-run", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["targets"] == [f"exif:{path}", f"sidecar:{path}.xmp"]
    assert main([*base, "write", "--dry-run", "--format", "csv"]) == 0
    assert f"exif:{path}; sidecar:{path}.xmp" in capsys.readouterr().out


def test_mtime_kept_by_default_and_touch_stamps_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    from geotagger.cli.main import main

    photos = [make_jpeg(tmp_path / "photos" / f"{name}.jpg") for name in ("kept", "touched")]
    old = 1_500_000_000
    for photo in photos:
        os.utime(photo, (old, old))
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main([*lib, "index", str(tmp_path / "photos")]) == 0
    assert main([*lib, "accept", str(photos[0]), "--lat", "46.5", "--lon", "7.9"]) == 0
    assert main([*lib, "write"]) == 0
    assert main([*lib, "accept", str(photos[1]), "--lat", "46.5", "--lon", "7.9"]) == 0
    assert main([*lib, "write", "--touch"]) == 0
    assert int(photos[0].stat().st_mtime) == old
    assert photos[1].stat().st_mtime > old + 10_000_000
