"""Writing accepted locations into files, journaled so every change can be undone byte for byte.

Order of a photo's change (why it is safe to kill at any point; details in ``write_journal``):
0. the photo is checked against the catalog: a file changed since it was indexed (new content, or GPS
   that another tool added to it or to its sidecar) is refused, never overwritten;
1. ALL its file changes (EXIF patch, sidecar) are built and verified in memory, and every target is
   checked readable and writable, before anything is changed;
2. the exact old bytes of every file go to the library's backups folder (content-addressed, fsync'ed);
3. one WriteRecord "pending" per file is committed in one transaction (one group);
4. each file is replaced atomically (temp file in the same folder, fsync, rename, mtime kept), but only
   if it still holds the bytes the plan was built from;
5. all are re-read and verified on disk, then marked "done" with the photo "written" in one transaction.
A failure rolls every file of the photo back; a group a crash left "pending" is finished or rolled back
by the next run. The whole run holds the library's writer lock (``write_lock``).

JPEGs get EXIF GPS in place; every other format (and a JPEG the writer refuses, or a read-only JPEG)
gets an XMP sidecar; RAW files are never written into. Place names (``place_names``) go to the sidecar
("sidecar", default), into a JPEG's own XMP packet ("embedded", sidecar for other formats or when the
packet cannot be edited safely), or nowhere ("none"). Coarse levels: "country"
writes only the country's name and code, no coordinate (a centroid would pretend a position); "region",
"city" and "exact" write the coordinate with GPSHPositioningError = the uncertainty radius, plus the
names of that level and above.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from geotagger.catalog import Decision, Photo, WriteRecord
from geotagger.catalog.library import Library
from geotagger.catalog.schema import GPS_FROM_EXIF, GPS_FROM_XMP, REVIEW_ACCEPTED
from geotagger.errors import GeotaggerError, MetadataError, NotFoundError, UserInputError, WriteRefusedError
from geotagger.metadata.safe_io import atomic_write, check_readable, check_writable, sha256_bytes, sha256_file
from geotagger.metadata.verify import verify_jpeg_patch, verify_on_disk, verify_sidecar
from geotagger.metadata.write_jpeg import add_gps
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
from geotagger.services import write_journal as journal
from geotagger.services.decisions import latest_accept
from geotagger.services.write_journal import (
    DONE,
    FAILED,
    KIND_EXIF,
    KIND_SIDECAR,
    KIND_XMP,
    PENDING,
    UNDOING,
    UNDONE,
    FileChange,
    location_of,
    reconcile,
)
from geotagger.services.write_lock import writer_lock
from geotagger.services.write_undo import UndoResult, undo

log = logging.getLogger(__name__)

__all__ = [
    "DONE",
    "FAILED",
    "PENDING",
    "UNDOING",
    "UNDONE",
    "FileChange",
    "UndoResult",
    "reconcile",
    "undo",
    "write",
]
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})
_SAME_GPS_DEG = 1e-6  # the catalog's GPS and a fresh read agree (both come from the same reader)


@dataclass
class WriteItem:
    photo_id: int
    path: str
    status: str  # "written", "would write", "failed"
    targets: list[str] = field(default_factory=list)
    detail: str = ""
    lat: float | None = None  # what is (or would be) written
    lon: float | None = None
    level: str | None = None
    radius_km: float | None = None
    places: str = ""  # "Lauterbrunnen, Bern, Switzerland" (the names written, if any)

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
    check_readable(path)
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
        if target.exists():
            check_readable(target)
        old_sidecar = target.read_bytes() if target.exists() else None
        new_sidecar = merge_xmp(old_sidecar, names, label=str(target))
        changes.append(FileChange(KIND_SIDECAR, target, old_sidecar, new_sidecar, names.fix, False))
    return changes, notes


# --- the services --------------------------------------------------------------------------------


def _has_real_gps(source: str | None) -> bool:
    return source in (GPS_FROM_EXIF, GPS_FROM_XMP)


def check_unchanged(photo: Photo) -> None:
    """Refuse a photo whose file (or sidecar) is not what the catalog knows: another tool may have
    added GPS since it was indexed, or the file may be another photo now. Raises WriteRefusedError."""
    from geotagger.indexing.fingerprint import fingerprint
    from geotagger.metadata.read import read_metadata

    path = Path(photo.path)
    try:
        size = path.stat().st_size
        same_content = size == photo.size and fingerprint(path) == photo.fingerprint
        meta = read_metadata(path)
    except OSError as exc:
        raise MetadataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    has_gps = meta.gps_lat is not None and meta.gps_lon is not None
    known_gps = photo.gps_lat is not None and photo.gps_lon is not None
    gps_differs = has_gps and (
        not known_gps
        or abs(meta.gps_lat - photo.gps_lat) > _SAME_GPS_DEG  # type: ignore[operator]
        or abs(meta.gps_lon - photo.gps_lon) > _SAME_GPS_DEG  # type: ignore[operator]
    )
    if same_content and not gps_differs:
        return
    if gps_differs:
        where = "its sidecar" if meta.gps_source == GPS_FROM_XMP else "another tool"
        why = f"now has GPS {meta.gps_lat:.5f}, {meta.gps_lon:.5f} from {where}"
    else:
        why = "its content differs"
    raise WriteRefusedError(
        f"{path.name} changed since it was indexed ({why}); not written — re-index to review it"
    )


def _describe(item: WriteItem, decision: Decision, place_names: str) -> None:
    location = location_of(decision)
    item.level = decision.level or "exact"
    if location.fix is not None:
        item.lat, item.lon = round(location.fix.lat, 5), round(location.fix.lon, 5)
        item.radius_km = decision.radius_km
    if place_names != "none":
        item.places = ", ".join(n for n in (location.city, location.state, location.country) if n)


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
    failure of one photo does not stop the rest. Holds the library's writer lock for the whole run;
    a catalog that disappears or cannot record the write stops it (JournalError)."""
    if sidecar_policy not in SIDECAR_POLICIES:
        raise UserInputError(f"sidecar naming must be one of {', '.join(SIDECAR_POLICIES)}")
    if place_names not in PLACE_NAME_MODES:
        raise UserInputError(f"place names must go to one of {', '.join(PLACE_NAME_MODES)}")
    progress = progress or NullProgress()
    report = WriteReport(dry_run=dry_run)
    # a dry run changes nothing, so it neither waits for nor blocks a writer
    with writer_lock(lib.catalog) if not dry_run else contextlib.nullcontext():
        guard = journal.CatalogGuard(lib)
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
            if not dry_run:
                guard.check()
            item = _write_one(lib, guard, photo_id, dry_run, sidecar_policy, place_names, keep_mtime)
            report.items.append(item)
            progress.advance()
        if not dry_run:
            guard.check()
    progress.finish(f"{report.written} written, {report.failed} failed")
    return report


