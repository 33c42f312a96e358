"""Albums: named sets of photos, or saved filters ("all photos matching ...")."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from geotagger.catalog import Album, AlbumPhoto, Photo
from geotagger.catalog.library import Library
from geotagger.catalog.schema import STATUS_OK
from geotagger.errors import NotFoundError, UserInputError
from geotagger.services.selection import (
    FILTERS,
    is_catalog_text,
    photo_ids_matching,
    resolve_photo_ids,
)
from geotagger.textsafe import escaped_bytes


def _check_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise UserInputError("an album needs a name")
    if len(name) > 200:
        raise UserInputError("album names are at most 200 characters")
    if not is_catalog_text(name):  # bytes that were not UTF-8 on the command line
        raise UserInputError(f"album name '{escaped_bytes(name)}' is not valid UTF-8 text")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise UserInputError(f"album name {name!r} contains control characters")
    return name


def _get(session: Session, name: str) -> Album:
    if not is_catalog_text(name):
        raise NotFoundError(f"no album named '{escaped_bytes(name)}' (album names are UTF-8 text)")
    name = unicodedata.normalize("NFC", name.strip())  # as create_album stored it
    album = session.scalar(select(Album).where(Album.name == name))
    if album is None:
        raise NotFoundError(f"no album named {name!r}")
    return album


def create_album(lib: Library, name: str, *, filter: str | None = None) -> Album:
    """A plain album, or a smart one that always holds the photos matching ``filter``."""
    name = _check_name(name)
    if filter is not None and filter not in FILTERS:
        raise UserInputError(f"unknown filter {filter!r} (choose from {', '.join(FILTERS)})")
    with lib.catalog.writer() as session:
        if session.scalar(select(Album).where(Album.name == name)) is not None:
            raise UserInputError(f"an album named {name!r} already exists")
        album = Album(name=name, filter={"filter": filter} if filter else None, created_at=datetime.now(UTC))
        session.add(album)
    return album


def delete_album(lib: Library, name: str) -> None:
    with lib.catalog.writer() as session:
        session.delete(_get(session, name))


def add_photos(lib: Library, name: str, refs: Iterable[str | int]) -> int:
    """Add photos (paths or ids) to a plain album; returns how many were new to it."""
    ids = resolve_photo_ids(lib, refs)
    with lib.catalog.writer() as session:
        album = _get(session, name)
        if album.filter:
            raise UserInputError(
                f"album {name!r} is a smart album (filter {album.filter['filter']}); it cannot hold chosen photos"
            )
        present = set(session.scalars(select(AlbumPhoto.photo_id).where(AlbumPhoto.album_id == album.id)))
        new = [i for i in dict.fromkeys(ids) if i not in present]
        session.add_all(AlbumPhoto(album_id=album.id, photo_id=i) for i in new)
    return len(new)


def remove_photos(lib: Library, name: str, refs: Iterable[str | int]) -> int:
    ids = resolve_photo_ids(lib, refs)
    with lib.catalog.writer() as session:
        album = _get(session, name)
        result = session.execute(
            delete(AlbumPhoto).where(AlbumPhoto.album_id == album.id, AlbumPhoto.photo_id.in_(ids))
        )
    return result.rowcount or 0


def album_photo_ids(lib: Library, name: str) -> list[int]:
    """The photos in an album now (evaluating a smart album's filter)."""
    with lib.catalog.reader() as session:
        album = _get(session, name)
        if album.filter:
            return photo_ids_matching(session, album.filter["filter"])
        return list(
            session.scalars(
                select(AlbumPhoto.photo_id)
                .join(Photo, Photo.id == AlbumPhoto.photo_id)
                .where(AlbumPhoto.album_id == album.id, Photo.status == STATUS_OK)
                .order_by(Photo.taken_at, Photo.path)
            )
        )


def list_albums(lib: Library) -> list[dict[str, Any]]:
    with lib.catalog.reader() as session:
        rows = []
        for album in session.scalars(select(Album).order_by(Album.name)):
            if album.filter:
                count = len(photo_ids_matching(session, album.filter["filter"]))
            else:
                count = session.scalar(
                    select(func.count()).select_from(AlbumPhoto).where(AlbumPhoto.album_id == album.id)
                )
            rows.append(
                {
                    "name": album.name,
                    "photos": count,
                    "filter": album.filter["filter"] if album.filter else None,
                    "created": album.created_at.isoformat(timespec="seconds"),
                }
            )
    return rows
