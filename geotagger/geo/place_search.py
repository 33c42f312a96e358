"""Find places by name, offline: GeoNames places, admin-1 regions and countries (CC BY 4.0).

Typing "lauterb" or "zurich" must find Lauterbrunnen and Zürich, so names are compared casefolded with
accents stripped (NFKD), by prefix of the whole name or of any later word ("york" finds New York).
Hits rank exact names first, then whole-name prefixes, then word prefixes, each by population (a
region or country counts the people of its places). The index (one sorted list of keys) is built once,
on first use, from the geocoder's data files; a query is two binary searches and a partial sort.
"""

from __future__ import annotations

import bisect
import gzip
import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geotagger.errors import UserInputError
from geotagger.paths import resources_dir

KINDS = ("place", "region", "country")
_SEPARATORS = re.compile(r"[\s\-_'’.,/()]+")
_EXACT, _PREFIX, _WORD = 0, 1, 2
# Combining diacritical marks (the blocks Latin, Greek and Cyrillic accents decompose into).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def normalize(text: str) -> str:
    """Casefolded, accents stripped, punctuation as single spaces: 'Zürich-Höngg' -> 'zurich hongg'."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return _SEPARATORS.sub(" ", folded).strip()


def place_zoom(kind: str, population: int) -> int:
    """A map zoom that shows the hit whole: a country, a region, a city by its size, a village close."""
    if kind == "country":
        return 5
    if kind == "region":
        return 7
    if population >= 1_000_000:
        return 10
    if population >= 100_000:
        return 11
    return 13


@dataclass(frozen=True)
class PlaceHit:
    name: str
    kind: str  # place | region | country
    lat: float
    lon: float
    population: int
    region: str  # admin-1 name ("" for a country or where GeoNames has none)
    country: str
    zoom: int

    @property
    def label(self) -> str:
        """'Lauterbrunnen, Berne, Switzerland' (what a list of hits shows)."""
        parts = [self.name] + [p for p in (self.region, self.country) if p and p != self.name]
        return ", ".join(parts)


class PlaceSearch:
    """The searchable names. ``PlaceSearch.default()`` shares one index, built on first use."""

    _default: PlaceSearch | None = None
    _lock = threading.Lock()

    def __init__(self, data_dir: Path | None = None) -> None:
        data_dir = Path(data_dir) if data_dir else resources_dir() / "geo"
        places = np.load(data_dir / "places.npz")
        with gzip.open(data_dir / "gazetteer.json.gz", "rt", encoding="utf-8") as fh:
            gaz = json.load(fh)
        lat = places["lat"].astype(np.float64)
        lon = places["lon"].astype(np.float64)
        pop = places["population"].astype(np.int64)
        names = places["names"].tobytes().decode("utf-8").split("\n")
        codes = [str(c) for c in places["country_codes"]]
        country_of = places["country"].astype(np.int64)
        admin1 = places["admin1"].astype(np.int64)
        subdivisions = gaz["subdivisions"]
        country_names: dict[str, str] = gaz["countries"]
        cc = [codes[c] if 0 <= c < len(codes) else "" for c in country_of.tolist()]
        # Places stay in arrays (a PlaceHit is made only for a result); regions and countries are few.
        self._places = (names, lat, lon, pop, admin1, cc)
        self._subdivisions, self._country_names = subdivisions, country_names
        self.groups: list[PlaceHit] = self._groups(admin1, lat, lon, pop, cc, country_names, subdivisions)
        self.groups += self._countries(country_of, lat, lon, pop, codes, country_names)
        self.size = len(names) + len(self.groups)
        self._build_index(
            names + [g.name for g in self.groups], np.concatenate([pop, [g.population for g in self.groups]])
        )

    def hit(self, index: int) -> PlaceHit:
        """Entry ``index`` of the index (places first, then regions and countries)."""
        names, lat, lon, pop, admin1, cc = self._places
        if index >= len(names):
            return self.groups[index - len(names)]
        a1 = int(admin1[index])
        population = int(pop[index])
        return PlaceHit(
            names[index],
            "place",
            float(lat[index]),
            float(lon[index]),
            population,
            self._subdivisions[a1]["name"] if a1 >= 0 else "",
            self._country_names.get(cc[index], cc[index]),
            place_zoom("place", population),
        )

    @staticmethod
    def _centre(
        rows: np.ndarray, lat: np.ndarray, lon: np.ndarray, pop: np.ndarray
    ) -> tuple[float, float, int]:
        """Population-weighted centre of a group of places (its largest place when weights are all 0).

        Longitudes are averaged as unit vectors so a group across the dateline stays on it."""
        weights = pop[rows].astype(np.float64) + 1.0
        rad = np.radians(lon[rows])
        mean_lon = float(np.degrees(np.arctan2((np.sin(rad) * weights).sum(), (np.cos(rad) * weights).sum())))
        return float(np.average(lat[rows], weights=weights)), mean_lon, int(pop[rows].sum())

    def _groups(self, admin1, lat, lon, pop, cc, country_names, subdivisions) -> list[PlaceHit]:
        hits = []
        order = np.argsort(admin1, kind="stable")
        keys, starts = np.unique(admin1[order], return_index=True)
        bounds = list(starts[1:]) + [len(order)]
        for key, start, end in zip(keys.tolist(), starts.tolist(), bounds, strict=True):
            if key < 0:
                continue
            la, lo, total = self._centre(order[start:end], lat, lon, pop)
            country = cc[int(order[start])]
            hits.append(
                PlaceHit(
                    subdivisions[key]["name"],
                    "region",
                    la,
                    lo,
                    total,
                    "",
                    country_names.get(country, country),
                    7,
                )
            )
        return hits

    def _countries(self, country_of, lat, lon, pop, codes, country_names) -> list[PlaceHit]:
        hits = []
        for index, code in enumerate(codes):
            rows = np.flatnonzero(country_of == index)
            if not len(rows) or code not in country_names:
                continue
            la, lo, total = self._centre(rows, lat, lon, pop)
            hits.append(PlaceHit(country_names[code], "country", la, lo, total, "", country_names[code], 5))
        return hits

    def _build_index(self, names: list[str], population: np.ndarray) -> None:
        rows: list[tuple[str, int, int]] = []  # (key, entry index, whole name or later word)
        for i, name in enumerate(names):
            key = normalize(name)
            if not key:
                continue
            rows.append((key, i, _PREFIX))
            words = key.split(" ")
            for w in range(1, len(words)):
                rows.append((" ".join(words[w:]), i, _WORD))
        rows.sort()
        self._keys = [r[0] for r in rows]
        self._hit = np.array([r[1] for r in rows], np.int64)
        self._how = np.array([r[2] for r in rows], np.int8)
        self._pop = population.astype(np.int64)[self._hit]

    @classmethod
    def default(cls) -> PlaceSearch:
        """The shared index (built on the first call, about a second)."""
        with cls._lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    def search(self, text: str, limit: int = 10, kinds: tuple[str, ...] = KINDS) -> list[PlaceHit]:
        """The best ``limit`` places whose name (or a later word of it) starts with ``text``."""
        if limit < 1:
            raise UserInputError("the number of results must be at least 1")
        query = normalize(text)
        if not query:
            return []
        lo = bisect.bisect_left(self._keys, query)
        hi = bisect.bisect_left(self._keys, query + "\U0010ffff", lo)
        if lo == hi:
            return []
        how = self._how[lo:hi].astype(np.int64)
        exact_end = bisect.bisect_right(self._keys, query, lo, hi) - lo
        how[:exact_end] = np.where(how[:exact_end] == _PREFIX, _EXACT, how[:exact_end])
        # Smaller is better: match kind first, then more people.
        score = how * (1 << 40) - np.minimum(self._pop[lo:hi], (1 << 40) - 1)
        want = min(len(score), limit * 4 + 16)  # room for duplicates (one hit under several keys)
        top = np.argpartition(score, want - 1)[:want] if want < len(score) else np.arange(len(score))
        top = top[np.argsort(score[top], kind="stable")]
        out: list[PlaceHit] = []
        seen: set[int] = set()
        for j in top.tolist():
            index = int(self._hit[lo + j])
            if index in seen:
                continue
            hit = self.hit(index)
            if hit.kind not in kinds:
                continue
            seen.add(index)
            out.append(hit)
            if len(out) == limit:
                break
        return out


def search_places(text: str, limit: int = 10) -> list[PlaceHit]:
    """Convenience: ``PlaceSearch.default().search``."""
    return PlaceSearch.default().search(text, limit)
