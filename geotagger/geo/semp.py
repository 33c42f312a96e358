"""Semantic partitioning (SemP, Theiner et al., WACV 2022): classes that are real places.

Algorithm (per the paper, see DESIGN.md):
1. Every geotagged sample gets its address hierarchy country > admin-1 > admin-2 > locality (levels the
   geocoder does not know are skipped). All paths together form a tree of places; a node's count is the
   number of samples in its subtree.
2. For each threshold tau (coarse to fine = large to small tau) the places with count >= tau are kept and
   every sample is assigned to its *finest kept* place. A kept place whose samples all went to kept
   children has no class of its own. Samples with no kept place at all (a country with < tau samples,
   or no address: open sea) are *unassigned*; their number per level is reported in ``unassigned``.
3. Each class has a stable id (the path of place ids, so the same place is the same class across runs),
   its name path, level, mean coordinate of its samples (mean of 3-D unit vectors, so a class spanning the
   dateline does not average to lon 0), count, and the outline id (admin-1 id, else country id) of the
   region drawn on the map.
4. ``parents[l][c]`` maps class c of partitioning l to its ancestor class in partitioning l - 1 (the
   finest coarser class on its path), and M[c, l] is the index of fine class c's ancestor in level l
   (-1: none), which the hierarchical prediction multiplies over.

Choosing tau (:func:`suggest_thresholds`, three levels coarse to fine):
- Planet-scale training sets (MP-16, 4.7M photos): the paper used tau between 50 and 250 (a few
  thousand classes per level); the suggestion is (250, 100, 50) from about 40k samples up.
- Personal libraries (a few hundred to 100k geotagged photos) are small and clustered (home, a few
  trips), so tau scales with the library: coarse n/10 (the countries/regions a person visits),
  middle n/40, fine n/400, each clipped to the paper's values above and to at least 3 below (a class
  mean of 3 photos is still a usable coordinate; 1-2 photos are better served by nearest neighbours).
  Example: 800 photos -> (80, 20, 3); 5,000 -> (250, 100, 12); 100 -> (10, 3).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geotagger.geo.address import Address
from geotagger.progress import CancelToken, Progress

HIERARCHY_LEVELS = ("country", "admin1", "admin2", "locality")
_ADDRESS_FIELD = {"country": "country", "admin1": "admin1", "admin2": "admin2", "locality": "locality"}
FORMAT_VERSION = 1
_ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


@dataclass
class PlaceClass:
    """One class of a partitioning: a real place (or an S2 cell)."""

    index: int
    id: str  # stable: "CH/CH-BE/geonames:8260139/geonames:2659992" or "s2:<token>"
    name_path: list[str]  # coarse to fine: ["Switzerland", "Bern", ..., "Lauterbrunnen"]
    level: str  # "country" | "admin1" | "admin2" | "locality" | "s2-<level>"
    lat: float  # mean of the class's samples: the predicted coordinate
    lon: float
    count: int  # samples assigned to this class
    outline_id: str | None  # admin-1 id, else country id (or S2 token) of the region on the map
    parent: int = -1  # index in the next coarser partitioning, -1 = none
    ids: dict[str, str] = field(default_factory=dict)  # level -> place id along the path

    @property
    def display(self) -> str:
        """Finest first, like an address: "Lauterbrunnen, Bern, Switzerland"."""
        return ", ".join(reversed(self.name_path))

    def address(self) -> Address:
        """The class as an Address (for candidates)."""
        names = dict(zip(self.ids, self.name_path, strict=False))  # ids are ordered coarse to fine
        admin1_id = self.ids.get("admin1")
        is_iso = bool(admin1_id and _ISO_3166_2.match(admin1_id))
        return Address(
            country_code=self.ids.get("country"),
            country=names.get("country"),
            admin1=names.get("admin1"),
            admin1_code=admin1_id if is_iso else None,
            admin2=names.get("admin2"),
            locality=names.get("locality"),
            ids=dict(self.ids),
        )


@dataclass
class Partitioning:
    """The classes of one threshold. ``labels`` (sample -> class, -1 = unassigned) is not serialised."""

    tau: int
    classes: list[PlaceClass]
    unassigned: int = 0
    kind: str = "semp"
    params: dict[str, Any] = field(default_factory=dict)
    labels: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tau": self.tau,
            "kind": self.kind,
            "params": self.params,
            "unassigned": self.unassigned,
            "classes": [asdict(c) for c in self.classes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Partitioning:
        return cls(
            tau=int(data["tau"]),
            classes=[PlaceClass(**c) for c in data["classes"]],
            unassigned=int(data.get("unassigned", 0)),
            kind=data.get("kind", "semp"),
            params=data.get("params", {}),
        )

    def class_coordinates(self) -> np.ndarray:
        """[C, 2] lat, lon of every class."""
        return np.array([[c.lat, c.lon] for c in self.classes], np.float64).reshape(-1, 2)


@dataclass
class PartitioningSet:
    """Partitionings coarse to fine, with the hierarchy matrix M (finest class -> ancestor per level)."""

    partitionings: list[Partitioning]
    M: np.ndarray  # [C_finest, L] int, -1 where a class has no ancestor at that level
    n_samples: int = 0

    @property
    def finest(self) -> Partitioning:
        return self.partitionings[-1]

    @property
    def labels(self) -> np.ndarray | None:
        """[N, L] class per sample and level (-1 = unassigned), when built in this process."""
        if any(p.labels is None for p in self.partitionings):
            return None
        return np.stack([p.labels for p in self.partitionings], axis=1)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": "geotagger-partitionings",
                "version": FORMAT_VERSION,
                "n_samples": self.n_samples,
                "levels": [p.to_dict() for p in self.partitionings],
                "M": self.M.tolist(),
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> PartitioningSet:
        data = json.loads(text)
        if data.get("format") != "geotagger-partitionings" or data.get("version", 0) > FORMAT_VERSION:
            raise ValueError("not a geotagger partitionings file (or one from a newer version)")
        parts = [Partitioning.from_dict(d) for d in data["levels"]]
        m = np.asarray(data["M"], dtype=np.int64).reshape(-1, len(parts))
        return cls(parts, m, int(data.get("n_samples", 0)))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> PartitioningSet:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def suggest_thresholds(n_samples: int) -> tuple[int, ...]:
    """Thresholds coarse to fine for a training set of ``n_samples`` (see the module docstring)."""
    n = max(int(n_samples), 0)
    fine = min(int(np.clip(n / 400, 3, 50)), max(n, 1))
    mid = int(np.clip(n / 40, fine, 100))
    coarse = int(np.clip(n / 10, mid, 250))
    return tuple(sorted({coarse, mid, fine}, reverse=True))


def address_path(addr: Address) -> list[tuple[str, str, str]]:
    """(level, id, name) from country down; levels without an id are skipped; no country = no path."""
    if not addr.ids.get("country"):
        return []
    path = []
    for level in HIERARCHY_LEVELS:
        pid = addr.ids.get(level)
        if pid:
            name = getattr(addr, _ADDRESS_FIELD[level]) or pid
            path.append((level, pid, name))
    return path


def _mean_coordinate(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float]:
    la, lo = np.radians(lat), np.radians(lon)
    x, y, z = (np.mean(np.cos(la) * np.cos(lo)), np.mean(np.cos(la) * np.sin(lo)), np.mean(np.sin(la)))
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


class _PlaceTree:
    """Nodes of all sample paths; ``node_of[i, d]`` is sample i's node at depth d (-1 = shorter path)."""

    def __init__(self, addresses: Sequence[Address]) -> None:
        self.key: dict[tuple[str, ...], int] = {}
        self.parent: list[int] = []
        self.level: list[str] = []
        self.pid: list[str] = []
        self.names: list[list[str]] = []
        self.ids: list[dict[str, str]] = []
        depth = len(HIERARCHY_LEVELS)
        self.node_of = np.full((len(addresses), depth), -1, np.int64)
        for i, addr in enumerate(addresses):
            prefix: tuple[str, ...] = ()
            parent = -1
            for d, (level, pid, name) in enumerate(address_path(addr)):
                prefix = (*prefix, pid)
                node = self.key.get(prefix)
                if node is None:
                    node = len(self.parent)
                    self.key[prefix] = node
                    self.parent.append(parent)
                    self.level.append(level)
                    self.pid.append("/".join(prefix))
                    self.names.append(([] if parent < 0 else self.names[parent]) + [name])
                    self.ids.append({**({} if parent < 0 else self.ids[parent]), level: pid})
                self.node_of[i, d] = node
                parent = node
        self.parent_arr = np.asarray(self.parent, np.int64)
        valid = self.node_of[self.node_of >= 0]
        self.count = np.bincount(valid, minlength=len(self.parent))

    def ancestors_or_self(self, node: int):
        while node >= 0:
            yield node
            node = self.parent[node]


