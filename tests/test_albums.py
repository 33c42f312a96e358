from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from geotagger.catalog import Photo
from geotagger.cli.main import main
from geotagger.errors import NotFoundError, UserInputError
from geotagger.services import albums
from tests.factories import photo_row


def _add_photos(library, tmp_path: Path) -> list[Photo]:
    rows = []
    with library.catalog.writer() as session:
        for i, (gps, state, status) in enumerate(
            [
                (True, "written", "ok"),
                (False, "none", "ok"),
                (False, "accepted", "ok"),
                (False, "none", "error"),
            ]
        ):
            path = tmp_path / f"p{i}.jpg"
            photo = photo_row(
                path,
                mtime_ns=i,
                status=status,
                review_state=state,
                gps_lat=1.0 if gps else None,
                gps_lon=2.0 if gps else None,
                taken_at=datetime(2024, 1, 1, 10, i),
            )
            session.add(photo)
            rows.append(photo)
    return rows


def test_plain_album_add_remove_list(library, tmp_path: Path) -> None:
    photos = _add_photos(library, tmp_path)
    albums.create_album(library, "Trip")
    assert albums.add_photos(library, "Trip", [photos[0].path, photos[1].id, photos[0].id]) == 2
    assert albums.add_photos(library, "Trip", [photos[1].id]) == 0
    assert albums.album_photo_ids(library, "Trip") == [photos[0].id, photos[1].id]
    assert albums.remove_photos(library, "Trip", [photos[0].id]) == 1
    assert albums.list_albums(library)[0]["photos"] == 1
    albums.delete_album(library, "Trip")
    assert albums.list_albums(library) == []


def test_smart_album_follows_its_filter(library, tmp_path: Path) -> None:
    photos = _add_photos(library, tmp_path)
    albums.create_album(library, "To place", filter="no-gps")
    assert albums.album_photo_ids(library, "To place") == [photos[1].id, photos[2].id]
    with pytest.raises(UserInputError, match="smart album"):
        albums.add_photos(library, "To place", [photos[0].id])


def test_bad_names_and_unknown_things(library, tmp_path: Path) -> None:
    _add_photos(library, tmp_path)
    for bad in ("", "  ", "a\nb", "x" * 201):
        with pytest.raises(UserInputError):
            albums.create_album(library, bad)
    albums.create_album(library, "Trip")
    with pytest.raises(UserInputError, match="already exists"):
        albums.create_album(library, "Trip")
    with pytest.raises(NotFoundError):
        albums.add_photos(library, "Nope", [1])
    with pytest.raises(NotFoundError, match="not in the catalog"):
        albums.add_photos(library, "Trip", [str(tmp_path / "unknown.jpg")])
    with pytest.raises(UserInputError, match="unknown filter"):
        albums.create_album(library, "Smart", filter="bogus")


def test_album_cli(library, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photos = _add_photos(library, tmp_path)
    location = str(library.catalog.path)
    assert main(["--library", location, "album", "create", "Trip"]) == 0
    assert main(["--library", location, "album", "add", "Trip", photos[0].path]) == 0
    assert main(["--library", location, "album", "list", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "Trip,1," in out
    assert main(["--library", location, "album", "add", "Nope", photos[0].path]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: no album named 'Nope'"]


def test_an_album_is_found_by_the_name_it_was_created_with(library, tmp_path: Path) -> None:
    """create_album trims and NFC-normalises the name; every later lookup must do the same."""
    photos = _add_photos(library, tmp_path)
    albums.create_album(library, " Cafe\u0301 ")  # stored as "Café" (NFC)
    assert albums.add_photos(library, " Cafe\u0301 ", [photos[0].id]) == 1
    assert albums.album_photo_ids(library, "Caf\u00e9") == [photos[0].id]
    assert albums.remove_photos(library, "Café ", [photos[0].id]) == 1
    albums.delete_album(library, "  Café")
    assert albums.list_albums(library) == []
