"""Progress reporting and cancellation shared by every long operation.

Core code calls ``progress.update(...)`` and ``cancel.check()``; the CLI draws a bar, the GUI a widget.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from geotagger.errors import CancelledError


class Progress(Protocol):
    def start(self, total: int | None, description: str) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def finish(self, summary: str = "") -> None: ...


class NullProgress:
    """Progress sink that ignores everything (tests, quiet mode)."""

    def start(self, total: int | None, description: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self, summary: str = "") -> None:
        pass


@dataclass
class CountingProgress:
    """Progress sink that remembers what it was told (tests, GUI polling)."""

    total: int | None = None
    done: int = 0
    description: str = ""
    summary: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self, total: int | None, description: str) -> None:
        with self._lock:
            self.total, self.description, self.done = total, description, 0

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n

    def finish(self, summary: str = "") -> None:
        self.summary = summary


class CancelToken:
    """Thread-safe cancellation flag; long work calls ``check()`` between items."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise CancelledError("cancelled; the work done so far is kept and the next run resumes")
