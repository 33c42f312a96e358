"""What every command gets: the library (opened lazily), output settings and a progress factory."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from geotagger.cli.progress import LineProgress, RichProgress
from geotagger.errors import NotFoundError
from geotagger.progress import CancelToken, NullProgress, Progress
from geotagger.textsafe import terminal_text

if TYPE_CHECKING:
    from geotagger.catalog.library import Library


@dataclass
class CliContext:
    library_location: str | None = None
    quiet: bool = False
    verbose: int = 0
    may_create: bool = False  # only commands that add photos create a new catalog
    cancel: CancelToken = field(default_factory=CancelToken)
    _library: Library | None = None
    _lines: list[LineProgress] = field(default_factory=list)

    @property
    def library(self) -> Library:
        if self._library is None:
            from geotagger.catalog.db import catalog_file  # the catalog stack loads only when needed
            from geotagger.catalog.library import Library
            from geotagger.paths import default_library_path

            location = self.library_location or default_library_path()
            path = catalog_file(location)
            if not self.may_create and path is not None and not path.exists():
                raise NotFoundError(f"no library at {path} (add photos first: geotagger index PATH)")
            self._library = Library(location)
        return self._library

    def progress(self) -> Progress:
        """A progress bar on an interactive terminal; plain progress lines when stderr is a file or
        a pipe (a long run is never silent); nothing with -q."""
        if self.quiet:
            return NullProgress()
        if sys.stderr.isatty():
            return RichProgress()
        lines = LineProgress()
        self._lines.append(lines)
        return lines

    def stop_progress(self) -> None:
        """End progress lines before an error line, so that line is the last one."""
        for lines in self._lines:
            lines.finish()

    def say(self, message: str) -> None:
        """A status line for people (stderr, so stdout stays machine-readable); names from files and
        metadata in it cannot drive the terminal (control characters are shown escaped)."""
        if not self.quiet:
            print(terminal_text(message), file=sys.stderr)

    def close(self) -> None:
        self.stop_progress()
        if self._library is not None:
            self._library.close()
