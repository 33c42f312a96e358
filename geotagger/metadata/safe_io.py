"""Atomic file replacement and exact backups: the two things that make a write to a photo undoable.

Why: a photo is only ever replaced by a complete, verified file. The new bytes go to a temporary file in
the same folder (same file system, so the rename is atomic), are fsync'ed, get the original's mode and
mtime, and then ``os.replace`` swaps them in. A crash at any moment leaves either the old or the new file.

Temporary names are short and unique per process (``.geotagger-<pid>-<random>.tmp``): never derived from
the photo's name (a 240-byte name would overflow the 255-byte limit), never shared by two processes
(two writers would write into the same temp file), and a leftover whose process is dead can be found
and removed by ``remove_stale_temps``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path

from geotagger.errors import MetadataError, WriteRefusedError

TMP_PREFIX = ".geotagger-"
TMP_SUFFIX = ".tmp"
_TMP_NAME = re.compile(r"^\.geotagger-(\d+)-[0-9a-f]{8}\.tmp$")


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
    except OSError as exc:
        raise MetadataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def check_readable(path: Path) -> None:
    """Open ``path`` for reading (the real test: mode bits lie for root, ACLs and network mounts)."""
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise MetadataError(f"cannot read {path}: {exc.strerror or exc}") from exc


def temp_path_for(path: Path) -> Path:
    """A fresh temporary name next to ``path``: bounded length, unique per process and call."""
    return path.with_name(f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete temporary files in ``folder`` left by geotagger processes that are no longer running.

    Why only dead ones: an export or a GUI in another process may be replacing a file right now.
    Never raises: an unreadable folder just has nothing to clean.
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TMP_NAME.match(name)
        if match and not _pid_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                (Path(folder) / name).unlink()
                removed.append(Path(folder) / name)
    return removed


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
    mode_from: str | Path | None = None,
) -> None:
    """Replace (or create) ``path`` with ``data`` atomically; keep the old mtime and permissions."""
    path = Path(path)
    check_writable(path)
    tmp = temp_path_for(path)
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


class BackupError(MetadataError):
    """The backups folder cannot take a backup (disk full, file size limit): nothing can be written."""


def store_backup(folder: Path, data: bytes, suffix: str = "") -> tuple[Path, str]:
    """Keep ``data`` under its sha256 in ``folder`` (content-addressed: a repeat costs nothing)."""
    digest = sha256_bytes(data)
    target = folder / f"{digest}{suffix}"
    if target.exists() and sha256_file(target) == digest:
        return target, digest
    tmp = temp_path_for(target)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()  # never leave a partial backup (a full disk, ulimit -f, a kill of the thread)
        if isinstance(exc, OSError):
            raise BackupError(f"cannot keep a backup in {folder}: {exc.strerror or exc}") from exc
        raise
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
