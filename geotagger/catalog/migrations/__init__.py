"""Named schema migrations (sqlite-utils style) applied in order, recorded in ``schema_migrations``.

Each module ``mNNNN_name.py`` in this package defines ``upgrade(op)`` where ``op`` is an Alembic
``Operations`` object, so the DDL stays portable to PostgreSQL. A catalog that lists a migration this
version does not know was written by a newer geotagger and is refused rather than damaged.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from functools import lru_cache

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, select
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


# table -> column -> (declared type, not null, primary key position), as PRAGMA table_info reports it
Columns = dict[str, tuple[str, int, int]]
Schema = dict[str, Columns]


def table_columns(connection: Connection) -> Schema:
    """The tables and columns a SQLite catalog holds (reading them decodes every name and type)."""
    names = connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).scalars()
    schema: Schema = {}
    for name in list(names):
        quoted = name.replace('"', '""')
        rows = connection.exec_driver_sql(f'PRAGMA table_info("{quoted}")').all()
        schema[name] = {row[1]: (str(row[2]).upper(), int(row[3]), int(row[5])) for row in rows}
    return schema


@lru_cache(maxsize=1)
def _steps() -> tuple[tuple[str, Schema, Schema], ...]:
    """(migration, schema before, schema after) for every known migration, run once on an in-memory
    database: what each migration is recorded to have made, without trusting the catalog's text."""
    engine = create_engine("sqlite://")
    steps = []
    try:
        with engine.begin() as connection:
            applied_table.create(connection)
            op = Operations(MigrationContext.configure(connection))
            before = table_columns(connection)
            for name, upgrade in known_migrations():
                upgrade(op)
                after = table_columns(connection)
                steps.append((name, before, after))
                before = after
    finally:
        engine.dispose()
    return tuple(steps)


def expected_schema(applied: Collection[str]) -> Schema:
    """The tables and columns a catalog must hold once the migrations ``applied`` have run
    (the bookkeeping table included)."""
    steps = _steps()
    schema: Schema = {applied_table.name: dict(steps[0][1][applied_table.name])} if steps else {}
    for name, before, after in steps:
        if name not in applied:
            continue
        for table in before.keys() - after.keys():
            schema.pop(table, None)
        for table, columns in after.items():
            if table in before and before[table] == columns:
                continue  # untouched by this migration (m0007 changes nothing on SQLite)
            old = before.get(table, {})
            target = schema.setdefault(table, {})
            for column in old.keys() - columns.keys():
                target.pop(column, None)
            for column, spec in columns.items():
                if old.get(column) != spec:
                    target[column] = spec
    return schema


def schema_problems(actual: Schema, expected: Schema) -> list[str]:
    """What the catalog lacks or holds differently from what its migrations made (empty: it matches).
    Extra tables or columns are not problems."""
    problems = []
    for table, columns in expected.items():
        if table not in actual:
            problems.append(f"table {table} is missing")
            continue
        for column, spec in columns.items():
            found = actual[table].get(column)
            if found is None:
                problems.append(f"column {table}.{column} is missing")
            elif found != spec:
                problems.append(f"column {table}.{column} is {found[0] or 'untyped'}, not {spec[0]}")
    return problems
