"""Camera clock offsets per device and folder (and period): estimated by locate, or set by the user."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import Operations


def upgrade(op: Operations) -> None:
    op.create_table(
        "clocks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("device", sa.String(200), nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("period_start", sa.DateTime),
        sa.Column("period_end", sa.DateTime),
        sa.Column("offset_s", sa.Float, nullable=False),
        sa.Column("support", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_clocks_device_folder", "clocks", ["device", "folder"])
