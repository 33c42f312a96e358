"""Terminal progress bar (rich) implementing the core's Progress protocol."""

from __future__ import annotations

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
