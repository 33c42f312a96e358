"""Adaptive S2-cell partitioning: the baseline of Müller-Budack et al. (ECCV 2018) that SemP is compared to.

Starting from the six cube faces, a cell holding more than ``tau_max`` samples is split into its four
children (down to ``max_level``); a final cell with fewer than ``tau_min`` samples is dropped and its
samples are reported as unassigned. The class coordinate is the mean of the cell's samples (on unit
vectors), like SemP, so the two partitionings are compared with the same prediction rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import s2sphere

from geotagger.geo.semp import Partitioning, PartitioningSet, PlaceClass, _mean_coordinate, hierarchy_matrix
from geotagger.progress import CancelToken

_MAX_S2_LEVEL = 30
# The ECCV'18 paper's three partitionings (tau_max, tau_min), coarse to fine, for MP-16 (4.7M photos).
ECCV18_LEVELS: tuple[tuple[int, int], ...] = ((5000, 1000), (2000, 500), (1000, 50))


def leaf_cell_ids(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """S2 leaf cell id (uint64) of every point."""
    out = np.empty(len(lats), np.uint64)
    for i, (la, lo) in enumerate(zip(lats.tolist(), lons.tolist(), strict=True)):
        out[i] = s2sphere.CellId.from_lat_lng(s2sphere.LatLng.from_degrees(la, lo)).id()
    return out


def parent_ids(leaf: np.ndarray, level: int) -> np.ndarray:
    """Ancestor cell ids at ``level`` of leaf cell ids (bit arithmetic of the S2 Hilbert encoding)."""
    lsb = np.uint64(1) << np.uint64(2 * (_MAX_S2_LEVEL - level))
    return (leaf & ~((lsb << np.uint64(1)) - np.uint64(1))) | lsb


def build_s2_partitioning(
    lats: Any,
    lons: Any,
    tau_max: int,
    tau_min: int,
    max_level: int = 20,
    cancel: CancelToken | None = None,
) -> Partitioning:
    """Adaptive S2 classes for the samples; ``labels`` of the result maps samples to classes."""
    if tau_min < 1 or tau_max < tau_min:
        raise ValueError("need 1 <= tau_min <= tau_max")
    lat = np.asarray(lats, np.float64).reshape(-1)
    lon = np.asarray(lons, np.float64).reshape(-1)
    leaf = leaf_cell_ids(lat, lon)
    final: list[tuple[int, int, np.ndarray]] = []  # (cell id, level, member indices)
    work: list[tuple[int, np.ndarray]] = [(0, np.arange(len(lat)))]
    while work:
        if cancel:
            cancel.check()
        level, members = work.pop()
        cells = parent_ids(leaf[members], level)
        uniq, inverse = np.unique(cells, return_inverse=True)
        for k, cell in enumerate(uniq.tolist()):
            sub = members[inverse == k]
            if len(sub) > tau_max and level < max_level:
                work.append((level + 1, sub))
            elif len(sub) >= tau_min:
                final.append((int(cell), level, sub))
    final.sort(key=lambda t: t[0])
    labels = np.full(len(lat), -1, np.int64)
    classes = []
    for c, (cell, level, sub) in enumerate(final):
        labels[sub] = c
        token = s2sphere.CellId(cell).to_token()
        mlat, mlon = _mean_coordinate(lat[sub], lon[sub])
        classes.append(
            PlaceClass(
                index=c,
                id=f"s2:{token}",
                name_path=[f"S2 cell {token}"],
                level=f"s2-{level}",
                lat=round(mlat, 6),
                lon=round(mlon, 6),
                count=len(sub),
                outline_id=f"s2:{token}",
            )
        )
    return Partitioning(
        tau=tau_min,
        classes=classes,
        unassigned=int((labels < 0).sum()),
        kind="s2",
        params={"tau_max": tau_max, "tau_min": tau_min, "max_level": max_level},
        labels=labels,
    )


def build_s2_partitionings(
    lats: Any,
    lons: Any,
    levels: Sequence[tuple[int, int]] = ECCV18_LEVELS,
    max_level: int = 20,
    cancel: CancelToken | None = None,
) -> PartitioningSet:
    """Several S2 partitionings (coarse to fine by tau_max) linked like SemP's, so the same
    hierarchical prediction and evaluation compare the two partitioning schemes on the same data.

    Cells come from one quad tree, so a finer cell lies inside at most one coarser cell: its parent.
    """
    ordered = sorted(levels, key=lambda lv: (-lv[0], -lv[1]))
    parts = [build_s2_partitioning(lats, lons, tmax, tmin, max_level, cancel) for tmax, tmin in ordered]
    for coarse, fine in zip(parts, parts[1:], strict=False):
        index = {c.id: c.index for c in coarse.classes}
        for cls in fine.classes:
            cell = s2sphere.CellId.from_token(cls.id.removeprefix("s2:"))
            for level in range(cell.level(), -1, -1):
                hit = index.get(f"s2:{cell.parent(level).to_token()}")
                if hit is not None:
                    cls.parent = hit
                    break
    n = len(np.asarray(lats).reshape(-1))
    return PartitioningSet(parts, hierarchy_matrix(parts), n_samples=n)


def cell_outline(token: str) -> list[tuple[float, float]]:
    """The four (lat, lon) corners of a cell, for drawing it on a map."""
    cell = s2sphere.Cell(s2sphere.CellId.from_token(token.removeprefix("s2:")))
    corners = []
    for k in range(4):
        ll = s2sphere.LatLng.from_point(cell.get_vertex(k))
        corners.append((ll.lat().degrees, ll.lng().degrees))
    return corners
