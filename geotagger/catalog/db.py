"""Opening a catalog: engine set-up (WAL, foreign keys), integrity checks, migrations, sessions,
the single writer.

A damaged catalog is reported, never repaired or overwritten: every database error that comes from
the catalog (on open, in ``reader()`` and ``writer()``) becomes one CatalogError line that says what
is wrong and what to do. Checked on every open (cheap): the file is an SQLite database and not
truncated, and its tables and columns are what its recorded migrations made. ``PRAGMA quick_check``
is not run on open: on a 100k-photo catalog (124 MB) it takes 0.15 s warm and 1.5 s cold; page
damage it would find surfaces as a CatalogError when a query reads the damaged page.

A server catalog (``postgresql://...``) gets the same API: its errors become CatalogError lines too
(``catalog/server.py``), and ``writer()`` takes a transaction-scoped advisory lock, so writers in
different processes and machines take turns exactly as SQLite's single writer does.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError, IntegrityError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from geotagger.catalog.migrations import (
    applied_table,
    expected_schema,
    known_migrations,
    migrate,
    schema_problems,
    table_columns,
)
from geotagger.catalog.server import (
    from_server,
    lock_writers,
    server_engine,
    server_error,
    server_url,
    shown_url,
)
from geotagger.errors import CatalogError

log = logging.getLogger(__name__)
SQLITE_MAGIC = b"SQLite format 3\0"
RECOVER = "restore it from a backup or move it away to start a new one"


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
        return server_url(str(location))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CatalogError(f"cannot create the library folder {path.parent}: {exc.strerror}") from exc
    return f"sqlite:///{path.resolve()}"


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    except UnicodeDecodeError as exc:
        # SQLite's message quotes the damaged schema text, which Python cannot decode: report it
        # as the database error it is (SQLAlchemy then wraps it like any other).
        raise sqlite3.DatabaseError("malformed database schema (its text is not valid UTF-8)") from exc
    finally:
        cursor.close()


def damaged(path: object, reason: str) -> CatalogError:
    """The one message for a catalog that cannot be trusted."""
    return CatalogError(f"the catalog {path} is damaged: {reason}; {RECOVER}")


def check_file(path: Path) -> None:
    """Refuse, without writing a byte, a catalog file that is not an intact SQLite database: a
    folder, an empty or truncated file, another kind of file. A path with no file is a new catalog."""
    if not path.exists():
        return
    if path.is_dir():
        raise CatalogError(f"the catalog {path} is a folder, not a catalog file; {RECOVER}")
    if not path.is_file():
        raise CatalogError(f"the catalog {path} is not a regular file; {RECOVER}")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(100)
    except OSError as exc:
        raise CatalogError(f"cannot read the catalog {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise damaged(path, "the file is empty (0 bytes)")
    if not head.startswith(SQLITE_MAGIC[: len(head)]):
        raise damaged(path, "it is not an SQLite database (file is not a database)")
    if len(head) < 100:
        raise damaged(path, f"the file is truncated ({size} bytes, shorter than the SQLite header)")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    header_valid = pages > 0 and head[24:28] == head[92:96]
    wal = path.with_name(path.name + "-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0  # pages may live in the WAL until checkpoint
    if header_valid and not wal_pending and size < pages * page_size:
        raise damaged(path, f"the file is truncated ({size} bytes; its header records {pages * page_size})")


def _raised_by_database(exc: BaseException) -> bool:
    """A decode error raised inside SQLAlchemy or sqlite3 (damaged text in the file), not by caller code."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and any("sqlalchemy" in f.filename or "sqlite3" in f.filename for f in frames[-3:])


