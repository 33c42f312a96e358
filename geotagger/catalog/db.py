"""Opening a catalog: engine set-up (WAL, foreign keys), migrations, sessions, the single writer."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from geotagger.catalog.migrations import migrate
from geotagger.errors import CatalogError


def catalog_file(location: str | Path) -> Path | None:
    """The SQLite file a location names (a folder means its library.sqlite); None for a server URL."""
    text = str(location)
    if "://" in text:
        return None
    path = Path(text).expanduser()
    return path / "library.sqlite" if path.is_dir() else path


def _catalog_url(location: str | Path) -> str:
    path = catalog_file(location)
    if path is None:
        return str(location)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CatalogError(f"cannot create the library folder {path.parent}: {exc.strerror}") from exc
    return f"sqlite:///{path.resolve()}"


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


class Catalog:
    """One library's database. Any number of readers; writes go through ``writer()`` one at a time."""

    def __init__(self, location: str | Path) -> None:
        self.url = _catalog_url(location)
        self.engine: Engine = create_engine(self.url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.Lock()
        try:
            with self.engine.begin() as connection:
                migrate(connection)
        except DatabaseError as exc:  # also "file is not a database" (--library pointing at a photo)
            raise CatalogError(f"cannot open the catalog {self.url}: {exc.orig}") from exc

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server database."""
        if self.engine.dialect.name != "sqlite" or not self.engine.url.database:
            return None
        return Path(self.engine.url.database)

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session; never blocks on the writer (WAL).

        Closing (not rolling back) ends the read transaction and detaches the loaded rows with their
        values intact, so callers may use the returned objects as snapshots.
        """
        session = self._sessions()
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def writer(self) -> Iterator[Session]:
        """The single writer: a session committed on success, rolled back on any error."""
        with self._write_lock:
            session = self._sessions()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    def close(self) -> None:
        self.engine.dispose()
