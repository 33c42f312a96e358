"""Which photos a filter name means, and turning user references (path or id) into photo ids.

One definition shared by listing, albums, export and the GUI, so "no-gps" means the same everywhere.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from geotagger.catalog import Photo
from geotagger.catalog.schema import (
    REVIEW_ACCEPTED,
    REVIEW_REJECTED,
    REVIEW_SUGGESTED,
    REVIEW_WRITTEN,
    STATUS_ERROR,
    STATUS_MISSING,
    STATUS_OK,
)
from geotagger.errors import NotFoundError, UserInputError
from geotagger.services.filters import FILTERS
from geotagger.textsafe import escaped_bytes


def filter_clause(name: str | None) -> ColumnElement[bool]:
    """SQL condition for a filter name (None or "all": every readable photo)."""
    ok = Photo.status == STATUS_OK
    clauses: dict[str, ColumnElement[bool]] = {
        "all": ok,
        "no-gps": and_(ok, Photo.gps_lat.is_(None)),
        "has-gps": and_(ok, Photo.gps_lat.is_not(None)),
        "suggested": and_(ok, Photo.review_state == REVIEW_SUGGESTED),
        "accepted": and_(ok, Photo.review_state == REVIEW_ACCEPTED),
        "rejected": and_(ok, Photo.review_state == REVIEW_REJECTED),
        "written": and_(ok, Photo.review_state == REVIEW_WRITTEN),
        # unreadable files, and readable ones whose metadata had problems (broken EXIF ...)
        "error": or_(Photo.status == STATUS_ERROR, and_(ok, Photo.error.is_not(None))),
        "missing": Photo.status == STATUS_MISSING,
    }
    if name is None:
        return clauses["all"]
    if name not in clauses:
        raise UserInputError(f"unknown filter {name!r} (choose from {', '.join(FILTERS)})")
    return clauses[name] if name else true()


def photo_ids_matching(session: Session, name: str | None) -> list[int]:
    return list(
        session.scalars(select(Photo.id).where(filter_clause(name)).order_by(Photo.taken_at, Photo.path))
    )


def is_catalog_text(text: str) -> bool:
    """Whether a path can be stored in or looked up in the catalog, which keeps names as UTF-8 text
    (a name with bytes that are not UTF-8 reaches Python as surrogate escapes, which are not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def not_utf8(path: str, doing: str) -> UserInputError:
    """The one message for a path the catalog cannot hold."""
    return UserInputError(
        f"cannot {doing} {escaped_bytes(path)}: its name is not valid UTF-8, and the catalog keeps names as "
        "UTF-8 text (rename the file or folder)"
    )


def find_photo(session: Session, ref: str | int) -> Photo:
    """A photo by catalog id or by path (absolute, or relative to the working directory)."""
    if isinstance(ref, str) and not is_catalog_text(ref):
        raise NotFoundError(
            f"{escaped_bytes(ref)} is not in the catalog: its name is not valid UTF-8, so it is never indexed "
            "(rename the file, then index its folder)"
        )
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and not os.path.exists(ref)):
        photo = session.get(Photo, int(ref))
        if photo is None:
            raise NotFoundError(f"no photo with id {ref} in the catalog")
        return photo
    text = str(ref)
    candidates = [text, os.path.abspath(text)]
    with contextlib.suppress(OSError):
        candidates.append(str(Path(text).resolve()))
    for candidate in filter(is_catalog_text, candidates):  # the working directory may be one too
        photo = session.scalar(select(Photo).where(Photo.path == candidate))
        if photo is not None:
            return photo
    raise NotFoundError(f"{escaped_bytes(text)} is not in the catalog (index its folder first)")


def resolve_photo_ids(lib, refs: Iterable[str | int]) -> list[int]:  # noqa: ANN001 - Library (import cycle)
    with lib.catalog.reader() as session:
        return [find_photo(session, ref).id for ref in refs]
