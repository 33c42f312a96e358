"""The backups folder of a library: what it holds and pruning what undo no longer needs.

Policy (why it is safe): a backup is *needed* while a journal record that may still be undone or
settled refers to it (status done, pending or undoing); needed backups are never pruned unless the user
asks with ``forget_undo`` (then writes older than ``keep_days`` can no longer be undone). Every other
backup (its write was undone, failed or rolled back, or no record refers to it, e.g. after the catalog
was replaced) is pruned once it is older than ``keep_days`` (default 30), so a user who notices a
mistake late can still restore by hand from ``journal.jsonl``. Temporary files of dead processes are
always removed. ``journal.jsonl`` itself is kept.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import select

from geotagger.catalog import WriteRecord
from geotagger.catalog.library import Library
from geotagger.errors import UserInputError
from geotagger.metadata.safe_io import TMP_PREFIX, remove_stale_temps
from geotagger.services.write_journal import DONE, PENDING, TEXT_JOURNAL, UNDOING
from geotagger.services.write_lock import writer_lock

DEFAULT_KEEP_DAYS = 30.0
_NEEDED = (DONE, PENDING, UNDOING)


@dataclass
class BackupFile:
    path: str
    size: int
    age_days: float
    needed: bool  # a write that can still be undone refers to it


@dataclass
class BackupsReport:
    folder: str
    files: list[BackupFile] = field(default_factory=list)
    pruned: list[BackupFile] = field(default_factory=list)
    dry_run: bool = False

    def totals(self, which: list[BackupFile] | None = None) -> tuple[int, int]:
        files = self.files if which is None else which
        return len(files), sum(f.size for f in files)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _records_by_backup(lib: Library) -> dict[str, tuple[bool, float]]:
    """backup path -> (needed, newest time a record used it, as a POSIX timestamp)."""
    found: dict[str, tuple[bool, float]] = {}
    with lib.catalog.reader() as session:
        rows = session.execute(
            select(
                WriteRecord.backup_path, WriteRecord.status, WriteRecord.created_at, WriteRecord.finished_at
            ).where(WriteRecord.backup_path.is_not(None))
        ).all()
    for path, status, created, finished in rows:
        stamp = max(t.replace(tzinfo=UTC).timestamp() for t in (created, finished) if t is not None)
        needed, newest = found.get(os.path.realpath(path), (False, 0.0))
        found[os.path.realpath(path)] = (needed or status in _NEEDED, max(newest, stamp))
    return found


def inventory(lib: Library) -> BackupsReport:
    """Every backup in the library's backups folder, with its size, age and whether undo needs it."""
    folder = lib.side_dir("backups")
    records = _records_by_backup(lib)
    report = BackupsReport(str(folder))
    now = time.time()
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.is_file(follow_symlinks=False) or entry.name == TEXT_JOURNAL:
            continue
        if entry.name.startswith(TMP_PREFIX):
            continue  # a writer's temporary file: removed by prune when its process is gone
        st = entry.stat(follow_symlinks=False)
        needed, used = records.get(os.path.realpath(entry.path), (False, 0.0))
        age = (now - max(st.st_mtime, used)) / 86400
        report.files.append(BackupFile(entry.path, st.st_size, round(max(age, 0.0), 3), needed))
    return report


def prune(
    lib: Library, *, keep_days: float = DEFAULT_KEEP_DAYS, dry_run: bool = False, forget_undo: bool = False
) -> BackupsReport:
    """Delete the backups the policy (module docstring) no longer keeps; under the writer lock."""
    if keep_days < 0:
        raise UserInputError("--keep-days must be 0 or more")
    with writer_lock(lib.catalog):
        report = inventory(lib)
        report.dry_run = dry_run
        for backup in report.files:
            if backup.age_days < keep_days or (backup.needed and not forget_undo):
                continue
            report.pruned.append(backup)
            if not dry_run:
                Path(backup.path).unlink(missing_ok=True)
        if not dry_run:
            remove_stale_temps(Path(report.folder))
    return report
