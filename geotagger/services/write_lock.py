"""One writer at a time per library: an advisory lock file next to the catalog.

Why: two processes writing the same library (two ``write`` commands, the GUI and ``tag``) would both
plan a patch from the same original and append GPS twice, and one's reconcile would settle the other's
in-flight journal records. ``write``, ``undo``, ``tag``'s write and ``backups prune`` hold this lock for
their whole run, so reconcile (which runs under it) only ever sees records of dead processes.

``fcntl.flock`` is released by the kernel when the holder dies (kill -9 included), so a crash never
leaves a stale lock. The holder's pid is written into the file for the loser's message. The lock is
re-entrant within one thread (``tag`` calls ``write``); another thread of the same process opens its own
descriptor and so waits like another process would.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geotagger.errors import CatalogError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; one writer is the user's job
    fcntl = None  # type: ignore[assignment]

WAIT_ENV = "GEOTAGGER_LOCK_WAIT"
DEFAULT_WAIT_S = 5.0
_POLL_S = 0.05
_held: dict[tuple[str, int], tuple[int, int]] = {}  # (lock path, thread) -> (fd, depth)
_guard = threading.RLock()


class WriterBusyError(CatalogError):
    """Another process holds the library's writer lock."""


def lock_path(catalog_path: Path) -> Path:
    """The lock file of a catalog: ``library.sqlite.write-lock`` next to it."""
    return catalog_path.with_name(catalog_path.name + ".write-lock")


def _wait_s() -> float:
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_S)))
    except ValueError:
        return DEFAULT_WAIT_S


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


@contextmanager
def writer_lock(catalog_path: Path | None, wait_s: float | None = None) -> Iterator[None]:
    """Hold the library's writer lock; wait up to ``wait_s`` (env GEOTAGGER_LOCK_WAIT, default 5 s)
    for another writer, then raise WriterBusyError naming its pid."""
    if catalog_path is None or fcntl is None:  # a server catalog: its own transactions serialise
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
