"""Atomic file replacement and exact backups: the two things that make a write to a photo undoable.

Why: a photo is only ever replaced by a complete, verified file. The new bytes go to a temporary file in
the same folder (same file system, so the rename is atomic), are fsync'ed, get the original's mode and
mtime, and then ``os.replace`` swaps them in. A crash at any moment leaves either the old or the new file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

from geotagger.errors import MetadataError, WriteRefusedError

TMP_SUFFIX = ".geotagger-tmp"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str | None:
    """The file's sha256, or None when it does not exist."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def temp_path_for(path: Path, tag: str = "") -> Path:
    """The hidden temporary name used while replacing ``path`` (predictable, so leftovers can be found)."""
    label = f".{tag}" if tag else ""
    return path.with_name(f".{path.name}{label}{TMP_SUFFIX}")


def check_writable(path: Path) -> None:
    """Refuse read-only files or folders (mode bits, so this also holds for root), and links.

    Why links: ``os.replace`` swaps the directory entry, so a symlink would become a plain file and a
    hard-linked photo would silently split into two different files.
    """
    folder = path.parent
    if path.is_symlink():
        raise WriteRefusedError(f"{path} is a symbolic link; replacing it would break the link")
    if path.exists():
        if path.stat().st_nlink > 1:
            raise WriteRefusedError(f"{path} has several hard links; replacing it would split them")
        mode = path.stat().st_mode
        if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):
            raise WriteRefusedError(f"{path} is read-only")
    folder_mode = folder.stat().st_mode
    if not folder_mode & stat.S_IWUSR or not os.access(folder, os.W_OK | os.X_OK):
        raise WriteRefusedError(f"the folder {folder} is read-only")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # platforms without directory fds (Windows): the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on directories; the data itself was fsync'ed
    finally:
        os.close(fd)


def atomic_write(
    path: str | Path,
    data: bytes,
    *,
    keep_mtime: bool = True,
    tag: str = "",
    mode_from: str | Path | None = None,
) -> None:
    """Replace (or create) ``path`` with ``data`` atomically; keep the old mtime and permissions.

    ``tag`` makes the temporary name unique per journal record so an interrupted run can clean it up.
    """
    path = Path(path)
    check_writable(path)
    tmp = temp_path_for(path, tag)
    reference = Path(mode_from) if mode_from else path
    old_stat = reference.stat() if reference.exists() else None
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if old_stat is not None:
            os.chmod(tmp, stat.S_IMODE(old_stat.st_mode))
            if keep_mtime:
                os.utime(tmp, ns=(old_stat.st_atime_ns, old_stat.st_mtime_ns))
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise MetadataError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
    _fsync_dir(path.parent)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def remove_file(path: str | Path) -> None:
    """Delete a file we created (a sidecar being undone) and make the removal durable."""
    path = Path(path)
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise MetadataError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    _fsync_dir(path.parent)


def store_backup(folder: Path, data: bytes, suffix: str = "") -> tuple[Path, str]:
    """Keep ``data`` under its sha256 in ``folder`` (content-addressed: a repeat costs nothing)."""
    digest = sha256_bytes(data)
    target = folder / f"{digest}{suffix}"
    if target.exists() and sha256_file(target) == digest:
        return target, digest
    tmp = folder / f".{digest}{TMP_SUFFIX}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise MetadataError(f"cannot keep a backup in {folder}: {exc.strerror or exc}") from exc
    _fsync_dir(folder)
    return target, digest


def read_backup(path: str | Path, expected_sha256: str) -> bytes:
    """The backup's bytes, refusing a backup that is missing or does not match its journal entry."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MetadataError(f"the backup {path} cannot be read: {exc.strerror or exc}") from exc
    if sha256_bytes(data) != expected_sha256:
        raise MetadataError(f"the backup {path} is damaged (checksum mismatch); not restoring from it")
    return data