def _assign(tree: _PlaceTree, tau: int) -> np.ndarray:
    """Each sample's finest node with count >= tau (-1 = none)."""
    kept = tree.count >= tau
    out = np.full(len(tree.node_of), -1, np.int64)
    for d in range(tree.node_of.shape[1]):
        nodes = tree.node_of[:, d]
        ok = nodes >= 0
        ok[ok] = kept[nodes[ok]]
        out[ok] = nodes[ok]
    return out


def build_partitionings(
    addresses: Sequence[Address],
    lats: Any,
    lons: Any,
    taus: Sequence[int] | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> PartitioningSet:
    """SemP partitionings for samples with known addresses and coordinates (taus coarse to fine).

    ``taus`` default to :func:`suggest_thresholds`; they are sorted descending (coarse first).
    """
    lat = np.asarray(lats, np.float64).reshape(-1)
    lon = np.asarray(lons, np.float64).reshape(-1)
    if not (len(addresses) == len(lat) == len(lon)):
        raise ValueError("addresses, lats and lons must have the same length")
    taus = sorted({int(t) for t in (taus or suggest_thresholds(len(lat)))}, reverse=True)
    if not taus or taus[-1] < 1:
        raise ValueError("thresholds must be positive integers")
    if progress:
        progress.start(len(taus) + 1, "building partitionings")
    tree = _PlaceTree(addresses)
    if progress:
        progress.advance()
    parts: list[Partitioning] = []
    class_of_node: list[dict[int, int]] = []
    for tau in taus:
        if cancel:
            cancel.check()
        node_label = _assign(tree, tau)
        nodes, inverse = np.unique(node_label[node_label >= 0], return_inverse=True)
        labels = np.full(len(lat), -1, np.int64)
        labels[node_label >= 0] = inverse
        sel = np.flatnonzero(labels >= 0)
        order = np.argsort(labels[sel], kind="stable")
        bounds = np.searchsorted(labels[sel][order], np.arange(len(nodes) + 1))
        classes = []
        for c, node in enumerate(nodes.tolist()):
            members = sel[order[bounds[c] : bounds[c + 1]]]
            mlat, mlon = _mean_coordinate(lat[members], lon[members])
            ids = tree.ids[node]
            classes.append(
                PlaceClass(
                    index=c,
                    id=tree.pid[node],
                    name_path=list(tree.names[node]),
                    level=tree.level[node],
                    lat=round(mlat, 6),
                    lon=round(mlon, 6),
                    count=len(members),
                    outline_id=ids.get("admin1") or ids.get("country"),
                    ids=dict(ids),
                )
            )
        mapping = {node: c for c, node in enumerate(nodes.tolist())}
        if class_of_node:
            coarse = class_of_node[-1]
            for cls in classes:
                node = int(nodes[cls.index])
                cls.parent = next((coarse[a] for a in tree.ancestors_or_self(node) if a in coarse), -1)
        class_of_node.append(mapping)
        part = Partitioning(tau=tau, classes=classes, unassigned=int((labels < 0).sum()), labels=labels)
        parts.append(part)
        if progress:
            progress.advance()
    if progress:
        progress.finish(f"{', '.join(str(len(p)) for p in parts)} classes")
    return PartitioningSet(parts, hierarchy_matrix(parts), n_samples=len(lat))


def partition_coordinates(
    lats: Any,
    lons: Any,
    taus: Sequence[int] | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> PartitioningSet:
    """Geocode the samples with the shared offline geocoder, then :func:`build_partitionings`."""
    from geotagger.geo.geocoder import ReverseGeocoder

    addresses = ReverseGeocoder.default().lookup_many(lats, lons)
    return build_partitionings(addresses, lats, lons, taus, progress=progress, cancel=cancel)


def hierarchy_matrix(parts: Sequence[Partitioning]) -> np.ndarray:
    """M[c, l] = ancestor of finest class c in partitioning l (last column is c itself; -1 = none)."""
    n_fine = len(parts[-1].classes)
    m = np.full((n_fine, len(parts)), -1, np.int64)
    m[:, -1] = np.arange(n_fine)
    for level in range(len(parts) - 1, 0, -1):
        parent = np.array([c.parent for c in parts[level].classes] + [-1], np.int64)
        cur = m[:, level]
        m[:, level - 1] = np.where(cur >= 0, parent[np.where(cur >= 0, cur, -1)], -1)
    return m
