"""Catalog side of indexing: what is already known (one query), and batched row writes.

Rows are written with Core executemany statements, not ORM objects: a cold index of 10k files is
20 statements, and an unchanged file costs only a dict lookup.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, or_, select
from sqlalchemy.orm import Session

from geotagger.catalog.library import Library
from geotagger.catalog.schema import (
    GPS_FROM_ACCEPTED,
    GPS_FROM_MANUAL,
    REVIEW_NONE,
    STATUS_ERROR,
    STATUS_MISSING,
    STATUS_OK,
    Photo,
)
from geotagger.indexing.reading import ReadResult

photos = Photo.__table__
# GPS set by the user's workflow (accepted suggestion, manual placement) wins over what the file says:
# after a write-back the file carries the same coordinate, and the photo must stay "accepted".
# (An OR of equalities, not IN: an expanding IN parameter cannot be used in executemany updates.)
_USER_GPS = or_(photos.c.gps_source == GPS_FROM_ACCEPTED, photos.c.gps_source == GPS_FROM_MANUAL)
META_COLUMNS = (
    "format",
    "width",
    "height",
    "orientation",
    "taken_at",
    "taken_offset_min",
    "camera_make",
    "camera_model",
    "camera_serial",
    "sidecar_path",
)
GPS_COLUMNS = ("gps_lat", "gps_lon", "gps_alt", "gps_source")
FILE_COLUMNS = (
    "path",
    "folder",
    "filename",
    "size",
    "mtime_ns",
    "fingerprint",
    "status",
    "error",
    "indexed_at",
)

# Prefix of the fingerprint of a file that could not even be opened (permissions): its size and
# mtime do not change when access is fixed (chmod only touches ctime), so such rows are retried.
UNREADABLE_FP = "unreadable-"
RETRY = "retry"  # pseudo status in Known for those rows

# Known row: (id, size, mtime_ns, status)
Known = tuple[int, int, int, str]


def _under_roots(roots: Sequence[str]) -> Any:
    """SQL condition: the path is a root or inside one (a prefix range, so the path index is used)."""
    conditions = []
    for root in roots:
        prefix = root if root.endswith(os.sep) else root + os.sep
        after = prefix[:-1] + chr(ord(os.sep) + 1)  # first string greater than every "prefix..."
        conditions.append(or_(photos.c.path == root, and_(photos.c.path >= prefix, photos.c.path < after)))
    return or_(*conditions)


def fingerprint_key(fp: str) -> int | None:
    """64-bit prefix of a fingerprint: a compact pre-filter for move detection (None: not a hash)."""
    try:
        return int(fp[:16], 16)
    except ValueError:
        return None


def load_known(session: Session, roots: Sequence[str]) -> tuple[dict[str, Known], set[int]]:
    """path -> (id, size, mtime_ns, status) of the rows under ``roots`` (one query), and the
    fingerprint keys of every row in the library (moves can come from anywhere)."""
    known: dict[str, Known] = {}
    query = select(
        photos.c.path, photos.c.id, photos.c.size, photos.c.mtime_ns, photos.c.status, photos.c.fingerprint
    )
    statuses: dict[str, str] = {}  # one str object per distinct status, not one per row
    for path, row_id, size, mtime_ns, status, fp in session.execute(query.where(_under_roots(roots))):
        if fp.startswith(UNREADABLE_FP):
            status = RETRY
        known[path] = (row_id, size, mtime_ns, statuses.setdefault(status, status))
    keys: set[int] = set()
    for fp in session.execute(select(photos.c.fingerprint)).scalars():
        key = fingerprint_key(fp)
        if key is not None:
            keys.add(key)
    return known, keys


def move_candidates(session: Session, fp: str) -> list[tuple[int, str]]:
    """Rows with this fingerprint: (id, path)."""
    query = select(photos.c.id, photos.c.path).where(photos.c.fingerprint == fp).order_by(photos.c.id)
    return [(row_id, path) for row_id, path in session.execute(query)]


def _clip(value: Any, limit: int = 64) -> Any:
    return value[:limit] if isinstance(value, str) else value


def row_values(result: ReadResult) -> dict[str, Any]:
    """Column values for a read result (a moved row takes the new path too)."""
    folder, filename = os.path.split(result.path)
    values: dict[str, Any] = {
        "path": result.path,
        "folder": folder,
        "filename": filename,
        "size": result.size,
        "mtime_ns": result.mtime_ns,
        "fingerprint": result.fingerprint,
        "status": STATUS_ERROR if result.error else STATUS_OK,
        "error": result.error,
        "indexed_at": datetime.now(UTC).replace(tzinfo=None),
    }
    meta = result.meta
    for column in META_COLUMNS + GPS_COLUMNS:
        value = None if meta is None else getattr(meta, column)
        values[column] = _clip(value) if column.startswith("camera_") else value
    if meta is not None:
        if meta.warnings:
            values["error"] = "; ".join(" ".join(w.split()) for w in meta.warnings)
        if values["gps_lat"] is None or values["gps_lon"] is None:
            values.update(gps_lat=None, gps_lon=None, gps_alt=None, gps_source=None)
    return values


def _update_statement(with_metadata: bool):
    """UPDATE by id with ``b_*`` parameters; GPS columns keep user-set values (see _USER_GPS)."""
    values: dict[str, Any] = {c: bindparam("b_" + c) for c in FILE_COLUMNS}
    if with_metadata:
        values.update({c: bindparam("b_" + c) for c in META_COLUMNS})
        values.update({c: case((_USER_GPS, photos.c[c]), else_=bindparam("b_" + c)) for c in GPS_COLUMNS})
    return photos.update().where(photos.c.id == bindparam("b_id")).values(values)


_UPDATE_FULL = _update_statement(True)
_UPDATE_ERROR = _update_statement(False)  # a file that became unreadable keeps what we last knew
_MARK_MISSING = photos.update().where(photos.c.id == bindparam("b_id")).values(status=STATUS_MISSING)


def _insert_statement(dialect: str):
    """INSERT that skips a path another indexer (a second process) added meanwhile."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        return photos.insert()
    return insert(photos).on_conflict_do_nothing(index_elements=["path"])


