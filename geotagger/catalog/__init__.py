"""The photo catalog: SQLAlchemy 2 ORM on SQLite (WAL) or PostgreSQL (server.py) with named schema migrations."""

from geotagger.catalog.db import Catalog
from geotagger.catalog.schema import (
    Album,
    AlbumPhoto,
    Base,
    Decision,
    Photo,
    Setting,
    Suggestion,
    WriteRecord,
)

__all__ = [
    "Album",
    "AlbumPhoto",
    "Base",
    "Catalog",
    "Decision",
    "Photo",
    "Setting",
    "Suggestion",
    "WriteRecord",
]
