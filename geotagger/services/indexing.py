"""Indexing operations for front ends: index folders, counts, listings, thumbnails."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select

from geotagger.catalog.library import Library
from geotagger.catalog.schema import (
    STATUS_MISSING,
    Photo,
)
from geotagger.errors import NotFoundError, UserInputError
from geotagger.indexing.pipeline import IndexReport, run_index
from geotagger.indexing.pool import POOL_KINDS
from geotagger.progress import CancelToken, Progress
from geotagger.services.selection import filter_clause, is_catalog_text, not_utf8
from geotagger.textsafe import escaped_bytes

__all__ = ["IndexReport", "index", "list_photos", "status", "thumbnail"]


def _resolve_roots(paths: Sequence[Path | str]) -> list[str]:
    """Absolute, symlink-free roots; every path must exist (checked before any work starts)."""
    if not paths:
        raise UserInputError("give at least one folder or photo to index")
    roots: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise NotFoundError(f"no such file or folder: {escaped_bytes(str(raw))}")
        resolved = str(path.resolve())
        if not is_catalog_text(resolved):
            raise not_utf8(resolved, "index")
        if resolved not in roots:
            roots.append(resolved)
    return roots


def index(
    lib: Library,
    paths: Sequence[Path | str],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
    pool: str = "auto",
) -> IndexReport:
    """Add or refresh the photos under ``paths`` (incremental; see geotagger.indexing.pipeline).

    ``workers``: metadata readers in parallel (None = one per core; 0 or 1 = in this thread).
    ``pool``: "process" (default for "auto": reading is Python parsing, bound by the GIL) or "thread".
    Raises CancelledError when cancelled; rows read until then are kept.
    """
    from geotagger.metadata.read import SUPPORTED_EXTENSIONS

    if pool not in POOL_KINDS:
        raise UserInputError(f"pool must be one of {', '.join(POOL_KINDS)}")
    return run_index(
        lib,
        _resolve_roots(paths),
        frozenset(SUPPORTED_EXTENSIONS),
        progress=progress,
        cancel=cancel,
        workers=workers,
        pool=pool,
    )


_PRESENT = Photo.status != STATUS_MISSING


def status(lib: Library) -> dict[str, int]:
    """Counts for a dashboard. ``photos``/``with_gps``/``without_gps`` leave out missing files;
    ``errors`` counts what ``list --filter error`` shows."""

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    columns = {
        "photos": count(_PRESENT),
        "with_gps": count(filter_clause("has-gps")),
        "without_gps": count(filter_clause("no-gps")),
        "suggested": count(filter_clause("suggested")),
        "accepted": count(filter_clause("accepted")),
        "rejected": count(filter_clause("rejected")),
        "written": count(filter_clause("written")),
        "errors": count(filter_clause("error")),
        "missing": count(filter_clause("missing")),
    }
    with lib.catalog.reader() as session:
        row = session.execute(select(*columns.values())).one()
    return {name: int(value) for name, value in zip(columns, row, strict=True)}


LIST_COLUMNS = (
    "id",
    "path",
    "folder",
    "filename",
    "format",
    "width",
    "height",
    "taken_at",
    "taken_offset_min",
    "camera_make",
    "camera_model",
    "gps_lat",
    "gps_lon",
    "gps_alt",
    "gps_source",
    "status",
    "review_state",
    "error",
)


def list_photos(lib: Library, filter: str | None = None) -> list[dict]:
    """Photos as plain dicts (keys: LIST_COLUMNS), ordered by path; ``filter``: see services.filters."""
    query = select(*(getattr(Photo, c) for c in LIST_COLUMNS)).order_by(Photo.path)
    if filter:
        query = query.where(filter_clause(filter))
    with lib.catalog.reader() as session:
        rows = session.execute(query).all()
    out = []
    for row in rows:
        item = dict(zip(LIST_COLUMNS, row, strict=True))
        if item["taken_at"] is not None:
            item["taken_at"] = item["taken_at"].isoformat()
        out.append(item)
    return out


def thumbnail(lib: Library, photo_id: int, size: int = 256) -> Path:
    """A JPEG thumbnail (longer side ``size``) of the photo, cached under the library's side data."""
    from geotagger.indexing.thumbnails import thumbnail_file  # Pillow only when thumbnails are asked for

    with lib.catalog.reader() as session:
        query = select(Photo.path, Photo.fingerprint, Photo.orientation).where(Photo.id == photo_id)
        row = session.execute(query).one_or_none()
    if row is None:
        raise NotFoundError(f"no photo with id {photo_id} in this library")
    source = Path(row.path)
    try:
        return thumbnail_file(source, row.fingerprint, lib.side_dir("thumbnails"), size, row.orientation)
    except FileNotFoundError as exc:
        raise NotFoundError(f"the photo file is missing: {source}") from exc
