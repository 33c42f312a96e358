"""GPS tracks (GPX/KML/NMEA) imported by the user, and their time-stamped points."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import Operations


def upgrade(op: Operations) -> None:
    op.create_table(
        "tracks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("start_utc", sa.DateTime, nullable=False),
        sa.Column("end_utc", sa.DateTime, nullable=False),
        sa.Column("fingerprint", sa.String(40), nullable=False, unique=True),
    )
    op.create_table(
        "track_points",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("track_id", sa.Integer, sa.ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("t_utc", sa.DateTime, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("ele", sa.Float),
    )
    op.create_index("ix_track_points_track_id", "track_points", ["track_id"])
    op.create_index("ix_track_points_t_utc", "track_points", ["t_utc"])
