"""Test helper: a throwaway schema on the test PostgreSQL server (GEOTAGGER_TEST_POSTGRES)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

SKIP = (
    "no PostgreSQL server for the catalog tests: set GEOTAGGER_TEST_POSTGRES=postgresql+psycopg://USER@HOST/DB "
    "(bash .ci/steps/30-postgres.sh starts one)"
)
_unreachable: dict[str, str] = {}


def with_schema(base: str, schema: str) -> str:
    """The server URL with every connection's search_path set to ``schema``."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema(base: str | None) -> Iterator[str]:
    """Create a schema, yield a catalog URL that uses it, drop it afterwards (skip without a server)."""
    if not base:
        pytest.skip(SKIP)
    if base in _unreachable:
        pytest.skip(_unreachable[base])
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    try:
        engine = create_engine(base)
        with engine.begin() as connection:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (ImportError, DBAPIError) as exc:  # no driver, server down, no rights: skip, saying why
        _unreachable[base] = (
            f"the PostgreSQL test server {base} cannot be used: {' '.join(str(exc).split())[:200]}"
        )
        pytest.skip(_unreachable[base])
    try:
        yield with_schema(base, schema)
    finally:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
