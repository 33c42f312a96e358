"""An open photo library: its catalog plus the folder where its side data lives (core layer: indexing,
locating and the services all open photos through it)."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from geotagger.catalog.db import Catalog
from geotagger.catalog.server import side_data_base
from geotagger.paths import default_library_path, library_data_dir


class Library:
    """Opened once per front-end session; cheap to create, safe to share between threads."""

    def __init__(self, location: str | Path | None = None) -> None:
        self.location = str(location) if location is not None else str(default_library_path())
        self.catalog = Catalog(self.location)
        base = self.catalog.path or side_data_base(self.catalog.url)
        self.data_dir: Path = library_data_dir(base)
        self.catalog_identity = self._catalog_identity()

    def _catalog_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the catalog file as opened: a write checks the path still names it."""
        if self.catalog.path is None:
            return None
        try:
            st = os.stat(self.catalog.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def side_dir(self, name: str) -> Path:
        """A subfolder of the library's side data (thumbnails, embeddings, backups), created on demand."""
        folder = self.data_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
