"""One writer at a time per library: an advisory lock file next to the catalog.

Why: two processes writing the same library (two ``write`` commands, the GUI and ``tag``) would both
plan a patch from the same original and append GPS twice, and one's reconcile would settle the other's
in-flight journal records. ``write``, ``undo``, ``tag``'s write and ``backups prune`` hold this lock for
their whole run, so reconcile (which runs under it) only ever sees records of dead processes.

``fcntl.flock`` is released by the kernel when the holder dies (kill -9 included), so a crash never
leaves a stale lock. The holder's pid is written into the file for the loser's message. The lock is
re-entrant within one thread (``tag`` calls ``write``); another thread of the same process opens its own
descriptor and so waits like another process would.

A server catalog (PostgreSQL) has no file next to it: there the lock is a session-level advisory lock
held on one dedicated connection, with the same properties (the server releases it when the holder's
connection dies; re-entrant per thread; the loser waits, then names the holder's server session).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from geotagger.errors import CatalogError
from geotagger.paths import ENV_LOCK_WAIT, env

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; one writer is the user's job
    fcntl = None  # type: ignore[assignment]

WAIT_ENV = ENV_LOCK_WAIT
DEFAULT_WAIT_S = 5.0
_POLL_S = 0.05
_held: dict[tuple[str, int], tuple[Any, int]] = {}  # (lock path or URL, thread) -> (fd or connection, depth)
# Key of the server's advisory lock for a write run (WRITER_LOCK_KEY + 1 in catalog/server.py: another
# lock than the one each writer transaction takes, so a run's own transactions never wait on it).
RUN_LOCK_KEY = 0x67656F746167 + 1
_guard = threading.RLock()


class WriterBusyError(CatalogError):
    """Another process holds the library's writer lock."""


def lock_path(catalog_path: Path) -> Path:
    """The lock file of a catalog: ``library.sqlite.write-lock`` next to it."""
    return catalog_path.with_name(catalog_path.name + ".write-lock")


def _wait_s() -> float:
    try:
        return max(0.0, float(env(WAIT_ENV) or DEFAULT_WAIT_S))
    except ValueError:
        return DEFAULT_WAIT_S


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


@contextmanager
def writer_lock(catalog: Any, wait_s: float | None = None) -> Iterator[None]:
    """Hold the library's writer lock; wait up to ``wait_s`` (env GEOTAGGER_LOCK_WAIT, default 5 s)
    for another writer, then raise WriterBusyError naming its pid.

    ``catalog``: the Catalog (a file or a server database), or the path of an SQLite catalog file."""
    engine = getattr(catalog, "engine", None)
    if engine is not None and engine.dialect.name != "sqlite":
        with _server_lock(catalog, _wait_s() if wait_s is None else wait_s):
            yield
        return
    catalog_path = catalog.path if engine is not None else catalog
    if catalog_path is None or fcntl is None:  # Windows: no advisory locks
        yield
        return
    path = str(lock_path(Path(catalog_path)))
    key = (path, threading.get_ident())
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            _release(key)
        return
    fd = _acquire(path, _wait_s() if wait_s is None else wait_s)
    with _guard:
        _held[key] = (fd, 1)
    try:
        yield
    finally:
        _release(key)


def _acquire(key: str, wait_s: float) -> int:
    try:
        fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise CatalogError(f"cannot create the writer lock {key}: {exc.strerror or exc}") from exc
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(fd)
                os.close(fd)
                raise WriterBusyError(
                    f"another geotagger is writing to this library (pid {holder}); "
                    "try again when it has finished"
                ) from None
            time.sleep(_POLL_S)
        except OSError as exc:
            os.close(fd)
            raise CatalogError(f"cannot lock {key}: {exc.strerror or exc}") from exc
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass  # the pid is only for the other process's message; the lock itself is held
    return fd


def _release(key: tuple[str, int]) -> None:
    with _guard:
        fd, depth = _held[key]
        if depth > 1:
            _held[key] = (fd, depth - 1)
            return
        del _held[key]
    with contextlib.suppress(OSError):  # a stale pid in an unlocked file is harmless: flock is the lock
        os.ftruncate(fd, 0)
    os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def _server_lock(catalog: Any, wait_s: float) -> Iterator[None]:
    """The writer lock of a server catalog: an advisory lock held by one connection of this thread."""
    key = (str(catalog.url), threading.get_ident())
    with _guard:
        held = _held.get(key)
        if held is not None:
            _held[key] = (held[0], held[1] + 1)
    if held is None:
        _held[key] = (_server_acquire(catalog, wait_s), 1)
    try:
        yield
    finally:
        with _guard:
            connection, depth = _held[key]
            if depth > 1:
                _held[key] = (connection, depth - 1)
                connection = None
            else:
                del _held[key]
        if connection is not None:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RUN_LOCK_KEY})
            finally:
                connection.close()  # a lost connection releases the lock on the server anyway


def _server_acquire(catalog: Any, wait_s: float) -> Any:
    connection = catalog.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        deadline = time.monotonic() + wait_s
        while not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": RUN_LOCK_KEY}).scalar():
            if time.monotonic() >= deadline:
                holder = connection.execute(
                    text(
                        "SELECT a.pid, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                        "AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"
                    ),
                    {"k": RUN_LOCK_KEY},
                ).first()
                who = f"server session {holder[0]} from {holder[1] or 'this host'}" if holder else "unknown"
                raise WriterBusyError(
                    f"another geotagger is writing to this library ({who}); try again when it has finished"
                )
            time.sleep(_POLL_S)
    except BaseException:
        connection.close()
        raise
    return connection
