"""The address hierarchy every part of geotagger speaks: country > admin-1 > admin-2 > locality."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

LEVELS = ("country", "region", "city", "exact")  # accept/write precision, coarse to fine


@dataclass(frozen=True)
class Address:
    """A reverse-geocoded place. Ids are stable across runs so a place is the same class everywhere.

    ids: {"country": "CH", "admin1": "CH-BE", "admin2": "<id>", "locality": "geonames:<id>"} (keys present
    only for the levels that are known). ``ocean`` names the sea when no country contains the point.
    """

    country_code: str | None = None
    country: str | None = None
    admin1: str | None = None
    admin1_code: str | None = None
    admin2: str | None = None
    locality: str | None = None
    locality_distance_km: float | None = None
    ocean: str | None = None
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def display(self) -> str:
        """ "Lauterbrunnen, Bern, Switzerland" (finest known first, duplicates dropped)."""
        parts: list[str] = []
        for part in (self.locality, self.admin1, self.country or self.ocean):
            if part and part not in parts:
                parts.append(part)
        return ", ".join(parts) if parts else "unknown place"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["display"] = self.display
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Address:
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)
