"""SQL conditions for "this path or anything under it", exact and case-sensitive.

LIKE is the wrong tool here: ``_`` and ``%`` in a folder name are wildcards and SQLite's LIKE ignores
ASCII case, so a scope on ``/p/a_b`` also matched ``/p/aXb`` and ``/p/A_B``. A half-open string range
``prefix <= path < prefix'`` (prefix' = prefix with its last character incremented) selects exactly the
strings that start with the prefix, and it uses the column's index.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, or_


def starts_with(column: Any, prefix: str) -> Any:
    """SQL: ``column`` starts with ``prefix`` (byte-exact, no wildcards)."""
    if not prefix:
        raise ValueError("an empty prefix would select everything")
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)


def at_or_under(column: Any, folder: str, separators: Iterable[str] = ("/",)) -> Any:
    """SQL: ``column`` is ``folder`` itself or a path inside it (any of the given separators)."""
    base = folder.rstrip("/\\") or folder
    prefixes = {base if base.endswith(sep) else base + sep for sep in separators}
    return or_(column == base, *(starts_with(column, prefix) for prefix in sorted(prefixes)))
