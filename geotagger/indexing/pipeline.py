"""The indexing run: walk -> stat -> (unchanged? skip) -> read in workers -> write rows, one writer.

Incremental by (size, mtime_ns); a new path whose fingerprint matches a row whose file is gone is a
move and keeps that row (id, suggestions, decisions); rows under the scanned roots whose files were
not seen become "missing". Cancelling (CancelToken or Ctrl-C) commits what was read and stops; the
next run resumes because committed files are then unchanged.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from geotagger.catalog.library import Library
from geotagger.catalog.schema import STATUS_MISSING
from geotagger.errors import CancelledError
from geotagger.indexing.pool import ReadPool
from geotagger.indexing.reading import ReadResult
from geotagger.indexing.store import (
    RETRY,
    BatchWriter,
    fingerprint_key,
    load_known,
    move_candidates,
    row_values,
)
from geotagger.indexing.walk import normalise_extensions, walk
from geotagger.progress import CancelToken, NullProgress, Progress

log = logging.getLogger(__name__)
_REREAD = frozenset({STATUS_MISSING, RETRY})  # rows read again even when size and mtime match


@dataclass
class IndexReport:
    """Counts of one run. ``errors`` counts files that got an error row plus walk problems;
    ``warnings`` holds the walk problems and skipped files as ``path: reason`` lines."""

    scanned: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    missing: int = 0
    errors: int = 0
    skipped: int = 0  # of ``errors``: files and folders the walk could not take (no row: see warnings)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        rate = f" ({self.scanned / self.seconds:,.0f} files/s)" if self.seconds > 0 and self.scanned else ""
        return (
            f"{self.scanned} files scanned in {self.seconds:.2f} s{rate}: {self.added} added, "
            f"{self.updated} updated, {self.moved} moved, {self.unchanged} unchanged, "
            f"{self.missing} missing, {self.errors} errors"
        )


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r if r.endswith(os.sep) else r + os.sep) for r in roots)


class _Run:
    def __init__(self, lib: Library, roots: list[str], extensions: frozenset[str]) -> None:
        self.lib = lib
        self.roots = roots
        self.extensions = extensions
        self.report = IndexReport()
        self.failed_dirs: list[str] = []
        self.claimed: set[int] = set()
        with lib.catalog.reader() as session:
            self.known, self.fingerprints = load_known(session, roots)
        self.writer = BatchWriter(lib)

    def problem(self, path: str, message: str) -> None:
        self.report.warnings.append(f"{path}: {message}")
        self.report.errors += 1
        self.report.skipped += 1
        if os.path.isdir(path):  # its rows must not be marked missing: we could not look
            self.failed_dirs.append(path)

    def handle(self, result: ReadResult) -> None:
        report = self.report
        if result.vanished:
            report.warnings.append(f"{result.path}: skipped: deleted during the scan")
            if result.row_id is not None:
                self.writer.mark_missing(result.row_id)
                report.missing += 1
            return
        if result.error or (result.meta is not None and result.meta.warnings):
            report.errors += 1  # every row that `list --filter error` shows
        values = row_values(result)
        if result.row_id is not None:
            self.writer.update(result.row_id, values)
            report.updated += 1
            return
        moved_from = self._moved_row(result)
        if moved_from is not None:
            row_id, old_path = moved_from
            self.known.pop(old_path, None)
            self.claimed.add(row_id)
            self.writer.update(row_id, values)
            report.moved += 1
            return
        # (New fingerprints are not added to the set: a file added in this run still exists, so it
        # can never be the source of a move; this keeps a cold run's memory flat.)
        self.writer.insert(values)
        report.added += 1

    def _moved_row(self, result: ReadResult) -> tuple[int, str] | None:
        """A row with the same content whose file no longer exists at its path."""
        fp = result.fingerprint
        if result.meta is None or not fp or fingerprint_key(fp) not in self.fingerprints:
            return None
        with self.lib.catalog.reader() as session:
            candidates = move_candidates(session, fp)
        for row_id, old_path in candidates:
            if row_id not in self.claimed and old_path != result.path and not os.path.lexists(old_path):
                return row_id, old_path
        return None

    def mark_missing(self) -> None:
        """Rows under the roots that the walk did not see (and whose folder could be listed)."""
        for path, (row_id, _size, _mtime, status) in self.known.items():
            if status == STATUS_MISSING or not _under(path, self.roots):
                continue
            if self.failed_dirs and _under(path, self.failed_dirs):
                continue
            if os.path.lexists(path):
                # Still there but not walked (hidden folder, extension no longer read): leave it.
                continue
            self.writer.mark_missing(row_id)
            self.report.missing += 1


def run_index(
    lib: Library,
    roots: Sequence[str],
    extensions: frozenset[str] | set[str],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
    pool: str = "auto",
) -> IndexReport:
    """Index ``roots`` (absolute, existing paths) into the library; see the module docstring."""
    started = time.perf_counter()
    exts = normalise_extensions(extensions)
    run = _Run(lib, list(roots), exts)
    progress = progress or NullProgress()
    reader = ReadPool(workers, pool)
    total = None
    if not isinstance(progress, NullProgress):
        # A visible progress bar: count first (cheap, no stat) and start the workers before the bar
        # starts its refresh thread. Without a bar, workers start only if there is work for them.
        total = sum(1 for _ in walk(roots, exts, lambda _p, _m: None, with_stat=False))
        if total:
            reader.start()
    progress.start(total, "indexing")
    known, report = run.known, run.report
    completed = False
    try:
        for entry in walk(roots, exts, run.problem):
            if cancel is not None and cancel.cancelled:
                break
            report.scanned += 1
            row = known.pop(entry.path, None)
            if (
                row is not None
                and row[1] == entry.size
                and row[2] == entry.mtime_ns
                and row[3] not in _REREAD
            ):
                report.unchanged += 1
                progress.advance()
                continue
            job = (entry.path, entry.size, entry.mtime_ns, None if row is None else row[0], entry.sidecars)
            for result in reader.add(job):
                run.handle(result)
                progress.advance()
        else:
            for result in reader.drain():
                run.handle(result)
                progress.advance()
            run.mark_missing()
            completed = True
    finally:
        # On Ctrl-C or cancel: stop the workers, keep every row already read (consistent: each row
        # is one file's state), then let the interruption go on.
        reader.close()
        run.writer.flush()
        report.seconds = time.perf_counter() - started
        progress.finish(str(report))
    if not completed:
        raise CancelledError(
            f"indexing cancelled after {report.scanned} files; what was read is kept and the next run resumes"
        )
    log.info("%s", report)
    return report
