"""The write journal: every photo's file changes are one group that lands completely or not at all.

A group is the records of one photo and one decision that share a status. Its life:

- write: backups of every old file -> all records "pending" in one transaction -> files replaced ->
  verified -> all "done" and the photo "written" in one transaction;
- undo: all records "undoing" in one transaction -> old bytes restored -> all "undone" and the photo
  "accepted" again in one transaction.

``reconcile`` settles what a crash left behind: a pending write group whose files all hold the new bytes
is finished; any other is rolled back to the exact old bytes (from the backups), so a photo never keeps
its new EXIF without its sidecar, and a later write never patches an already patched file. An undoing
group is finished (the backups hold what it restores). Reconcile runs under the writer lock
(``write_lock``), so every record it sees belongs to a process that is gone; one record it cannot
settle gets the error stored and the others are still settled.

Each step is also appended to ``journal.jsonl`` in the backups folder (plain text, fsync'ed): if the
catalog is deleted or replaced during a run, the backups stay findable and restorable by hand.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from geotagger.catalog import Decision, Photo, WriteRecord
from geotagger.catalog.library import Library
from geotagger.catalog.schema import GPS_FROM_ACCEPTED, REVIEW_ACCEPTED, REVIEW_WRITTEN
from geotagger.errors import CatalogError, GeotaggerError, MetadataError
from geotagger.metadata.safe_io import (
    atomic_write,
    read_backup,
    remove_file,
    remove_stale_temps,
    sha256_bytes,
    sha256_file,
    store_backup,
)
from geotagger.metadata.write_jpeg import GpsFix
from geotagger.metadata.xmp_write import XmpLocation

log = logging.getLogger(__name__)

KIND_EXIF = "exif"  # in the file: EXIF GPS (and the XMP packet with place names, if embedded)
KIND_XMP = "xmp"  # in the file: only the embedded XMP packet (country level)
KIND_SIDECAR = "sidecar"
PENDING, DONE, FAILED, UNDONE, UNDOING = "pending", "done", "failed", "undone", "undoing"
TEXT_JOURNAL = "journal.jsonl"


class JournalError(CatalogError):
    """The catalog cannot record a write (disk full, I/O error, removed): nothing more is written."""


def now() -> datetime:
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


class CatalogGuard:
    """Notices the catalog file being deleted or replaced under a running write (item: a write that
    goes on recording into a deleted catalog leaves backups nothing knows about)."""

    def __init__(self, lib: Library) -> None:
        self.path = lib.catalog.path
        # the file the library opened (a GUI keeps it open for hours), else the one there now
        self.identity = getattr(lib, "catalog_identity", None) or self._identity()

    def _identity(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def check(self) -> None:
        if self.path is None:
            return
        if self.identity is None or self._identity() != self.identity:
            raise JournalError(
                f"the catalog {self.path} was removed or replaced while writing; stopped "
                f"(what was written is recorded in {TEXT_JOURNAL} in the library's backups folder)"
            )


# --- plain-text journal ----------------------------------------------------------------------------


def _text_journal(lib: Library, event: str, photo: str, records: Iterable[WriteRecord]) -> None:
    """Append one line; failing to do so stops the write (it is what survives a lost catalog)."""
    line = {
        "time": now().isoformat(timespec="seconds") + "Z",
        "pid": os.getpid(),
        "event": event,
        "photo": photo,
        "files": [
            {
                "record": r.id,
                "kind": r.kind,
                "target": r.target_path,
                "backup": r.backup_path,
                "before_sha256": r.before_sha256,
                "after_sha256": r.after_sha256,
            }
            for r in records
        ],
    }
    path = lib.side_dir("backups") / TEXT_JOURNAL
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise JournalError(f"cannot append to the write journal {path}: {exc.strerror or exc}") from exc


def location_of(decision: Decision) -> XmpLocation:
    """What a decision writes at its level (levels: see services/writing.py); here so that writing and the
    journal share it without importing each other."""
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


# --- catalog side ----------------------------------------------------------------------------------


def refresh_file_fields(photo: Photo) -> None:
    """The catalog's size/mtime/fingerprint of a photo we changed, so it is not seen as changed."""
    from geotagger.indexing.fingerprint import fingerprint

    path = Path(photo.path)
    try:
        if path.is_file():
            stat = path.stat()
            photo.size, photo.mtime_ns, photo.fingerprint = stat.st_size, stat.st_mtime_ns, fingerprint(path)
    except OSError as exc:
        log.warning("cannot refresh %s after writing it: %s", path, exc)


