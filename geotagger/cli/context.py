"""What every command gets: the library (opened lazily), output settings and a progress factory."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from geotagger.cli.progress import RichProgress
from geotagger.progress import CancelToken, NullProgress, Progress

if TYPE_CHECKING:
    from geotagger.services import Library


@dataclass
class CliContext:
    library_location: str | None = None
    quiet: bool = False
    verbose: int = 0
    cancel: CancelToken = field(default_factory=CancelToken)
    _library: Library | None = None

    @property
    def library(self) -> Library:
        if self._library is None:
            from geotagger.services import Library  # the catalog stack loads only when a command needs it

            self._library = Library(self.library_location)
        return self._library

    def progress(self) -> Progress:
        """A progress bar on an interactive terminal, nothing otherwise."""
        if self.quiet or not sys.stderr.isatty():
            return NullProgress()
        return RichProgress()

    def say(self, message: str) -> None:
        """A status line for people (stderr, so stdout stays machine-readable)."""
        if not self.quiet:
            print(message, file=sys.stderr)

    def close(self) -> None:
        if self._library is not None:
            self._library.close()
