"""PostgreSQL only (a no-op on SQLite): 64-bit file sizes and mtimes, and byte-order path columns.

Why: ``Integer`` is 32-bit on PostgreSQL (an mtime in nanoseconds does not fit; SQLite integers are
64-bit), and a server database usually has a linguistic collation, under which the half-open string
ranges that select "this folder and everything under it" (services/pathscope.py, indexing/store.py)
are wrong (``/a/b/x`` and ``/a/b-c`` interleave) and ordering by path differs from SQLite's. ``COLLATE
"C"`` on the path columns makes comparisons, ordering and their indexes bytewise, as on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import Operations

BIG = {"photos": ("size", "mtime_ns")}
PATHS = {
    "photos": ("path", "folder", "filename", "sidecar_path"),
    "writes": ("target_path", "backup_path"),
    "tracks": ("path",),
    "clocks": ("folder",),
}


def upgrade(op: Operations) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in BIG.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.BigInteger, existing_type=sa.Integer)
    for table, columns in PATHS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Text(collation="C"), existing_type=sa.Text)