def mark_written(photo: Photo, decision: Decision, sidecar: str | None) -> None:
    location = location_of(decision)
    photo.review_state = REVIEW_WRITTEN
    if location.fix is not None:
        photo.gps_lat, photo.gps_lon, photo.gps_alt = location.fix.lat, location.fix.lon, None
        photo.gps_source = GPS_FROM_ACCEPTED
    if sidecar:
        photo.sidecar_path = sidecar
    refresh_file_fields(photo)


def revert_photo(session: Any, photo_id: int | None, decision_id: int | None) -> None:
    """Back to "accepted" with the GPS the photo had before the decision."""
    photo = session.get(Photo, photo_id) if photo_id is not None else None
    if photo is None:
        return
    decision = session.get(Decision, decision_id) if decision_id else None
    previous = decision.previous if decision is not None else {}
    photo.review_state = REVIEW_ACCEPTED
    for key in ("gps_lat", "gps_lon", "gps_alt", "gps_source", "sidecar_path"):
        if key in previous:
            setattr(photo, key, previous[key])
    refresh_file_fields(photo)


def _commit(lib: Library, what: str, fn: Any) -> Any:
    """Run ``fn(session)`` in one writer transaction; a database failure is one typed line."""
    try:
        with lib.catalog.writer() as session:
            return fn(session)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise JournalError(f"the catalog cannot record {what}: {reason}") from exc


def begin_group(
    lib: Library, photo_id: int, decision_id: int | None, label: str, changes: Sequence[FileChange]
) -> list[WriteRecord]:
    """Back up every old file, then journal all changes as pending in one transaction."""
    backups = lib.side_dir("backups")
    stored = [
        store_backup(backups, c.old, c.target.suffix.lower())[0] if c.old is not None else None
        for c in changes
    ]

    def add(session: Any) -> list[WriteRecord]:
        records = [
            WriteRecord(
                photo_id=photo_id,
                decision_id=decision_id,
                target_path=str(c.target),
                kind=c.kind,
                backup_path=str(b) if b else None,
                before_sha256=sha256_bytes(c.old) if c.old is not None else None,
                after_sha256=sha256_bytes(c.new),
                status=PENDING,
                created_at=now(),
            )
            for c, b in zip(changes, stored, strict=True)
        ]
        session.add_all(records)
        session.flush()
        return records

    records = _commit(lib, f"the write of {label}", add)
    _text_journal(lib, PENDING, label, records)
    return records


def set_group(
    lib: Library,
    records: Sequence[WriteRecord],
    status: str,
    error: str | None = None,
    *,
    photo: tuple[int, int, str | None] | None = None,
    revert: bool = False,
    label: str = "",
) -> None:
    """Give every record of a group ``status`` in one transaction; ``photo`` = (photo id, decision
    id, sidecar) marks the photo written in the same transaction, ``revert`` puts it back to accepted."""
    ids = [r.id for r in records]

    def update(session: Any) -> None:
        for row in session.scalars(select(WriteRecord).where(WriteRecord.id.in_(ids))):
            row.status, row.error, row.finished_at = status, error, now()
        if photo is not None:
            photo_row = session.get(Photo, photo[0])
            decision = session.get(Decision, photo[1])
            if photo_row is not None and decision is not None:
                mark_written(photo_row, decision, photo[2])
        if revert and records:
            revert_photo(session, records[0].photo_id, records[0].decision_id)

    _commit(lib, f"the {status} write of {label or 'a photo'}", update)
    _text_journal(lib, status, label, records)


def finish(
    lib: Library, records: Sequence[WriteRecord], photo: tuple[int, int, str | None], label: str
) -> None:
    """Mark a group done and its photo written (separate function: tests interrupt the run right here)."""
    set_group(lib, records, DONE, photo=photo, label=label)


# --- files side ------------------------------------------------------------------------------------


