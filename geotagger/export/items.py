"""One exported photo as the format writers see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ExportItem:
    """A photo in an export. ``lat``/``lon`` are what the copy carries (None when stripped or unknown)."""

    photo_id: int
    source_path: str
    title: str
    lat: float | None
    lon: float | None
    taken_at: datetime | None = None
    address: dict[str, Any] = field(default_factory=dict)
    dest_name: str | None = None  # file name of the copy inside the export folder
    thumbnail_name: str | None = None  # relative path of its thumbnail, for the HTML map

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def place(self) -> str:
        return str(self.address.get("display") or "")
