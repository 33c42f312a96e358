"""The stage that runs in workers: fingerprint + metadata of one file, as a picklable result.

Kept apart from the pipeline so worker processes import only what reading needs.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from geotagger.errors import MetadataError
from geotagger.indexing.fingerprint import fingerprint
from geotagger.metadata.model import PhotoMetadata

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ReadResult:
    """What a worker learnt about one file. ``error`` set = the file could not be read;
    ``vanished`` = it disappeared between the walk and the read (no row is written for it)."""

    path: str
    size: int
    mtime_ns: int
    row_id: int | None
    fingerprint: str | None = None
    meta: PhotoMetadata | None = None
    error: str | None = None
    vanished: bool = False


# path, size, mtime_ns, existing row id, the photo's sidecar names in its folder (None: unknown)
Job = tuple[str, int, int, "int | None", "frozenset[str] | None"]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read_one(job: Job) -> ReadResult:
    """Fingerprint and read one file; every failure becomes ``error`` on the result."""
    from geotagger.metadata.read import read_metadata

    path, size, mtime_ns, row_id, sidecars = job
    result = ReadResult(path, size, mtime_ns, row_id)
    try:
        result.fingerprint = fingerprint(path)
    except FileNotFoundError:
        result.vanished = True
        return result
    except OSError as exc:
        # Unreadable (permissions, I/O error): still a row, keyed by a fingerprint of what we know.
        result.fingerprint = f"unreadable-{size:x}"  # store.UNREADABLE_FP: retried on every rescan
        result.error = f"cannot open the file: {exc.strerror or exc}"
        return result
    try:
        result.meta = read_metadata(Path(path), dir_names=sidecars)
    except MetadataError as exc:
        if not os.path.lexists(path):
            result.vanished = True
        else:
            result.error = _one_line(str(exc))
    except FileNotFoundError:
        result.vanished = True
    except OSError as exc:
        result.error = f"cannot read the file: {exc.strerror or exc}"
    except Exception as exc:  # a reader bug must not stop a 100k-file run; it is recorded on the row
        log.debug("reader failed on %s", path, exc_info=True)
        result.error = _one_line(f"internal error while reading metadata: {type(exc).__name__}: {exc}")
    return result


def read_many(jobs: list[Job]) -> list[ReadResult]:
    """One chunk of work for a pool task (chunks amortise the per-task overhead of processes)."""
    return [read_one(job) for job in jobs]


def worker_init() -> None:
    """Workers ignore Ctrl-C: the main process decides, commits what it has, and stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import geotagger.metadata.read  # noqa: F401  (import once per worker, not per chunk)