def put_back(target: Path, old: bytes | None) -> None:
    """Restore the previous content of ``target`` (remove it if it did not exist)."""
    if old is None:
        remove_file(target)
    else:
        atomic_write(target, old, keep_mtime=True)
    if sha256_file(target) != (sha256_bytes(old) if old is not None else None):
        raise MetadataError(f"{target} could not be restored exactly")


def _old_bytes(record: WriteRecord) -> bytes | None:
    if record.before_sha256 is None:
        return None
    if record.backup_path is None:
        raise MetadataError(f"no backup of {record.target_path} is recorded")
    return read_backup(record.backup_path, record.before_sha256)


def restore_record(record: WriteRecord) -> None:
    """Put the exact old bytes of one record's file back from its backup (no-op when already there)."""
    target = Path(record.target_path)
    if sha256_file(target) == record.before_sha256:
        return
    put_back(target, _old_bytes(record))


# --- reconcile -------------------------------------------------------------------------------------


def _groups(records: Sequence[WriteRecord]) -> list[list[WriteRecord]]:
    groups: dict[tuple[Any, ...], list[WriteRecord]] = {}
    for record in records:
        groups.setdefault((record.photo_id, record.decision_id, record.status), []).append(record)
    return list(groups.values())


def _settle_write(session: Any, group: list[WriteRecord]) -> None:
    current = [sha256_file(r.target_path) for r in group]
    if all(c == r.after_sha256 for c, r in zip(current, group, strict=True)):
        for r in group:
            r.status, r.error, r.finished_at = DONE, None, now()
        photo = session.get(Photo, group[0].photo_id) if group[0].photo_id else None
        decision = session.get(Decision, group[0].decision_id) if group[0].decision_id else None
        if photo is not None and decision is not None:
            sidecar = next((r.target_path for r in group if r.kind == KIND_SIDECAR), None)
            mark_written(photo, decision, sidecar)
        return
    for r, c in zip(group, current, strict=True):
        r.finished_at = now()
        r.status = FAILED
        if c == r.before_sha256:
            r.error = "interrupted before the file was changed"
        elif c == r.after_sha256:
            restore_record(r)
            r.error = "interrupted before the photo's other files were written; rolled back"
        else:
            r.error = "interrupted; the file has been changed since by something else"


def _settle_undo(session: Any, group: list[WriteRecord]) -> None:
    for r in group:
        current = sha256_file(r.target_path)
        r.finished_at = now()
        if current == r.after_sha256:
            restore_record(r)
        elif current != r.before_sha256:
            r.status, r.error = FAILED, "undo interrupted; the file has been changed since by something else"
            continue
        r.status, r.error = UNDONE, None
    revert_photo(session, group[0].photo_id, group[0].decision_id)


def reconcile(lib: Library) -> list[int]:
    """Settle groups a crash left "pending" or "undoing" (see the module docstring); their ids.

    The caller holds the writer lock, so none of them belongs to a running process.
    """
    with lib.catalog.reader() as session:
        open_records = list(
            session.scalars(
                select(WriteRecord).where(WriteRecord.status.in_((PENDING, UNDOING))).order_by(WriteRecord.id)
            )
        )
        session.expunge_all()
    folders = {Path(r.target_path).parent for r in open_records}
    for folder in folders | {lib.side_dir("backups")}:
        remove_stale_temps(folder)
    settled: list[int] = []
    for group in _groups(open_records):
        ids = [r.id for r in group]

        def settle(session: Any, ids: list[int] = ids, status: str = group[0].status) -> None:
            rows = list(session.scalars(select(WriteRecord).where(WriteRecord.id.in_(ids))))
            try:
                (_settle_write if status == PENDING else _settle_undo)(session, rows)
            except GeotaggerError as exc:
                for r in rows:  # kept as it is, never retried blindly; the error says why
                    if r.status in (PENDING, UNDOING):
                        r.status, r.error, r.finished_at = FAILED, f"could not be settled: {exc}", now()

        _commit(lib, "the settled journal", settle)
        _text_journal(lib, f"settled {group[0].status}", "", group)
        for r in group:
            log.warning(
                "write record %s for %s was left %s by an interrupted run", r.id, r.target_path, r.status
            )
        settled.extend(ids)
    return settled
