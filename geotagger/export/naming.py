"""Safe names for export folders and copies: an album name never escapes DEST."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from geotagger.errors import UserInputError

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def safe_component(name: str, fallback: str = "album") -> str:
    """One path component from a free-text name: no separators, no '..', no leading dot, <= 120 chars."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    text = _UNSAFE.sub("_", text).strip().strip(".").strip()
    text = text[:120].rstrip(". ")
    return text or fallback


def inside(dest: Path, name: str) -> Path:
    """``dest / safe_component(name)``, checked to resolve inside ``dest``."""
    base = dest.resolve()
    target = (base / safe_component(name)).resolve()
    if target.parent != base:
        raise UserInputError(f"export name {name!r} would leave {dest}")
    return target


def unique_name(folder: Path, filename: str, taken: set[str]) -> str:
    """A file name not yet used in this export (case-insensitively, for FAT/NTFS/APFS targets)."""
    stem, suffix = Path(safe_component(filename, "photo")).stem, Path(filename).suffix
    candidate, n = stem + suffix, 1
    while candidate.lower() in taken or (folder / candidate).exists():
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    taken.add(candidate.lower())
    return candidate
