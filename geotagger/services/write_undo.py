"""Undo of written photos, journaled like a write: all of a photo's records "undoing" in one
transaction, the exact old bytes restored from the backups, then all "undone" and the photo "accepted"
again in one transaction. A kill in between is finished by the next run's reconcile; a photo that cannot
be undone is reported on its own and the others are still undone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select

from geotagger.catalog import WriteRecord
from geotagger.catalog.library import Library
from geotagger.errors import GeotaggerError, MetadataError, UserInputError
from geotagger.metadata.safe_io import check_writable, sha256_file
from geotagger.services import write_journal as journal
from geotagger.services.write_journal import DONE, UNDOING, UNDONE, reconcile
from geotagger.services.write_lock import writer_lock


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"{exc.filename or 'file'}: {exc.strerror or exc}"
    return str(exc)


class UndoResult(list):  # type: ignore[type-arg]
    """The undone write records (newest first) and, per photo that could not be undone, why."""

    def __init__(self, records: Sequence[WriteRecord] = (), failures: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(records)
        self.failures: list[tuple[str, str]] = list(failures)


def undo(lib: Library, last: int = 1) -> UndoResult:
    """Restore the exact previous bytes of the last ``last`` written photos (newest first).

    Sidecars geotagger created are removed. The photo goes back to "accepted" with the GPS it had before.
    A photo that cannot be undone (changed since, unreadable) is reported in ``failures`` and the others
    are still undone; when none could be, the first reason is raised.
    """
    if last < 1:
        raise UserInputError("--last must be 1 or more")
    return _undo(lib, lambda groups: len(groups) < last, None)


def undo_groups(lib: Library, keys: Sequence[tuple[int | None, int | None]]) -> UndoResult:
    """Undo the written groups named by (photo id, decision id): one history entry (services/history)."""
    wanted = set(keys)
    return _undo(lib, lambda _groups: True, wanted)


def _undo(
    lib: Library,
    room: Callable[[dict[tuple[int | None, int | None], list[WriteRecord]]], bool],
    wanted: set[tuple[int | None, int | None]] | None,
) -> UndoResult:
    """Undo done groups, newest first: those in ``wanted`` (all when None) while ``room`` allows a new one."""
    with writer_lock(lib.catalog):
        reconcile(lib)
        with lib.catalog.reader() as session:
            records = session.scalars(
                select(WriteRecord).where(WriteRecord.status == DONE).order_by(WriteRecord.id.desc())
            ).all()
            session.expunge_all()
        groups: dict[tuple[int | None, int | None], list[WriteRecord]] = {}
        for record in records:
            key = (record.photo_id, record.decision_id)
            if wanted is not None and key not in wanted:
                continue
            if key not in groups and not room(groups):
                continue
            groups.setdefault(key, []).append(record)
        undone: list[int] = []
        failures: list[tuple[str, str]] = []
        first_error: GeotaggerError | None = None
        for group in groups.values():
            try:
                _undo_group(lib, group)
            except journal.JournalError:
                raise
            except (GeotaggerError, OSError) as exc:
                failures.append((group[-1].target_path, _reason(exc)))
                if first_error is None:
                    first_error = exc if isinstance(exc, GeotaggerError) else MetadataError(_reason(exc))
                continue
            undone.extend(r.id for r in group)
        if first_error is not None and not undone:
            raise first_error
        with lib.catalog.reader() as session:
            result = session.scalars(select(WriteRecord).where(WriteRecord.id.in_(undone))).all()
            session.expunge_all()
    return UndoResult(sorted(result, key=lambda r: r.id, reverse=True), failures)


def _undo_group(lib: Library, group: list[WriteRecord]) -> None:
    """One photo's records: checked, journaled "undoing", restored, then "undone" in one transaction."""
    label = group[-1].target_path
    written: dict[int, bytes] = {}
    for record in group:
        target = Path(record.target_path)
        current = sha256_file(target)
        if current == record.before_sha256:
            continue
        if current != record.after_sha256:
            raise MetadataError(
                f"{target} was changed after geotagger wrote it; not undoing"
                + (f" (the previous version is kept in {record.backup_path})" if record.backup_path else "")
            )
        check_writable(target)
        journal._old_bytes(record)  # the backup is there and intact, before anything changes
        written[record.id] = target.read_bytes()
    journal.set_group(lib, group, UNDOING, label=label)
    restored: list[WriteRecord] = []
    try:
        for record in group:
            if record.id in written:
                restored.append(record)
                journal.restore_record(record)
    except (GeotaggerError, OSError) as exc:
        for record in reversed(restored):  # back to the written state: the photo stays "written"
            journal.put_back(Path(record.target_path), written[record.id])
        journal.set_group(lib, group, DONE, f"undo failed: {_reason(exc)}", label=label)
        raise
    journal.set_group(lib, group, UNDONE, revert=True, label=label)
