"""Named schema migrations (sqlite-utils style) applied in order, recorded in ``schema_migrations``.

Each module ``mNNNN_name.py`` in this package defines ``upgrade(op)`` where ``op`` is an Alembic
``Operations`` object, so the DDL stays portable to PostgreSQL. A catalog that lists a migration this
version does not know was written by a newer geotagger and is refused rather than damaged.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from datetime import UTC, datetime

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, DateTime, MetaData, String, Table, select
from sqlalchemy.engine import Connection

from geotagger.errors import CatalogError

_meta = MetaData()
applied_table = Table(
    "schema_migrations",
    _meta,
    Column("name", String(100), primary_key=True),
    Column("applied_at", DateTime, nullable=False),
)


def known_migrations() -> list[tuple[str, Callable[[Operations], None]]]:
    """All migrations shipped with this version, in the order they must run."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append((info.name, module.upgrade))
    return sorted(found)


def migrate(connection: Connection) -> list[str]:
    """Apply the migrations this catalog lacks; return their names."""
    applied_table.create(connection, checkfirst=True)
    done = set(connection.execute(select(applied_table.c.name)).scalars())
    known = known_migrations()
    unknown = done - {name for name, _ in known}
    if unknown:
        raise CatalogError(
            f"this catalog was written by a newer geotagger (unknown migrations: {', '.join(sorted(unknown))})"
        )
    op = Operations(MigrationContext.configure(connection))
    ran = []
    for name, upgrade in known:
        if name in done:
            continue
        upgrade(op)
        connection.execute(applied_table.insert().values(name=name, applied_at=datetime.now(UTC)))
        ran.append(name)
    return ran
