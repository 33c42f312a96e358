"""Writing accepted locations into files, journaled so every change can be undone byte for byte.

Order of a file change (why it is safe to kill at any point):
1. the new bytes are built and verified in memory (write_jpeg + verify);
2. the exact old bytes go to the library's backups folder (content-addressed, fsync'ed);
3. a WriteRecord "pending" with the old and new sha256 is committed;
4. the file is replaced atomically (temp file in the same folder, fsync, rename, mtime kept);
5. it is re-read and verified on disk (a failure restores the old bytes), then marked "done".
A record left "pending" by a crash is reconciled on the next run from the file's sha256.

JPEGs get EXIF GPS in place; every other format (and a JPEG the writer refuses, or a read-only JPEG)
gets an XMP sidecar; RAW files are never written into. Place names (``place_names``) go to the sidecar
("sidecar", default), into a JPEG's own XMP packet ("embedded", sidecar for other formats or when the
packet cannot be edited safely), or nowhere ("none"). Coarse levels: "country"
writes only the country's name and code, no coordinate (a centroid would pretend a position); "region",
"city" and "exact" write the coordinate with GPSHPositioningError = the uncertainty radius, plus the
names of that level and above.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from geotagger.catalog import Decision, Photo, WriteRecord
from geotagger.catalog.schema import GPS_FROM_ACCEPTED, REVIEW_ACCEPTED, REVIEW_WRITTEN
from geotagger.errors import GeotaggerError, MetadataError, NotFoundError, UserInputError, WriteRefusedError
from geotagger.metadata.safe_io import (
    atomic_write,
    check_writable,
    read_backup,
    remove_file,
    sha256_bytes,
    sha256_file,
    store_backup,
    temp_path_for,
)
from geotagger.metadata.verify import verify_jpeg_patch, verify_on_disk, verify_sidecar
from geotagger.metadata.write_jpeg import GpsFix, add_gps
from geotagger.metadata.xmp import find_sidecar
from geotagger.metadata.xmp_write import (
    PLACE_NAME_MODES,
    SIDECAR_POLICIES,
    XmpLocation,
    embed_xmp,
    merge_xmp,
    sidecar_path,
)
from geotagger.progress import CancelToken, NullProgress, Progress
from geotagger.services.decisions import latest_accept
from geotagger.services.library import Library

log = logging.getLogger(__name__)

KIND_EXIF = "exif"  # in the file: EXIF GPS (and the XMP packet with place names, if embedded)
KIND_XMP = "xmp"  # in the file: only the embedded XMP packet (country level)
KIND_SIDECAR = "sidecar"
PENDING, DONE, FAILED, UNDONE = "pending", "done", "failed", "undone"
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class FileChange:
    """One file to replace (or create): its old bytes (None = new file) and verified new bytes."""

    kind: str
    target: Path
    old: bytes | None
    new: bytes
    fix: GpsFix | None
    keep_mtime: bool


@dataclass
class WriteItem:
    photo_id: int
    path: str
    status: str  # "written", "would write", "failed"
    targets: list[str] = field(default_factory=list)
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WriteReport:
    dry_run: bool
    items: list[WriteItem] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)  # ids of pending records found and settled

    @property
    def written(self) -> int:
        return sum(1 for i in self.items if i.status in ("written", "would write"))

    @property
    def failed(self) -> int:
        return sum(1 for i in self.items if i.status == "failed")


def location_of(decision: Decision) -> XmpLocation:
    """What a decision writes at its level (see the module docstring)."""
    level = decision.level or "exact"
    address = decision.address or {}
    fix = None
    if level != "country":
        assert decision.lat is not None and decision.lon is not None
        radius_m = decision.radius_km * 1000 if decision.radius_km is not None else None
        fix = GpsFix(decision.lat, decision.lon, None, radius_m)
    return XmpLocation(
        fix=fix,
        city=address.get("locality") if level in ("city", "exact") else None,
        state=address.get("admin1") if level != "country" else None,
        country=address.get("country"),
        country_code=address.get("country_code"),
    )


def _is_jpeg(path: Path, fmt: str | None) -> bool:
    return fmt == "JPEG" if fmt else path.suffix.lower() in JPEG_SUFFIXES


def _sidecar_target(path: Path, policy: str) -> Path:
    """The policy's sidecar name, unless only the other convention's sidecar exists (merge into it)."""
    target = sidecar_path(path, policy)
    if not target.exists():
        existing = find_sidecar(path)
        if existing is not None:
            return existing
    return target


def plan_changes(
    photo: Photo,
    decision: Decision,
    *,
    sidecar_policy: str,
    place_names: str = "sidecar",
    keep_mtime: bool = True,
) -> tuple[list[FileChange], list[str]]:
    """The verified file changes that carry out ``decision`` for ``photo``, and notes for the report.

    ``keep_mtime``: the photo keeps its modification time (photo managers sort by it); False stamps now.
    """
    if place_names not in PLACE_NAME_MODES:
        raise UserInputError(f"place names must go to one of {', '.join(PLACE_NAME_MODES)}")
    path = Path(photo.path)
    if not path.is_file():
        raise NotFoundError(f"{path} is missing")
    location = location_of(decision)
    names = location if place_names != "none" else XmpLocation(location.fix)
    has_names = any((names.city, names.state, names.country, names.country_code))
    embed = place_names == "embedded" and has_names
    changes: list[FileChange] = []
    notes: list[str] = []
    gps_done = names_done = False
    if _is_jpeg(path, photo.format) and (location.fix is not None or embed):
        try:
            check_writable(path)
            old = path.read_bytes()
            new = add_gps(old, location.fix) if location.fix is not None else old
            xmp = None
            if embed:
                try:
                    new, xmp = embed_xmp(new, names, label=str(path)), names
                except MetadataError as exc:
                    notes.append(f"XMP not embedded ({exc}); place names in a sidecar")
            if new != old:
                verify_jpeg_patch(old, new, location.fix, path, xmp=xmp)
                kind = KIND_EXIF if location.fix is not None else KIND_XMP
                changes.append(FileChange(kind, path, old, new, location.fix, keep_mtime=keep_mtime))
                gps_done, names_done = location.fix is not None, xmp is not None
        except WriteRefusedError as exc:
            notes.append(f"not written into the file ({exc}); XMP sidecar instead")
    if (location.fix is not None and not gps_done) or (has_names and not names_done):
        if names.fix is None and not has_names:
            raise UserInputError(f"nothing to write for {path}: country level without a known country")
        target = _sidecar_target(path, sidecar_policy)
        try:
            check_writable(target)  # here, so a dry run already tells what will fail
        except WriteRefusedError as exc:
            raise WriteRefusedError(f"{target.name} cannot be written: {exc}") from exc
        old_sidecar = target.read_bytes() if target.exists() else None
        new_sidecar = merge_xmp(old_sidecar, names, label=str(target))
        changes.append(FileChange(KIND_SIDECAR, target, old_sidecar, new_sidecar, names.fix, False))
    return changes, notes


# --- journal -------------------------------------------------------------------------------------


def _start_record(lib: Library, photo_id: int, decision_id: int | None, change: FileChange) -> int:
    backup = None
    if change.old is not None:
        backup, _digest = store_backup(lib.side_dir("backups"), change.old, change.target.suffix.lower())
    with lib.catalog.writer() as session:
        record = WriteRecord(
            photo_id=photo_id,
            decision_id=decision_id,
            target_path=str(change.target),
            kind=change.kind,
            backup_path=str(backup) if backup else None,
            before_sha256=sha256_bytes(change.old) if change.old is not None else None,
            after_sha256=sha256_bytes(change.new),
            status=PENDING,
            created_at=_now(),
        )
        session.add(record)
        session.flush()
        return record.id


def _set_status(lib: Library, record_id: int, status: str, error: str | None = None) -> None:
    with lib.catalog.writer() as session:
        record = session.get(WriteRecord, record_id)
        assert record is not None
        record.status, record.error, record.finished_at = status, error, _now()


def _finish(lib: Library, record_id: int) -> None:
    """Mark a file change done (separate function: tests interrupt the run right here)."""
    _set_status(lib, record_id, DONE)


def _put_back(target: Path, old: bytes | None, tag: str) -> None:
    """Restore the previous content of ``target`` (remove it if it did not exist)."""
    if old is None:
        remove_file(target)
    else:
        atomic_write(target, old, keep_mtime=True, tag=tag)


def apply_change(lib: Library, photo_id: int, decision_id: int | None, change: FileChange) -> int:
    """Carry out one verified change with backup, journal and on-disk verification; the record id."""
    record_id = _start_record(lib, photo_id, decision_id, change)
    try:
        expected = sha256_bytes(change.old) if change.old is not None else None
        if sha256_file(change.target) != expected:
            raise MetadataError(f"{change.target} changed while it was being written; left as it is")
        atomic_write(change.target, change.new, keep_mtime=change.keep_mtime, tag=f"w{record_id}")
    except GeotaggerError as exc:
        _set_status(lib, record_id, FAILED, str(exc))
        raise
    try:
        if change.kind in (KIND_EXIF, KIND_XMP):
            verify_on_disk(change.target, change.new, change.fix)
        else:
            verify_on_disk(change.target, change.new, None)
            verify_sidecar(change.target, change.fix)
    except MetadataError as exc:
        _put_back(change.target, change.old, f"r{record_id}")
        _set_status(lib, record_id, FAILED, str(exc))
        raise
    _finish(lib, record_id)
    return record_id


def _refresh_file_fields(photo: Photo) -> None:
    from geotagger.indexing.fingerprint import fingerprint

    path = Path(photo.path)
    if path.is_file():
        stat = path.stat()
        photo.size, photo.mtime_ns, photo.fingerprint = stat.st_size, stat.st_mtime_ns, fingerprint(path)


def _mark_written(session: Any, photo: Photo, decision: Decision, sidecar: str | None) -> None:
    location = location_of(decision)
    photo.review_state = REVIEW_WRITTEN
    if location.fix is not None:
        photo.gps_lat, photo.gps_lon, photo.gps_alt = location.fix.lat, location.fix.lon, None
        photo.gps_source = GPS_FROM_ACCEPTED
    if sidecar:
        photo.sidecar_path = sidecar
    _refresh_file_fields(photo)


def reconcile(lib: Library) -> list[int]:
    """Settle records a crash left "pending": done if the file holds the new bytes, else failed."""
    settled = []
    with lib.catalog.writer() as session:
        pending = session.scalars(select(WriteRecord).where(WriteRecord.status == PENDING)).all()
        for record in pending:
            target = Path(record.target_path)
            for tag in (f"w{record.id}", f"r{record.id}"):
                temp_path_for(target, tag).unlink(missing_ok=True)
            current = sha256_file(target)
            record.finished_at = _now()
            if current == record.after_sha256:
                record.status = DONE
                photo = session.get(Photo, record.photo_id) if record.photo_id else None
                decision = session.get(Decision, record.decision_id) if record.decision_id else None
                if photo is not None and decision is not None:
                    sidecar = record.target_path if record.kind == KIND_SIDECAR else None
                    _mark_written(session, photo, decision, sidecar)
            elif current == record.before_sha256:
                record.status, record.error = FAILED, "interrupted before the file was changed"
            else:
                record.status = FAILED
                record.error = "interrupted; the file has been changed since by something else"
            log.warning("write record %s for %s reconciled as %s", record.id, target, record.status)
            settled.append(record.id)
    return settled


# --- the services --------------------------------------------------------------------------------


def write(
    lib: Library,
    *,
    dry_run: bool = False,
    sidecar_policy: str = "ext.xmp",
    place_names: str = "sidecar",
    photo_ids: Sequence[int] | None = None,
    keep_mtime: bool = True,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> WriteReport:
    """Write every accepted, not yet written photo (only those in ``photo_ids`` when given); a
    failure of one photo does not stop the rest."""
    if sidecar_policy not in SIDECAR_POLICIES:
        raise UserInputError(f"sidecar naming must be one of {', '.join(SIDECAR_POLICIES)}")
    if place_names not in PLACE_NAME_MODES:
        raise UserInputError(f"place names must go to one of {', '.join(PLACE_NAME_MODES)}")
    progress = progress or NullProgress()
    report = WriteReport(dry_run=dry_run)
    if not dry_run:
        report.reconciled = reconcile(lib)
    with lib.catalog.reader() as session:
        query = select(Photo.id).where(Photo.review_state == REVIEW_ACCEPTED).order_by(Photo.id)
        ids = list(session.scalars(query))
    if photo_ids is not None:
        wanted = set(photo_ids)
        ids = [i for i in ids if i in wanted]
    progress.start(len(ids), "Writing locations" if not dry_run else "Checking what would be written")
    for photo_id in ids:
        if cancel is not None:
            cancel.check()
        report.items.append(_write_one(lib, photo_id, dry_run, sidecar_policy, place_names, keep_mtime))
        progress.advance()
    progress.finish(f"{report.written} written, {report.failed} failed")
    return report


def _write_one(
    lib: Library, photo_id: int, dry_run: bool, policy: str, place_names: str, keep_mtime: bool = True
) -> WriteItem:
    with lib.catalog.reader() as session:
        photo = session.get(Photo, photo_id)
        assert photo is not None
        decision = latest_accept(session, photo_id)
        session.expunge_all()  # plain snapshots: the reader's rollback must not expire them
    item = WriteItem(photo_id, photo.path, "failed")
    if decision is None:
        item.detail = "accepted, but no accept decision in the journal"
        return item
    try:
        changes, notes = plan_changes(
            photo, decision, sidecar_policy=policy, place_names=place_names, keep_mtime=keep_mtime
        )
    except GeotaggerError as exc:
        item.detail = str(exc)
        return item
    item.targets = [f"{c.kind}:{c.target}" for c in changes]
    item.detail = "; ".join(notes)
    if dry_run:
        item.status = "would write"
        return item
    done: list[tuple[int, FileChange]] = []
    try:
        for change in changes:
            done.append((apply_change(lib, photo_id, decision.id, change), change))
    except GeotaggerError as exc:
        for record_id, change in reversed(done):  # all or nothing per photo
            _put_back(change.target, change.old, f"r{record_id}")
            _set_status(lib, record_id, UNDONE, f"rolled back: {exc}")
        item.detail = "; ".join([*notes, str(exc)])
        return item
    sidecar = next((str(c.target) for c in changes if c.kind == KIND_SIDECAR), None)
    with lib.catalog.writer() as session:
        photo = session.get(Photo, photo_id)
        decision = session.get(Decision, decision.id)
        assert photo is not None and decision is not None
        _mark_written(session, photo, decision, sidecar)
    item.status = "written"
    return item


def _undo_record(lib: Library, record: WriteRecord) -> None:
    target = Path(record.target_path)
    current = sha256_file(target)
    if current != record.before_sha256:
        if current != record.after_sha256:
            raise MetadataError(
                f"{target} was changed after geotagger wrote it; not undoing"
                + (f" (the previous version is kept in {record.backup_path})" if record.backup_path else "")
            )
        if record.before_sha256 is None:
            remove_file(target)
        else:
            assert record.backup_path is not None
            atomic_write(target, read_backup(record.backup_path, record.before_sha256), tag=f"u{record.id}")
        if sha256_file(target) != record.before_sha256:
            raise MetadataError(f"{target} could not be restored exactly; the backup is {record.backup_path}")
    _set_status(lib, record.id, UNDONE)


def undo(lib: Library, last: int = 1) -> list[WriteRecord]:
    """Restore the exact previous bytes of the last ``last`` written photos (newest first).

    Sidecars geotagger created are removed. The photo goes back to "accepted" with the GPS it had before.
    """
    if last < 1:
        raise UserInputError("--last must be 1 or more")
    reconcile(lib)
    with lib.catalog.reader() as session:
        records = session.scalars(
            select(WriteRecord).where(WriteRecord.status == DONE).order_by(WriteRecord.id.desc())
        ).all()
        session.expunge_all()
    groups: dict[tuple[int | None, int | None], list[WriteRecord]] = {}
    for record in records:
        key = (record.photo_id, record.decision_id)
        if key not in groups and len(groups) == last:
            continue
        groups.setdefault(key, []).append(record)
    undone: list[int] = []
    for (photo_id, decision_id), group in groups.items():
        for record in group:
            _undo_record(lib, record)
            undone.append(record.id)
        _revert_photo(lib, photo_id, decision_id)
    with lib.catalog.reader() as session:
        result = session.scalars(select(WriteRecord).where(WriteRecord.id.in_(undone))).all()
        session.expunge_all()
        return sorted(result, key=lambda r: r.id, reverse=True)


def _revert_photo(lib: Library, photo_id: int | None, decision_id: int | None) -> None:
    if photo_id is None:
        return
    with lib.catalog.writer() as session:
        photo = session.get(Photo, photo_id)
        decision = session.get(Decision, decision_id) if decision_id else None
        if photo is None:
            return
        previous = decision.previous if decision is not None else {}
        photo.review_state = REVIEW_ACCEPTED
        for key in ("gps_lat", "gps_lon", "gps_alt", "gps_source", "sidecar_path"):
            if key in previous:
                setattr(photo, key, previous[key])
        _refresh_file_fields(photo)