def _write_one(
    lib: Library,
    guard: journal.CatalogGuard,
    photo_id: int,
    dry_run: bool,
    policy: str,
    place_names: str,
    keep_mtime: bool = True,
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
    _describe(item, decision, place_names)
    try:
        check_unchanged(photo)
        changes, notes = plan_changes(
            photo, decision, sidecar_policy=policy, place_names=place_names, keep_mtime=keep_mtime
        )
        for change in changes:  # every target, before anything is changed
            check_writable(change.target)
    except (GeotaggerError, OSError) as exc:
        item.detail = _reason(exc)
        return item
    item.targets = [f"{c.kind}:{c.target}" for c in changes]
    item.detail = "; ".join(notes)
    if dry_run:
        item.status = "would write"
        return item
    try:
        _apply_group(lib, guard, photo, decision, changes)
    except journal.JournalError:
        raise  # the catalog is gone or cannot record: stop the run
    except (GeotaggerError, OSError) as exc:
        item.detail = "; ".join([*notes, _reason(exc)])
        return item
    item.status = "written"
    return item


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"{exc.filename or 'file'}: {exc.strerror or exc}"
    return str(exc)


def _apply_group(
    lib: Library, guard: journal.CatalogGuard, photo: Photo, decision: Decision, changes: list[FileChange]
) -> None:
    """All of a photo's file changes, or none: see the module docstring."""
    label = photo.path
    records = journal.begin_group(lib, photo.id, decision.id, label, changes)
    landed: list[FileChange] = []
    try:
        for change in changes:  # never patch a file whose bytes are not the ones the plan was built from
            expected = sha256_bytes(change.old) if change.old is not None else None
            if sha256_file(change.target) != expected:
                raise MetadataError(f"{change.target} changed while it was being written; left as it is")
        for change in changes:
            landed.append(change)
            atomic_write(change.target, change.new, keep_mtime=change.keep_mtime)
        for change in changes:
            if change.kind in (KIND_EXIF, KIND_XMP):
                verify_on_disk(change.target, change.new, change.fix)
            else:
                verify_on_disk(change.target, change.new, None)
                verify_sidecar(change.target, change.fix)
        guard.check()
        sidecar = next((str(c.target) for c in changes if c.kind == KIND_SIDECAR), None)
        journal.finish(lib, records, (photo.id, decision.id, sidecar), label)
    except (GeotaggerError, OSError) as exc:
        _roll_back(lib, records, landed, _reason(exc), label)
        raise


def _roll_back(
    lib: Library, records: list[WriteRecord], landed: list[FileChange], reason: str, label: str
) -> None:
    """Put every file of a failed group back; record why. A file that cannot be put back leaves the
    group pending for the next run's reconcile (which tries again from the backups)."""
    try:
        for change in reversed(landed):
            current = sha256_file(change.target)
            if current == sha256_bytes(change.new):
                journal.put_back(change.target, change.old)
    except GeotaggerError as exc:
        log.error("could not roll back %s: %s; the next run settles it", label, exc)
        return
    try:
        journal.set_group(lib, records, FAILED, f"rolled back: {reason}", label=label)
    except journal.JournalError as exc:  # the files are back; the catalog will reconcile them
        log.error("%s", exc)