class BatchWriter:
    """Buffers row changes and commits them through the library's single writer every ``batch`` rows
    or ``seconds``, so an interrupted run keeps everything up to the last commit and the writer lock
    is never held for long (the GUI can write between batches)."""

    def __init__(self, lib: Library, batch: int = 500, seconds: float = 1.0) -> None:
        self.lib = lib
        self.batch = batch
        self.seconds = seconds
        self._inserts: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._error_updates: list[dict[str, Any]] = []
        self._missing: list[dict[str, Any]] = []
        self._last = time.monotonic()

    def __len__(self) -> int:
        return len(self._inserts) + len(self._updates) + len(self._error_updates) + len(self._missing)

    def insert(self, values: dict[str, Any]) -> None:
        values.setdefault("review_state", REVIEW_NONE)
        self._inserts.append(values)
        self._maybe_flush()

    def update(self, row_id: int, values: dict[str, Any]) -> None:
        params = {"b_" + k: v for k, v in values.items()}
        params["b_id"] = row_id
        if values["status"] == STATUS_ERROR:
            self._error_updates.append(params)
        else:
            self._updates.append(params)
        self._maybe_flush()

    def mark_missing(self, row_id: int) -> None:
        self._missing.append({"b_id": row_id})
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if len(self) >= self.batch or time.monotonic() - self._last >= self.seconds:
            self.flush()

    def flush(self) -> None:
        """Commit everything buffered in one transaction."""
        if len(self):
            with self.lib.catalog.writer() as session:
                # Updates first: a moved row frees its old path before a new row could take it.
                for statement, rows in (
                    (_UPDATE_FULL, self._updates),
                    (_UPDATE_ERROR, self._error_updates),
                    (_MARK_MISSING, self._missing),
                ):
                    if rows:
                        session.execute(statement, rows)
                if self._inserts:
                    session.execute(_insert_statement(session.get_bind().dialect.name), self._inserts)
            self._inserts, self._updates, self._error_updates, self._missing = [], [], [], []
        self._last = time.monotonic()
