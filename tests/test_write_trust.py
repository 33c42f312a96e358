"""Issue 10, writes: never on a changed photo, a photo's files as one unit, journaled undo, a deleted
catalog, long names, unreadable photos, backups pruning, the dry-run table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from geotagger.catalog import WriteRecord
from geotagger.cli.main import main
from geotagger.metadata.read import read_metadata
from geotagger.services import Library, backups, decisions, indexing, write_journal, writing
from geotagger.services.write_lock import WriterBusyError, writer_lock
from tests.exiftool import exiftool_gps
from tests.factories import make_jpeg
from tests.test_write_service import Killed, _prepare, _records, _sha, _snapshot

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed")


# --- 6: a photo changed since it was indexed is refused ----------------------------------------


@needs_exiftool
def test_gps_added_by_another_tool_is_not_overwritten(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "IMG_1.jpg", level="city")
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", "-GPSLatitude=46.59", "-GPSLatitudeRef=N",
         "-GPSLongitude=7.90", "-GPSLongitudeRef=E", str(path)],
        check=True,
    )  # fmt: skip
    edited = _sha(path)
    item = writing.write(library).items[0]
    assert item.status == "failed"
    assert item.detail == (
        "IMG_1.jpg changed since it was indexed (now has GPS 46.59000, 7.90000 from another tool); "
        "not written — re-index to review it"
    )
    assert _sha(path) == edited and not Path(f"{path}.xmp").exists()
    assert exiftool_gps(path)["IMG_1.jpg"] == (pytest.approx(46.59), pytest.approx(7.90))
    assert _records(library) == []


def test_replaced_photo_and_sidecar_with_gps_are_refused(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    swapped, plain = _prepare(library, folder, "a.jpg", "b.jpg")
    make_jpeg(swapped, size=(400, 300), lat=48.8584, lon=2.2945)  # another photo under the same name
    sidecar = Path(f"{plain}.xmp")  # another tool wrote a sidecar with a position
    sidecar.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="10,0.0N" '
        'exif:GPSLongitude="20,0.0E"/></rdf:RDF></x:xmpmeta>'
    )
    before = _snapshot(folder)
    report = writing.write(library)
    details = {Path(i.path).name: i.detail for i in report.items}
    assert (
        "a.jpg changed since it was indexed (now has GPS 48.85840, 2.29450 from another tool)"
        in details["a.jpg"]
    )
    assert (
        "b.jpg changed since it was indexed (now has GPS 10.00000, 20.00000 from its sidecar)"
        in details["b.jpg"]
    )
    assert report.failed == 2 and _snapshot(folder) == before


def test_photo_written_then_accepted_again_is_rewritten(library: Library, tmp_path: Path) -> None:
    """Our own earlier write is not "another tool": the catalog knows the GPS it wrote."""
    (path,) = _prepare(library, tmp_path / "photos", "c.jpg")
    assert writing.write(library, place_names="none").items[0].status == "written"
    decisions.accept(library, str(path), lat=45.0, lon=6.0)
    item = writing.write(library, place_names="none").items[0]
    assert item.status == "written", item.detail
    assert read_metadata(path).gps_lat == pytest.approx(45.0, abs=1e-6)


# --- 7: EXIF and sidecar are one unit ------------------------------------------------------------


def test_kill_between_exif_and_sidecar_rolls_back_then_writes_once(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "d.jpg", level="city")
    original = path.read_bytes()
    real = writing.atomic_write
    calls = []

    def killed_after_first(target, data, **kwargs):  # noqa: ANN001, ANN003 - atomic_write's signature
        if calls:
            raise Killed  # the process dies after the EXIF landed, before the sidecar
        calls.append(target)
        real(target, data, **kwargs)

    monkeypatch.setattr(writing, "atomic_write", killed_after_first)
    with pytest.raises(Killed):
        writing.write(library)
    monkeypatch.undo()
    assert path.read_bytes() != original and not Path(f"{path}.xmp").exists()  # half a photo on disk
    assert [r.status for r in _records(library)] == ["pending", "pending"]

    library.close()
    with Library(library.location) as reopened:
        assert len(writing.reconcile(reopened)) == 2
        assert path.read_bytes() == original  # rolled back to the exact old bytes
        assert [r.status for r in _records(reopened)] == ["failed", "failed"]
        assert decisions.resolve_photo(reopened, str(path)).review_state == "accepted"
        plan, _notes = writing.plan_changes(
            decisions.resolve_photo(reopened, str(path)),
            _latest_accept(reopened, path),
            sidecar_policy="ext.xmp",
        )
        assert writing.write(reopened).items[0].status == "written"
        assert path.read_bytes() == plan[0].new  # patched once: exactly the planned bytes
        assert Path(f"{path}.xmp").read_bytes() == plan[1].new


def _latest_accept(lib: Library, path: Path):  # noqa: ANN202 - a Decision
    with lib.catalog.reader() as session:
        decision = decisions.latest_accept(session, decisions.resolve_photo(lib, str(path)).id)
        session.expunge_all()
        return decision


def test_a_file_changed_between_plan_and_replace_is_not_patched(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "e.jpg", level="city")
    real_begin = write_journal.begin_group

    def meddle(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        records = real_begin(*args, **kwargs)
        path.write_bytes(path.read_bytes() + b"edited meanwhile")
        return records

    monkeypatch.setattr(write_journal, "begin_group", meddle)
    item = writing.write(library).items[0]
    assert item.status == "failed" and "changed while it was being written" in item.detail
    assert path.read_bytes().endswith(b"edited meanwhile") and not Path(f"{path}.xmp").exists()
    assert {r.status for r in _records(library)} == {"failed"}


# --- 8: undo is journaled ------------------------------------------------------------------------


def test_undo_killed_midway_is_finished_by_the_next_undo(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "f.jpg", level="city")
    original = _snapshot(folder)
    writing.write(library)
    real = write_journal.restore_record
    calls = []

    def killed_after_first(record):  # noqa: ANN001, ANN202
        if calls:
            raise Killed
        calls.append(record)
        real(record)

    monkeypatch.setattr(write_journal, "restore_record", killed_after_first)
    with pytest.raises(Killed):
        writing.undo(library)
    monkeypatch.undo()
    assert {r.status for r in _records(library)} == {"undoing"}

    library.close()
    with Library(library.location) as reopened:
        assert writing.undo(reopened) == []  # the reconcile finished it; nothing else to undo
        assert _snapshot(folder) == original
        assert {r.status for r in _records(reopened)} == {"undone"}
        photo = decisions.resolve_photo(reopened, str(path))
        assert photo.review_state == "accepted" and photo.gps_lat is None
        assert writing.write(reopened).items[0].status == "written"


# --- 9: one writer at a time ---------------------------------------------------------------------


def test_a_second_writer_gets_one_line_naming_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "lib.sqlite"
    path = make_jpeg(tmp_path / "photos" / "g.jpg")
    before = _sha(path)
    base = ["--library", str(catalog), "-q"]
    assert main([*base, "index", str(path.parent)]) == 0
    assert main([*base, "accept", str(path), "--lat", "46.5", "--lon", "7.9"]) == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from geotagger.services.write_lock import writer_lock\n"
         "with writer_lock(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(30)", str(catalog)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("GEOTAGGER_LOCK_WAIT", "0.2")
        capsys.readouterr()
        started = time.monotonic()
        for command in (["write"], ["undo"], ["backups", "prune"]):
            assert main([*base, *command]) == 1
            err = capsys.readouterr().err
            assert err == (
                f"error: another geotagger is writing to this library (pid {holder.pid}); "
                "try again when it has finished\n"
            )
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()
    assert _sha(path) == before
    assert main([*base, "write"]) == 0  # the lock died with its holder


def test_writer_lock_is_reentrant_in_a_thread_and_exclusive_across_threads(tmp_path: Path) -> None:
    import threading

    catalog = tmp_path / "lib.sqlite"
    outcome = []
    with writer_lock(catalog), writer_lock(catalog):  # tag -> write nests
        thread = threading.Thread(target=lambda: outcome.append(_try_lock(catalog)))
        thread.start()
        thread.join()
    assert outcome == ["busy"]
    assert _try_lock(catalog) == "taken"


def _try_lock(catalog: Path) -> str:
    try:
        with writer_lock(catalog, wait_s=0.1):
            return "taken"
    except WriterBusyError:
        return "busy"


# --- 10: the catalog deleted during a write ------------------------------------------------------


def test_catalog_deleted_during_write_stops_and_the_text_journal_keeps_the_backups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "lib.sqlite"
    folder = tmp_path / "photos"
    paths = [make_jpeg(folder / f"h{i}.jpg") for i in range(5)]
    originals = {p.name: p.read_bytes() for p in paths}
    base = ["--library", str(catalog), "-q"]
    assert main([*base, "index", str(folder)]) == 0
    for path in paths:
        assert main([*base, "accept", str(path), "--lat", "46.5", "--lon", "7.9"]) == 0
    real_finish = write_journal.finish
    finished = []

    def finish_then_delete(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        real_finish(*args, **kwargs)
        finished.append(args[3])
        if len(finished) == 2:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{catalog}{suffix}").unlink(missing_ok=True)

    monkeypatch.setattr(write_journal, "finish", finish_then_delete)
    capsys.readouterr()
    assert main([*base, "write"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: the catalog {catalog} was removed or replaced while writing; stopped")
    assert err.count("\n") == 1
    written = sorted(p.name for p in paths if p.read_bytes() != originals[p.name])
    assert written == ["h0.jpg", "h1.jpg"]
    lines = [
        json.loads(x) for x in (tmp_path / "lib.data" / "backups" / "journal.jsonl").read_text().splitlines()
    ]
    done = sorted(Path(line["photo"]).name for line in lines if line["event"] == "done")
    assert done == written  # every changed photo is in the surviving journal, with its backup
    for line in lines:
        if line["event"] == "done":
            exif = next(f for f in line["files"] if f["kind"] == "exif")
            assert Path(exif["backup"]).read_bytes() == originals[Path(line["photo"]).name]


# --- 11: long names; reconcile never crashes on one record ---------------------------------------


def test_240_character_name_writes_and_undoes(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    name = "x" * 236 + ".jpg"
    (path,) = _prepare(library, folder, name, level="city")
    before = path.read_bytes()
    item = writing.write(library, place_names="none").items[0]
    assert item.status == "written", item.detail
    assert [r.status for r in writing.undo(library)] == ["undone"]
    assert path.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == [name]


def test_reconcile_stores_the_error_of_a_record_it_cannot_settle(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "i.jpg")
    with library.catalog.writer() as session:
        session.add(
            WriteRecord(target_path=str(folder), kind="exif", before_sha256="0" * 64, after_sha256="1" * 64,
                        status="pending", created_at=write_journal.now())
        )  # fmt: skip
    report = writing.write(library, place_names="none")
    assert report.items[0].status == "written"
    bad = _records(library)[0]
    assert bad.status == "failed" and "could not be settled" in bad.error and "Is a directory" in bad.error


# --- 12: a photo that cannot be read -------------------------------------------------------------


def test_unreadable_photo_fails_alone_before_anything_changes(tmp_path: Path) -> None:
    """A real process that cannot read the photo (root reads anything, so as root the process runs
    without the capabilities that override file modes)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot make a file unreadable")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    folder = tmp_path / "photos"
    paths = [make_jpeg(folder / n) for n in ("a.jpg", "b.jpg")]
    catalog = tmp_path / "lib.sqlite"
    with Library(catalog) as lib:
        indexing.index(lib, [folder], workers=0)
        for path in paths:
            decisions.accept(lib, str(path), lat=46.5, lon=7.9, level="city")
    before = paths[1].read_bytes()
    paths[0].chmod(0o000)

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [*prefix, sys.executable, "-m", "geotagger", "--library", str(catalog), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    try:
        result = cli("write", "--format", "json")
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        rows = {Path(r["path"]).name: r for r in json.loads(result.stdout)}
        assert rows["a.jpg"]["status"] == "failed" and "Permission denied" in rows["a.jpg"]["detail"]
        assert rows["b.jpg"]["status"] == "written"
        assert not (folder / "a.jpg.xmp").exists()  # nothing of the unreadable photo was written
        paths[1].chmod(0o000)  # now undo meets an unreadable photo: one line, no traceback
        result = cli("undo")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith("error: ") and "Permission denied" in result.stderr
        assert result.stderr.count("\n") == 1
    finally:
        for path in paths:
            path.chmod(0o644)
    result = cli("undo")
    assert result.returncode == 0, result.stderr
    assert paths[1].read_bytes() == before


# --- 14: backups ---------------------------------------------------------------------------------


def test_backups_list_and_prune_keep_what_undo_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "lib.sqlite"
    folder = tmp_path / "photos"
    kept, undone = make_jpeg(folder / "k.jpg"), make_jpeg(folder / "u.jpg", color=(10, 20, 30))
    base = ["--library", str(catalog), "-q"]
    assert main([*base, "index", str(folder)]) == 0
    for path in (undone, kept):
        assert main([*base, "accept", str(path), "--lat", "46.5", "--lon", "7.9"]) == 0
        assert main([*base, "write", "--place-names", "none"]) == 0
    assert main([*base, "undo"]) == 0  # undoes k.jpg (the newest): its backup is no longer needed
    backups_dir = tmp_path / "lib.data" / "backups"
    stale = backups_dir / ".geotagger-999999999-0123abcd.tmp"
    stale.write_bytes(b"partial")
    capsys.readouterr()
    assert main([*base, "backups", "list"]) == 0
    out = capsys.readouterr().out
    assert "all             2" in out and "needed by undo  1" in out
    assert main([*base, "backups", "prune", "--keep-days", "0", "--dry-run"]) == 0
    assert len(list(backups_dir.glob("*.jpg"))) == 2 and stale.exists()
    assert main([*base, "backups", "prune", "--keep-days", "0"]) == 0
    out = capsys.readouterr().out
    assert out.count("deleted") == 1 and not stale.exists()
    with Library(catalog) as lib:
        (needed,) = backups.inventory(lib).files
        assert needed.needed
        assert [r.status for r in writing.undo(lib)] == ["undone"]  # its backup is still there
    assert main([*base, "backups", "prune"]) == 0  # young: kept (30 days by default)
    with Library(catalog) as lib:
        assert len(backups.inventory(lib).files) == 1


def test_prune_forget_undo_removes_needed_backups_only_when_asked(library: Library, tmp_path: Path) -> None:
    _prepare(library, tmp_path / "photos", "l.jpg")
    writing.write(library, place_names="none")
    assert backups.prune(library, keep_days=0).pruned == []
    assert len(backups.prune(library, keep_days=0, forget_undo=True).pruned) == 1
    assert backups.inventory(library).files == []


# --- 17: a file size limit during write ----------------------------------------------------------


@pytest.mark.parametrize("limit_kb", [250, 16])  # the backups fail; the catalog fails
def test_file_size_limit_leaves_originals_no_temp_and_one_line(tmp_path: Path, limit_kb: int) -> None:
    """A real ``ulimit -f`` (RLIMIT_FSIZE) on the writing process."""
    import resource

    from PIL import Image

    from tests.factories import make_exif

    catalog = tmp_path / "lib.sqlite"
    folder = tmp_path / "photos"
    folder.mkdir()
    paths = []
    for i in range(3):  # noise does not compress: photos of about 320 KB, above both limits
        image = Image.frombytes("RGB", (700, 500), os.urandom(700 * 500 * 3))
        image.save(folder / f"m{i}.jpg", "JPEG", quality=90, exif=make_exif())
        paths.append(folder / f"m{i}.jpg")
    before = _snapshot(folder)
    with Library(catalog) as lib:
        indexing.index(lib, [folder], workers=0)
        for path in paths:
            decisions.accept(lib, str(path), lat=46.5, lon=7.9, level="city")
    limit = limit_kb * 1024
    assert min(p.stat().st_size for p in paths) > limit

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [sys.executable, "-m", "geotagger", "--library", str(catalog), "-q", "write", "--format", "csv"],
        capture_output=True, text=True, preexec_fn=small_files, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    if limit_kb == 250:
        assert "cannot keep a backup" in result.stdout and "File too large" in result.stdout
    else:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert _snapshot(folder) == before
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".geotagger-")]
    assert leftovers == []
    with Library(catalog) as lib:
        assert {decisions.resolve_photo(lib, str(p)).review_state for p in paths} == {"accepted"}
        assert writing.write(lib).failed == 0  # without the limit it just works