def catalog_error(exc: BaseException, path: object) -> CatalogError | None:
    """The CatalogError a database error from the catalog means, or None when it is not one
    (constraint violations and API misuse are program errors and keep their traceback)."""
    if isinstance(exc, CatalogError):
        return exc
    if from_server(exc):
        return server_error(exc, path)
    if isinstance(exc, UnicodeDecodeError):
        if not _raised_by_database(exc):
            return None
        return damaged(path, "it holds text that is not valid UTF-8")
    if isinstance(exc, IntegrityError | ProgrammingError | sqlite3.IntegrityError | sqlite3.ProgrammingError):
        return None
    orig = getattr(exc, "orig", None) or exc
    if not isinstance(orig, sqlite3.Error | DatabaseError):
        return None
    name = getattr(orig, "sqlite_errorname", "") or ""
    message = " ".join(str(orig).split()) or name or type(orig).__name__
    lower = message.lower()
    if name.startswith("SQLITE_FULL") or "database or disk is full" in lower:
        return CatalogError(
            f"the disk holding the catalog {path} is full ({message}); free space and run again"
        )
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in lower:
        return CatalogError(
            f"cannot read or write the catalog {path}: {message} (check the disk, its free space and "
            "any file size limit, then run again)"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in lower:
        return CatalogError(
            f"the catalog {path} is busy: another program holds it ({message}); try again later"
        )
    if name.startswith("SQLITE_READONLY") or "readonly database" in lower:
        return CatalogError(f"the catalog {path} is read-only ({message}); check its permissions")
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or "unable to open" in lower:
        return CatalogError(f"cannot open the catalog {path}: {message} (check the path and its permissions)")
    return damaged(path, message)


def _check_schema(connection: Connection, path: object) -> None:
    """The catalog holds what the migrations it records made (before anything is written to it)."""
    actual = table_columns(connection)
    if applied_table.name not in actual:
        if actual:
            raise damaged(
                path,
                f"it has tables but no {applied_table.name} table recording its schema "
                "(or it is another program's database)",
            )
        return  # a new, empty database
    applied = set(
        connection.execute(applied_table.select().with_only_columns(applied_table.c.name)).scalars()
    )
    if applied - {name for name, _ in known_migrations()}:
        return  # a newer geotagger's catalog: migrate() refuses it with its own message
    problems = schema_problems(actual, expected_schema(applied))
    if problems:
        shown = ", ".join(problems[:3]) + (f" and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise damaged(path, shown)


class Catalog:
    """One library's database. Any number of readers; writes go through ``writer()`` one at a time."""

    def __init__(self, location: str | Path) -> None:
        self.url = _catalog_url(location)
        file = catalog_file(location)
        self.name: object = file if file is not None else shown_url(self.url)  # how messages name it
        if file is not None:
            check_file(file)
            self.engine: Engine = create_engine(self.url)
        else:
            self.engine = server_engine(self.url, self.name)
        sqlite = self.engine.dialect.name == "sqlite"
        self._server = not sqlite
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.Lock()
        try:
            with self.engine.begin() as connection:
                if sqlite:
                    _check_schema(connection, self.name)
                migrate(connection)
                if sqlite:
                    _check_schema(connection, self.name)
        except (DatabaseError, sqlite3.Error, UnicodeDecodeError) as exc:
            self.engine.dispose()
            error = catalog_error(exc, self.name)
            if error is None:
                raise
            raise error from exc
        except CatalogError:
            self.engine.dispose()
            raise

    def _translate(self, exc: BaseException) -> CatalogError | None:
        return catalog_error(exc, self.name)

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
        except (DatabaseError, sqlite3.Error, UnicodeDecodeError) as exc:
            error = self._translate(exc)
            if error is None:
                raise
            raise error from exc
        finally:
            session.close()

    @contextmanager
    def writer(self) -> Iterator[Session]:
        """The single writer: a session committed on success, rolled back on any error."""
        with self._write_lock:
            session = self._sessions()
            try:
                if self._server:
                    lock_writers(session)
                yield session
                session.commit()
            except BaseException as exc:
                try:
                    session.rollback()
                except (DatabaseError, sqlite3.Error) as rollback_exc:  # the first error is the one to report
                    log.debug("rollback after %r failed: %r", exc, rollback_exc)
                if isinstance(exc, DatabaseError | sqlite3.Error | UnicodeDecodeError):
                    error = self._translate(exc)
                    if error is not None:
                        raise error from exc
                raise
            finally:
                session.close()

    def close(self) -> None:
        self.engine.dispose()
