"""Progress for the CLI, implementing the core's Progress protocol: a bar (rich) on an interactive
terminal, plain log lines when stderr is a file or a pipe (a long run must not be silent there)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class RichProgress:
    def __init__(self) -> None:
        self._bar: Progress | None = None
        self._task = None

    def start(self, total: int | None, description: str) -> None:
        self.finish()
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def finish(self, summary: str = "") -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class LineProgress:
    """One line when a step starts, then one every ``interval_s`` seconds (also while nothing
    advances: a model loading or training) or every tenth of the total (at most one a second, so a
    quick run stays short), and one at the end.

    For logs and pipes, where a bar cannot be drawn; thread-safe (workers may advance)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        interval_s: float = 10.0,
        min_gap_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        heartbeat: bool = True,
    ) -> None:
        self._stream = stream
        self.interval_s = interval_s
        self.min_gap_s = min_gap_s
        self._clock = clock
        self._heartbeat = heartbeat
        self._lock = threading.RLock()
        self._active = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.description, self.total, self.done = "", None, 0
        self._started = self._last = 0.0
        self._tenth = 0

    def _say(self, text: str) -> None:
        stream = self._stream or sys.stderr
        print(text, file=stream, flush=True)

    def _count(self) -> str:
        if self.total:
            return f"{self.done}/{self.total} ({100 * self.done // self.total}%)"
        return f"{self.done} done"

    def start(self, total: int | None, description: str) -> None:
        self.finish()
        with self._lock:
            self.description, self.total, self.done = description, total, 0
            self._started = self._last = self._clock()
            self._tenth = 0
            self._active = True
            self._say(f"{description}: started" + (f", {total} to do" if total else ""))
        if self._heartbeat and self.interval_s > 0:
            self._stop.clear()
            self._thread = threading.Thread(target=self._beat, name="progress-lines", daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval_s / 2):
            with self._lock:
                if self._active and self._clock() - self._last >= self.interval_s:
                    self._line()

    def _line(self) -> None:
        self._last = self._clock()
        self._say(f"{self.description}: {self._count()} after {self._last - self._started:.0f} s")

    def advance(self, n: int = 1) -> None:
        with self._lock:
            if not self._active:
                return
            self.done += n
            tenth = 10 * self.done // self.total if self.total else 0
            if self.total and self.done >= self.total:
                return  # the end line says it
            since = self._clock() - self._last
            if (tenth > self._tenth and since >= self.min_gap_s) or since >= self.interval_s:
                self._tenth = tenth
                self._line()

    def finish(self, summary: str = "") -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()
        with self._lock:
            if not self._active:
                return
            self._active = False
            seconds = self._clock() - self._started
            self._say(f"{self.description}: finished, {self._count()} in {seconds:.1f} s")
