"""Path scopes in SQL match exactly: LIKE treats '_' and '%' in a folder name as wildcards and is
case-insensitive in SQLite, so `locate /p/a_b` reached photos in /p/aXb and /p/A_B too."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from geotagger.services import browse, indexing
from geotagger.services.locate_stages.targets import target_photos
from tests.factories import make_photo

FOLDERS = ["a_b", "aXb", "A_B", "100%", "100x", "Trip", "trip"]


def _library_of_folders(library, root: Path) -> None:
    for folder in FOLDERS:
        make_photo(root / folder / "x.jpg", taken=datetime(2024, 5, 1, 12))
        make_photo(root / folder / "sub" / "y.jpg", taken=datetime(2024, 5, 1, 12))
    indexing.index(library, [root], workers=0)


def test_locate_paths_match_only_that_folder(library, tmp_path: Path) -> None:
    _library_of_folders(library, tmp_path / "p")
    for folder in FOLDERS:
        found = {
            Path(p.path).relative_to(tmp_path / "p").parts[0]
            for p in target_photos(library, [tmp_path / "p" / folder])
        }
        assert found == {folder}, folder


def test_folder_scope_matches_only_that_folder(library, tmp_path: Path) -> None:
    _library_of_folders(library, tmp_path / "p")
    for folder in FOLDERS:
        scope = browse.Scope(folder=str(tmp_path / "p" / folder))
        assert browse.filter_counts(library, scope)["all"] == 2, folder