def test_catalog_failure_while_finishing_rolls_the_photo_back(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    folder = tmp_path / "photos"
    (path,) = _prepare(library, folder, "n.jpg", level="city")
    before = _snapshot(folder)

    def disk_error(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("UPDATE writes", {}, Exception("disk I/O error"))

    monkeypatch.setattr(write_journal, "mark_written", disk_error)
    with pytest.raises(write_journal.JournalError, match="disk I/O error"):
        writing.write(library)
    assert _snapshot(folder) == before  # the photo is left original


# --- 20: the dry-run table -----------------------------------------------------------------------


def test_dry_run_table_shows_values_and_fits_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / ("a-very-long-folder-name-" * 5) / "holiday"
    path = make_jpeg(folder / ("IMG_" + "1" * 80 + ".jpg"))
    base = ["--library", str(tmp_path / "lib.sqlite"), "-q"]
    assert main([*base, "index", str(folder)]) == 0
    assert main([*base, "accept", str(path), "--lat", "46.5586", "--lon", "7.9067", "--level", "city"]) == 0
    monkeypatch.setenv("COLUMNS", "100")
    capsys.readouterr()
    assert main([*base, "write", "--dry-run"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100, out
    row = lines[1]
    for value in (
        "would write",
        "46.55860",
        "7.90670",
        "city",
        "±25 km",
        "EXIF + sidecar",
        "11.jpg",
        "…",
        "Lau",
    ):
        assert value in row, row
    monkeypatch.setenv("COLUMNS", "200")
    assert main([*base, "write", "--dry-run"]) == 0
    assert "Lauterbrunnen, Bern, Switzerland" in capsys.readouterr().out


def test_undo_reports_each_photo_it_could_not_undo(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    changed, fine = _prepare(library, folder, "o.jpg", "p.jpg")
    originals = _snapshot(folder)
    writing.write(library, place_names="none")
    changed.write_bytes(changed.read_bytes() + b"edited elsewhere")
    result = writing.undo(library, last=2)
    assert [Path(r.target_path).name for r in result] == ["p.jpg"]
    assert _sha(fine) == originals["p.jpg"]
    ((path, reason),) = result.failures
    assert path == str(changed) and "changed after geotagger wrote it" in reason
    with library.catalog.reader() as session:
        statuses = dict(session.execute(select(WriteRecord.target_path, WriteRecord.status)).all())
    assert statuses[str(changed)] == "done" and statuses[str(fine)] == "undone"
