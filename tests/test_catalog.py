from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from geotagger.catalog import Base, Catalog, Photo
from geotagger.catalog.migrations import applied_table, known_migrations
from geotagger.errors import CatalogError
from tests.factories import photo_row

pytestmark = pytest.mark.catalog_backends  # SQLite and PostgreSQL (tests/conftest.py)


def _photo(path: str) -> Photo:
    return photo_row(path, folder="/p", fingerprint="f")


def test_migrated_schema_matches_orm(catalog_location: str) -> None:
    catalog = Catalog(catalog_location)
    inspector = inspect(catalog.engine)
    for table in Base.metadata.sorted_tables:
        db_columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert db_columns == {c.name for c in table.columns}, table.name
    catalog.close()


def test_wal_and_foreign_keys(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite")
    with catalog.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    catalog.close()


def test_reopen_runs_no_migration_twice(catalog_location: str) -> None:
    Catalog(catalog_location).close()
    catalog = Catalog(catalog_location)
    with catalog.engine.connect() as connection:
        names = connection.execute(select(applied_table.c.name)).scalars().all()
    assert sorted(names) == [name for name, _ in known_migrations()]
    catalog.close()


def test_newer_catalog_is_refused(catalog_location: str) -> None:
    catalog = Catalog(catalog_location)
    with catalog.engine.begin() as connection:
        connection.execute(applied_table.insert().values(name="m9999_future", applied_at=datetime.now()))
    catalog.close()
    with pytest.raises(CatalogError, match="newer geotagger"):
        Catalog(catalog_location)


def test_writer_rolls_back_on_error(catalog_location: str) -> None:
    catalog = Catalog(catalog_location)
    with pytest.raises(RuntimeError), catalog.writer() as session:
        session.add(_photo("/p/a.jpg"))
        session.flush()
        raise RuntimeError("boom")
    with catalog.reader() as session:
        assert session.scalars(select(Photo)).all() == []
    with catalog.writer() as session:
        session.add(_photo("/p/b.jpg"))
    with catalog.reader() as session:
        assert [p.filename for p in session.scalars(select(Photo))] == ["b.jpg"]
    catalog.close()


def test_unwritable_library_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CatalogError, match="cannot create the library folder"):
        Catalog(blocker / "sub" / "c.sqlite")
