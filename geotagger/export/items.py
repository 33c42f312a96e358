"""One exported photo as the format writers see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any


@dataclass
class ExportItem:
    """A photo in an export. ``lat``/``lon`` are what the copy carries (None when stripped or unknown).

    ``taken_at`` is the camera's wall-clock time; ``taken_offset_min`` its UTC offset (minutes east)
    when the photo recorded one. Only with the offset can a time be given in UTC.
    """

    photo_id: int
    source_path: str
    title: str
    lat: float | None
    lon: float | None
    taken_at: datetime | None = None
    address: dict[str, Any] = field(default_factory=dict)
    dest_name: str | None = None  # file name of the copy inside the export folder
    thumbnail_name: str | None = None  # relative path of its thumbnail, for the HTML map
    taken_offset_min: int | None = None

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def place(self) -> str:
        return str(self.address.get("display") or "")

    @property
    def offset_min(self) -> int | None:
        """The UTC offset if it is a real one (UTC-14:00..+14:00); anything else counts as unknown."""
        offset = self.taken_offset_min
        return offset if offset is not None and -14 * 60 <= offset <= 14 * 60 else None

    @property
    def taken_utc(self) -> datetime | None:
        """The capture time in UTC (aware), or None when the time or its UTC offset is unknown."""
        if self.taken_at is None or self.offset_min is None:
            return None
        local = self.taken_at.replace(tzinfo=None)
        return (local - timedelta(minutes=self.offset_min)).replace(tzinfo=UTC)

    @property
    def taken_iso(self) -> str | None:
        """ISO 8601 with the photo's own offset when known; without one (local time) when not."""
        if self.taken_at is None:
            return None
        local = self.taken_at.replace(tzinfo=None, microsecond=0)
        offset = self.offset_min
        if offset is None:
            return local.isoformat()
        return local.replace(tzinfo=timezone(timedelta(minutes=offset))).isoformat()

    @property
    def taken_text(self) -> str | None:
        """For people: '2022-02-16 12:55:41 (UTC+01:00)', or '... (local time)' when the zone is unknown."""
        if self.taken_at is None:
            return None
        stamp = self.taken_at.replace(tzinfo=None, microsecond=0).isoformat(sep=" ")
        offset = self.offset_min
        if offset is None:
            return f"{stamp} (local time)"
        sign = "+" if offset >= 0 else "-"
        hours, minutes = divmod(abs(offset), 60)
        return f"{stamp} (UTC{sign}{hours:02d}:{minutes:02d})"


def utc_stamp(moment: datetime) -> str:
    """``2022-02-16T11:55:41Z``: the form GPX and KML readers expect for UTC."""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
