"""Background work for the GUI: small operations run as QRunnables around the pure service functions.

Results and errors come back to the GUI thread through signals and are handed to success/failure
callbacks there. Long operations get a ``QtProgress`` (the core's Progress protocol) and a CancelToken.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from geotagger.errors import CancelledError, GeotaggerError
from geotagger.progress import CancelToken

log = logging.getLogger(__name__)


class _Signals(QObject):
    progress = Signal(int, object, object, str)  # task id, done, total, description
    done = Signal(int, bool, object)  # task id, ok, result or exception


class QtProgress:
    """The core's Progress protocol, forwarded to the GUI thread (throttled to ~20 updates/s)."""

    def __init__(self, signals: _Signals, task_id: int) -> None:
        self._signals, self._id = signals, task_id
        self._lock = threading.Lock()
        self.total: int | None = None
        self.done = 0
        self.description = ""
        self.summary = ""
        self._last = 0.0

    def start(self, total: int | None, description: str) -> None:
        with self._lock:
            self.total, self.done, self.description = total, 0, description
        self._emit(force=True)

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
        self._emit()

    def finish(self, summary: str = "") -> None:
        self.summary = summary
        self._emit(force=True)

    def _emit(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last > 0.05:
            self._last = now
            self._signals.progress.emit(self._id, self.done, self.total, self.description)


@dataclass
class Task:
    id: int
    name: str
    cancel: CancelToken = field(default_factory=CancelToken)
    on_success: Callable[[Any], None] | None = None
    on_failure: Callable[[BaseException], None] | None = None
    long: bool = False


class _Runnable(QRunnable):
    def __init__(self, task: Task, fn: Callable[..., Any], signals: _Signals) -> None:
        super().__init__()
        self.task, self.fn, self.signals = task, fn, signals
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            if self.task.long:
                result = self.fn(QtProgress(self.signals, self.task.id), self.task.cancel)
            else:
                result = self.fn()
        except GeotaggerError as exc:
            self.signals.done.emit(self.task.id, False, exc)
        except Exception as exc:  # a bug: keep the window alive, log the traceback
            log.exception("%s failed", self.task.name)
            self.signals.done.emit(self.task.id, False, exc)
        else:
            self.signals.done.emit(self.task.id, True, result)


class TaskRunner(QObject):
    """Runs tasks on a thread pool; one long (progress + cancel) task at a time."""

    progress = Signal(str, object, object, str)  # name, done, total, description
    long_started = Signal(str)
    long_finished = Signal(str, bool, str)  # name, ok, message
    failed = Signal(str, object)  # name, exception (every failure, for the log view)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._signals = _Signals()
        self._signals.progress.connect(self._on_progress)
        self._signals.done.connect(self._on_done)
        self._tasks: dict[int, Task] = {}
        self._ids = itertools.count(1)

    @property
    def long_task(self) -> Task | None:
        return next((t for t in self._tasks.values() if t.long), None)

    def is_busy(self) -> bool:
        return bool(self._tasks)

    def submit(
        self,
        name: str,
        fn: Callable[..., Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        *,
        long: bool = False,
    ) -> Task | None:
        """Queue ``fn()`` (or ``fn(progress, cancel)`` when long). Returns None when a long task runs."""
        if long and self.long_task is not None:
            log.warning("%s is still running; %s not started", self.long_task.name, name)
            return None
        task = Task(next(self._ids), name, on_success=on_success, on_failure=on_failure, long=long)
        self._tasks[task.id] = task
        if long:
            self.long_started.emit(name)
        if len(self._tasks) == 1:
            self.busy_changed.emit(True)
        self.pool.start(_Runnable(task, fn, self._signals))
        return task

    def cancel(self) -> None:
        """Ask the long task to stop between items (what was done is kept)."""
        task = self.long_task
        if task is not None:
            task.cancel.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)

    @Slot(int, object, object, str)
    def _on_progress(self, task_id: int, done: object, total: object, description: str) -> None:
        task = self._tasks.get(task_id)
        if task is not None:
            self.progress.emit(task.name, done, total, description)

    @Slot(int, bool, object)
    def _on_done(self, task_id: int, ok: bool, payload: object) -> None:
        task = self._tasks.pop(task_id, None)
        if task is None:
            return
        try:
            if ok:
                if task.on_success is not None:
                    task.on_success(payload)
            else:
                assert isinstance(payload, BaseException)
                if not isinstance(payload, CancelledError):
                    self.failed.emit(task.name, payload)
                if task.on_failure is not None:
                    task.on_failure(payload)
        except Exception as exc:  # a callback bug must not take the window down
            log.exception("handling the result of %s failed", task.name)
            self.failed.emit(task.name, exc)
        finally:
            if task.long:
                message = "" if ok else str(payload)
                self.long_finished.emit(task.name, ok, message)
            if not self._tasks:
                self.busy_changed.emit(False)
