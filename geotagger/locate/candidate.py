"""A candidate location: what every source of evidence produces and fusion ranks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Sources (DESIGN.md): "time", "track", "library", "model:<id>", "manual".
SOURCE_TIME = "time"
SOURCE_LIBRARY = "library"
SOURCE_MANUAL = "manual"


@dataclass
class Candidate:
    lat: float
    lon: float
    radius_km: float  # uncertainty radius
    level: str  # country | region | city | exact
    confidence: float  # calibrated probability of being right at ``level``, in [0, 1]
    source: str
    address: dict[str, Any] = field(default_factory=dict)  # Address.to_dict()
    evidence: dict[str, Any] = field(default_factory=dict)  # neighbour photo + gap, class probs, concepts
