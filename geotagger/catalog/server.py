"""A catalog on a PostgreSQL server: URL, engine, error messages and the cross-process single writer.

Why this exists: SQLite serialises writers by its file lock; a server lets many sessions write at
once, and two read-modify-write sequences (the GUI accepting a photo while ``tag`` accepts another)
could then interleave and lose one. ``lock_writers`` makes every ``Catalog.writer()`` transaction take
one transaction-scoped advisory lock first, so writers take turns as with SQLite while readers never
wait. psycopg is imported only through SQLAlchemy, and only when a server URL is opened.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from geotagger.errors import CatalogError
from geotagger.paths import data_dir

# Key of the advisory lock every writer transaction takes (any constant: it names this use of it).
WRITER_LOCK_KEY = 0x67656F746167  # "geotag"
# How long a writer waits for another one before reporting the catalog busy (SQLite's busy_timeout).
WRITER_WAIT = "15s"
EXTRA_HINT = "install the driver with: pip install 'geotagger[postgres]'"


def server_url(location: str) -> str:
    """The SQLAlchemy URL of a server catalog; ``postgresql://`` (and ``postgres://``) mean psycopg 3."""
    try:
        url = make_url(location)
    except ArgumentError as exc:
        raise CatalogError(f"not a catalog path or database URL: {shown_url(location)}") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """The URL as messages show it: never the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<database URL>"


_NONFINITE = "$nonfinite"  # {"$nonfinite": "inf"}: how a JSON column holds inf/-inf/nan on the server


def _encode_nonfinite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {_NONFINITE: repr(value)}
    if isinstance(value, dict):
        return {k: _encode_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode_nonfinite(v) for v in value]
    return value


def json_dumps(value: Any) -> str:
    """JSON for a server column. PostgreSQL rejects the ``Infinity``/``NaN`` tokens that Python (and
    SQLite) accept and the catalog stores (e.g. a time gate of inf), so they travel as tagged objects."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return json.dumps(_encode_nonfinite(value), allow_nan=False)


def _decode_nonfinite(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and isinstance(obj.get(_NONFINITE), str):
        return float(obj[_NONFINITE])
    return obj


def json_loads(text_: str | bytes) -> Any:
    """The inverse of json_dumps."""
    return json.loads(text_, object_hook=_decode_nonfinite)


def server_engine(url: str, name: object) -> Engine:
    """An engine for the server catalog, or a CatalogError saying what is missing."""
    try:
        return create_engine(
            url, pool_pre_ping=True, json_serializer=json_dumps, json_deserializer=json_loads
        )
    except ModuleNotFoundError as exc:
        raise CatalogError(f"the catalog {name} needs the {exc.name} module; {EXTRA_HINT}") from exc
    except ArgumentError as exc:
        raise CatalogError(f"cannot open the catalog {name}: {exc}") from exc


def side_data_base(url: str) -> Path:
    """Where a server catalog's side data (thumbnails, embeddings, backups) lives on this machine:
    one folder per server database (and schema), named so that two catalogs never share one."""
    shown = make_url(shown_url(url))
    name = re.sub(
        r"[^A-Za-z0-9_.-]+", "_", f"{shown.host or 'local'}-{shown.port or ''}-{shown.database or ''}"
    )
    digest = hashlib.sha1(shown.render_as_string(hide_password=True).encode()).hexdigest()[:10]
    # a suffix of its own: the side folder is named after the stem, and a host name has dots
    return data_dir() / "server-libraries" / f"{name}-{digest}.catalog"


def lock_writers(session: Session | Connection) -> None:
    """Wait (at most WRITER_WAIT) for this transaction's turn as the catalog's one writer."""
    session.execute(text(f"SET LOCAL lock_timeout = '{WRITER_WAIT}'"))
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK_KEY})
    session.execute(text("SET LOCAL lock_timeout = 0"))


def from_server(exc: BaseException) -> bool:
    """Whether an exception comes from the PostgreSQL driver (directly or wrapped by SQLAlchemy)."""
    for candidate in (exc, getattr(exc, "orig", None)):
        if candidate is not None and type(candidate).__module__.startswith("psycopg"):
            return True
    return False


def server_error(exc: BaseException, name: object) -> CatalogError | None:
    """The CatalogError a server error means; None for program errors (constraints, SQL mistakes),
    which keep their traceback. Classes by SQLSTATE (PostgreSQL manual, appendix A)."""
    orig: Any = getattr(exc, "orig", None) or exc
    state = str(getattr(orig, "sqlstate", None) or "")
    message = " ".join(str(orig).split()) or type(orig).__name__
    if state[:2] in ("22", "23", "42", "0A", "2B", "25") and state != "42501":
        return None  # data, integrity, syntax, feature, transaction-state errors: bugs, not the catalog
    if state in ("55P03", "40001", "40P01"):
        return CatalogError(
            f"the catalog {name} is busy: another writer holds it ({message}); try again later"
        )
    if state == "53100":
        return CatalogError(f"the server holding the catalog {name} is out of disk space ({message})")
    if state[:2] == "28" or state == "42501":
        return CatalogError(f"the catalog {name} refused access: {message} (check the user and its rights)")
    if state == "3D000":
        return CatalogError(
            f"the catalog {name} does not exist on the server: {message} (create the database)"
        )
    if not state or state[:2] in ("08", "57", "53", "58"):
        return CatalogError(
            f"cannot reach the catalog {name}: {message} (check that the server runs and the URL is right)"
        )
    return CatalogError(f"the catalog {name} reported an error: {message}")
