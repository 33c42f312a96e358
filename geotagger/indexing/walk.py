"""Streaming folder walk: os.scandir, one stat per photo, each real folder visited once.

Symlinked folders are followed but a folder reached twice (a symlink loop, or two links to the same
place) is listed only the first time, keyed by (device, inode). Problems (unreadable folders, files
that vanish between listing and stat) are reported through a callback, never raised.
"""

from __future__ import annotations

import os
import stat as statmod
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

from geotagger.textsafe import escaped_bytes

# Folders that hold caches or OS metadata rather than photos.
SKIP_DIRS = frozenset({"@eaDir", "$RECYCLE.BIN", "System Volume Information", "__pycache__"})
SIDECAR_EXT = ".xmp"


@dataclass(slots=True)
class FileEntry:
    """A candidate photo. ``mtime_ns`` is the newer of the photo's and its XMP sidecar's, so editing
    a sidecar alone makes the photo count as changed."""

    path: str
    size: int
    mtime_ns: int
    # Exact names of this photo's XMP sidecars in its folder; None = not known (look them up).
    sidecars: frozenset[str] | None = frozenset()


Problem = Callable[[str, str], None]


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def normalise_extensions(extensions: Iterable[str]) -> frozenset[str]:
    """Lower-case extensions with a leading dot, whatever spelling the caller used."""
    return frozenset(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)


def _valid_name(path: str, on_problem: Problem) -> bool:
    """The catalog stores UTF-8 text; a name with undecodable bytes is reported, not indexed."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        on_problem(escaped_bytes(path), "skipped: the name is not valid UTF-8 (rename the file or folder)")
        return False
    return True


def _is_candidate(name: str, extensions: Collection[str]) -> bool:
    if name.startswith("._"):  # macOS AppleDouble files: resource forks named like the photo
        return False
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in extensions


def _sidecars_of(name: str, sidecars: dict[str, tuple[str, int]]) -> list[tuple[str, int]]:
    """(exact name, mtime_ns) of ``name.xmp`` / ``stem.xmp`` in the same folder, any case."""
    lower = name.lower()
    keys = [lower + SIDECAR_EXT]
    dot = lower.rfind(".")
    if dot > 0:
        keys.append(lower[:dot] + SIDECAR_EXT)
    return [sidecars[k] for k in keys if k in sidecars]


def walk(
    roots: Iterable[str],
    extensions: Collection[str],
    on_problem: Problem,
    *,
    with_stat: bool = True,
) -> Iterator[FileEntry]:
    """Yield the photos under ``roots`` (folders or single files), files of a folder in name order.

    With ``with_stat=False`` size and mtime are -1 (a cheap counting pass for progress bars).
    """
    visited: set[tuple[int, int]] = set()
    for root in roots:
        try:
            st = os.stat(root)
        except OSError as exc:
            on_problem(escaped_bytes(root), f"cannot read: {_reason(exc)}")
            continue
        if statmod.S_ISDIR(st.st_mode):
            yield from _walk_dir(root, st, extensions, on_problem, visited, with_stat)
        elif statmod.S_ISREG(st.st_mode) and _valid_name(root, on_problem):
            if not _is_candidate(os.path.basename(root), extensions):
                # Named by hand (index notes.txt): say so rather than catalogue a non-photo as broken.
                suffix = os.path.splitext(root)[1] or "no extension"
                on_problem(escaped_bytes(root), f"skipped: not a photo type geotagger reads ({suffix})")
                continue
            yield FileEntry(root, st.st_size, st.st_mtime_ns, None)


def _walk_dir(
    top: str,
    top_stat: os.stat_result,
    extensions: Collection[str],
    on_problem: Problem,
    visited: set[tuple[int, int]],
    with_stat: bool,
) -> Iterator[FileEntry]:
    stack = [(top, top_stat)]
    while stack:
        folder, st = stack.pop()
        key = (st.st_dev, st.st_ino)
        if key in visited:
            continue
        visited.add(key)
        files: list[os.DirEntry[str]] = []
        subdirs: list[os.DirEntry[str]] = []
        sidecars: dict[str, tuple[str, int]] = {}
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    name = entry.name
                    try:
                        if entry.is_dir():
                            if not name.startswith(".") and name not in SKIP_DIRS:
                                subdirs.append(entry)
                        elif _is_candidate(name, extensions):
                            files.append(entry)
                        elif with_stat and name.lower().endswith(SIDECAR_EXT):
                            sidecars[name.lower()] = (name, entry.stat().st_mtime_ns)
                    except OSError as exc:
                        on_problem(escaped_bytes(entry.path), f"skipped: {_reason(exc)}")
        except OSError as exc:
            on_problem(escaped_bytes(folder), f"cannot list folder: {_reason(exc)}")
            continue
        files.sort(key=lambda e: e.name)
        for entry in files:
            if not _valid_name(entry.path, on_problem):
                continue
            if not with_stat:
                yield FileEntry(entry.path, -1, -1)
                continue
            try:
                fst = entry.stat()
            except OSError as exc:  # vanished or dangling symlink
                on_problem(escaped_bytes(entry.path), f"skipped: {_reason(exc)}")
                continue
            if not statmod.S_ISREG(fst.st_mode):
                continue
            mine = _sidecars_of(entry.name, sidecars) if sidecars else None
            if mine:
                mtime = max(fst.st_mtime_ns, *(m for _n, m in mine))
                yield FileEntry(entry.path, fst.st_size, mtime, frozenset(n for n, _m in mine))
            else:
                yield FileEntry(entry.path, fst.st_size, fst.st_mtime_ns)
        # Push in reverse so folders are visited in name order.
        for entry in sorted(subdirs, key=lambda e: e.name, reverse=True):
            try:
                stack.append((entry.path, entry.stat()))
            except OSError as exc:
                on_problem(escaped_bytes(entry.path), f"skipped folder: {_reason(exc)}")
