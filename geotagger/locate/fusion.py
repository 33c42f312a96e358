"""Fusion: every piece of evidence becomes a place in one pool, scored, ranked and calibrated.

For a photo to locate, the pool holds its time neighbours (and an interpolation between them), its most
similar geotagged photos and the top classes of the library heads. Each place gets features (time gap,
scope, visual similarity, how much other evidence agrees with it) and a logistic model per radius
(1/25/200/750/2500 km) estimates P(truth within the radius). The model is trained on the library's own
geotagged photos, each located from the others (leave-one-out), so it learns how much each source is worth
in *this* library; out-of-fold scores calibrate the confidences (calibration.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geotagger.locate.calibration import RADII_KM, Calibrator, choose_level
from geotagger.locate.candidate import SOURCE_LIBRARY, SOURCE_TIME, Candidate
from geotagger.locate.library_model import LibraryModel, normalise
from geotagger.locate.time_evidence import (
    PhotoPoint,
    TimeIndex,
    TimeNeighbour,
    evidence_line,
    haversine_km,
    interpolate,
)

SOURCES = (SOURCE_TIME, SOURCE_LIBRARY)
K_VISUAL = 5  # visual neighbours that become candidates
K_SUPPORT = 20  # visual neighbours that vote for places
SUPPORT_TEMPERATURE = 0.05
MAX_CANDIDATES = 5
MERGE_KM = 1.0  # a lower-ranked place this close to a better one adds nothing new
MBR_RANKING = True  # see FusionModel.rank
MIN_TRAINING_POOLS = 10  # fewer known photos with evidence: FusionModel.untrained

# Time scales (seconds) at which closeness in capture time is measured: exp(-gap / tau).
TAUS_S = (600.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0)

# Features and whether their weight is held non-negative (more of it can never make a place less likely),
# which keeps the model sensible where training data is thin.
FEATURE_SIGNS: dict[str, bool] = {
    "bias": False,
    **{f"close_{i}": True for i in range(len(TAUS_S))},
    **{f"close_other_{i}": True for i in range(len(TAUS_S))},
    "nearest": True,
    "rel_lgap": False,
    "scope_camera": True,
    "camera_conflict": False,
    "is_interp": False,
    "bracket_lkm": False,
    "interp_lkm": False,
    "tsup1": True,
    "tsup25": True,
    "tsup200": True,
    "sim": True,
    "sim_rank0": True,
    "psim": True,
    "psim_best": True,
    "psim_lead": True,
    "vis_same_folder": True,
    "vsup1": True,
    "vsup25": True,
    "vsup200": True,
    "dens1": True,
    "dens25": True,
    "dens200": True,
    "is_home": False,
    "weak_x_psim": True,
    "weak_x_vsup25": True,
    "weak_x_vsup200": True,
    "weak_x_dens25": True,
    "weak_x_dens200": True,
    "weak_x_close": True,
    "class_p": True,
    "is_class": False,
    "global_p": True,
    "is_global": False,
    "no_time": False,
}
# Interactions: visual and prior evidence should count more when time evidence is weak.
WEAK_INTERACTIONS = ("psim", "vsup25", "vsup200", "dens25", "dens200")
HOME_CANDIDATES = 2
FEATURES = tuple(FEATURE_SIGNS)


def closeness(gap_s: float) -> np.ndarray:
    """exp(-gap / tau) for every time scale: 1 for the same moment, 0 for far apart."""
    return np.exp(-abs(gap_s) / np.asarray(TAUS_S))


@dataclass
class PoolItem:
    lat: float
    lon: float
    source: str
    feats: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)

    def vector(self) -> np.ndarray:
        return np.array([self.feats.get(name, 0.0) for name in FEATURES], dtype=np.float64)


class EvidenceContext:
    """The library's geotagged photos, indexed by time and (optionally) by image embedding."""

    def __init__(self, known: Sequence[PhotoPoint], library: LibraryModel | None = None) -> None:
        self.known = {p.id: p for p in known if p.lat is not None and p.lon is not None}
        self.time = TimeIndex(list(self.known.values()))
        self.library = library if library is not None and library.size else None
        self.library_points: list[PhotoPoint | None] = []
        self._folder_rows: dict[str, np.ndarray] = {}
        by_folder_known: dict[str, list[PhotoPoint]] = {}
        for p in self.known.values():
            by_folder_known.setdefault(p.folder, []).append(p)
        self._folder_coords = {
            folder: (
                np.array([p.lat for p in pts], dtype=float),
                np.array([p.lon for p in pts], dtype=float),
                np.array([p.id for p in pts], dtype=int),
            )
            for folder, pts in by_folder_known.items()
        }
        if self.library is not None:
            self.library_points = [self.known.get(int(i)) for i in self.library.ids]
            by_folder: dict[str, list[int]] = {}
            for row, point in enumerate(self.library_points):
                if point is not None:
                    by_folder.setdefault(point.folder, []).append(row)
            self._folder_rows = {k: np.asarray(v) for k, v in by_folder.items()}

    def pool(
        self,
        query: PhotoPoint,
        emb: np.ndarray | None,
        *,
        exclude_self: bool = False,
        sources: Sequence[str] = SOURCES,
        class_probs: list[np.ndarray] | None = None,
        global_classes: Sequence[tuple[str, Sequence[Any]]] = (),
    ) -> list[PoolItem]:
        """All candidate places for one photo; ``exclude_self`` for leave-one-out on known photos."""
        exclude = query.id if exclude_self else None
        items: dict[Any, PoolItem] = {}
        neighbours: list[TimeNeighbour] = []
        if SOURCE_TIME in sources:
            neighbours = self.time.neighbours(query, per_side=2, exclude_id=exclude)
            self._add_time_items(query, neighbours, items)
        vis_rows = np.zeros(0, dtype=int)
        vis_sims = np.zeros(0, dtype=np.float32)
        if SOURCE_LIBRARY in sources and self.library is not None and emb is not None:
            vis_rows, vis_sims = self._visual_rows(query, emb, exclude)
            self._add_visual_items(query, vis_rows, vis_sims, items)
        probs = None
        if SOURCE_LIBRARY in sources and self.library is not None and self.library.has_heads:
            probs = (
                class_probs
                if class_probs is not None
                else (self.library.class_probs(emb) if emb is not None else None)
            )
            if probs is not None:
                self._add_class_item(probs, items)
        if SOURCE_LIBRARY in sources:
            self._add_home_items(query, exclude, items)
        for source, ranked in global_classes:
            self._add_global_items(source, ranked, items)
        pool = list(items.values())
        self._support_features(pool, neighbours, vis_rows, vis_sims, query)
        self._density_features(pool, query, exclude)
        if probs is not None:
            self._class_features(pool, probs)
        if SOURCE_LIBRARY in sources and self.library is not None and emb is not None:
            self._pair_similarity(pool, emb)
        self._interactions(pool, neighbours, query)
        self._library_evidence(pool, vis_rows, vis_sims, items.get("class"))
        return pool

    def _library_evidence(
        self, pool: list[PoolItem], rows: np.ndarray, sims: np.ndarray, class_item: PoolItem | None
    ) -> None:
        """Every library candidate explains itself with the heads' top classes and the most similar photos."""
        if self.library is None:
            return
        order = np.argsort(-sims, kind="stable")[:K_VISUAL] if len(rows) else []
        similar = [
            [
                p.path
                if (p := self.library_points[rows[k]]) is not None
                else str(int(self.library.ids[rows[k]])),
                round(float(sims[k]), 3),
            ]
            for k in order
        ]
        classes = class_item.evidence.get("class_probs") if class_item is not None else None
        for it in pool:
            if it.source != SOURCE_LIBRARY:
                continue
            if similar:
                it.evidence.setdefault("neighbours", similar)
            if classes:
                it.evidence.setdefault("class_probs", classes)

    def nearest_gap(self, query: PhotoPoint, exclude_self: bool = False) -> float | None:
        """Gap (s) to the nearest geotagged photo of the same camera or folder; None when there is none."""
        gaps = [
            n.gap_s
            for n in self.time.neighbours(query, per_side=1, exclude_id=query.id if exclude_self else None)
            if n.scope == "camera" or n.point.folder == query.folder
        ]
        return min(gaps) if gaps else None

    # -- sources -------------------------------------------------------------------------------

    @staticmethod
    def _time_feats(query: PhotoPoint, n: TimeNeighbour) -> dict[str, float]:
        p = n.point
        in_scope = (
            n.scope == "camera" or p.folder == query.folder or bool(query.camera and p.camera == query.camera)
        )
        close = closeness(n.gap_s)
        prefix = "close_" if in_scope else "close_other_"
        feats = {f"{prefix}{i}": float(c) for i, c in enumerate(close)}
        feats["scope_camera"] = float(n.scope == "camera")
        feats["camera_conflict"] = float(bool(query.camera and p.camera and query.camera != p.camera))
        return feats

    def _add_time_items(
        self, query: PhotoPoint, neighbours: list[TimeNeighbour], items: dict[Any, PoolItem]
    ) -> None:
        best: dict[str, TimeNeighbour] = {}
        for n in neighbours:
            p = n.point
            assert p.lat is not None and p.lon is not None
            items[p.id] = PoolItem(
                p.lat,
                p.lon,
                SOURCE_TIME,
                self._time_feats(query, n),
                {
                    "neighbour": p.path,
                    "neighbour_id": p.id,
                    "gap_s": round(n.gap_s, 1),
                    "direction": n.direction,
                    "scope": n.scope,
                    "text": evidence_line(n),
                },
            )
            # The closest neighbour on each side in the most specific scope brackets the query.
            if n.rank == 0 and (
                n.direction not in best or _scope_order(n.scope) < _scope_order(best[n.direction].scope)
            ):
                best[n.direction] = n
        in_scope = [
            (n.gap_s, n.point.id) for n in neighbours if n.scope == "camera" or n.point.folder == query.folder
        ]
        if in_scope:
            min_gap, nearest_id = min(in_scope)
            for n in neighbours:
                item = items[n.point.id]
                item.feats["nearest"] = float(n.point.id == nearest_id)
                item.feats["rel_lgap"] = math.log1p(n.gap_s / 60.0) - math.log1p(min_gap / 60.0)
        if "before" in best and "after" in best:
            b, a = best["before"], best["after"]
            bracket_km = float(haversine_km(b.point.lat, b.point.lon, a.point.lat, a.point.lon))
            for item in items.values():
                item.feats["bracket_lkm"] = math.log1p(bracket_km)
            point = interpolate(query, b, a)
            if point is not None:
                lat, lon, apart = point
                nearer = b if b.gap_s <= a.gap_s else a
                feats = self._time_feats(query, nearer)
                feats.update(
                    {"is_interp": 1.0, "bracket_lkm": math.log1p(bracket_km), "interp_lkm": math.log1p(apart)}
                )
                items["interp"] = PoolItem(
                    lat,
                    lon,
                    SOURCE_TIME,
                    feats,
                    {
                        "neighbour": nearer.point.path,
                        "neighbour_id": nearer.point.id,
                        "gap_s": round(nearer.gap_s, 1),
                        "direction": nearer.direction,
                        "before": b.point.path,
                        "before_id": b.point.id,
                        "after": a.point.path,
                        "after_id": a.point.id,
                        "interpolated": True,
                        "text": f"between {_name(b.point.path)} and {_name(a.point.path)} "
                        f"({apart:.1f} km apart); {evidence_line(nearer)}",
                    },
                )

    def _visual_rows(
        self, query: PhotoPoint, emb: np.ndarray, exclude: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The most similar geotagged photos overall plus the most similar in the query's folder."""
        assert self.library is not None
        rows, sims = self.library.neighbours(emb, K_SUPPORT, exclude_id=exclude)
        folder_rows = self._folder_rows.get(query.folder)
        if folder_rows is not None:
            frows, fsims = self.library.neighbours(emb, K_VISUAL, exclude_id=exclude, rows=folder_rows)
            extra = [k for k, r in enumerate(frows) if r not in set(rows.tolist())]
            rows = np.concatenate([rows, frows[extra]])
            sims = np.concatenate([sims, fsims[extra]])
        return rows, sims

    def _add_visual_items(
        self, query: PhotoPoint, rows: np.ndarray, sims: np.ndarray, items: dict[Any, PoolItem]
    ) -> None:
        assert self.library is not None
        if len(rows) == 0:
            return
        order = np.argsort(-sims, kind="stable")
        best_overall = set(order[:K_VISUAL].tolist())
        in_folder = [k for k in order if self._row_folder(rows[k]) == query.folder][:K_VISUAL]
        for rank_pos, k in enumerate(order):
            if k not in best_overall and k not in in_folder:
                continue
            row, sim = rows[k], float(sims[k])
            pid = int(self.library.ids[row])
            same_folder = self._row_folder(row) == query.folder
            feats = {"sim": sim, "sim_rank0": float(rank_pos == 0), "vis_same_folder": float(same_folder)}
            if pid in items:
                items[pid].feats.update(feats)
                items[pid].evidence.setdefault("similarity", round(sim, 3))
                continue
            point = self.library_points[row]
            path = point.path if point is not None else str(pid)
            items[pid] = PoolItem(
                float(self.library.lat[row]),
                float(self.library.lon[row]),
                SOURCE_LIBRARY,
                feats,
                {"neighbours": [[path, round(sim, 3)]], "neighbour_id": pid},
            )

    def _pair_similarity(self, pool: list[PoolItem], emb: np.ndarray) -> None:
        """How much the query looks like each place's own photo(s), and whether it is the best match."""
        assert self.library is not None
        q = normalise(emb).reshape(-1)
        sims = []
        for it in pool:
            ids = [it.evidence.get(k) for k in ("neighbour_id", "before_id", "after_id")]
            rows = [r for r in (self.library.row_of(i) for i in ids if i is not None) if r is not None]
            sim = float(max(self.library.emb[rows] @ q)) if rows else 0.0
            it.feats["psim"] = sim
            sims.append(sim)
        ordered = sorted(sims, reverse=True)
        runner_up = ordered[1] if len(ordered) > 1 else 0.0
        for it, sim in zip(pool, sims, strict=True):
            it.feats["psim_best"] = float(sim == ordered[0] and sim > 0)
            it.feats["psim_lead"] = max(0.0, sim - runner_up) if sim == ordered[0] else 0.0

    def _folder_known(self, folder: str, exclude: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lat, lon, ids = self._folder_coords.get(folder, (np.zeros(0), np.zeros(0), np.zeros(0, dtype=int)))
        if exclude is not None and len(ids):
            keep = ids != exclude
            return lat[keep], lon[keep], ids[keep]
        return lat, lon, ids

    def _add_home_items(self, query: PhotoPoint, exclude: int | None, items: dict[Any, PoolItem]) -> None:
        """The places where most of the folder's geotagged photos were taken (a prior, e.g. home)."""
        lat, lon, ids = self._folder_known(query.folder, exclude)
        if len(ids) < 3:
            return
        d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        count = (d <= 25.0).sum(axis=1)
        chosen: list[int] = []
        for k in np.argsort(-count, kind="stable"):
            if all(d[k, c] > 25.0 for c in chosen):
                chosen.append(int(k))
            if len(chosen) == HOME_CANDIDATES:
                break
        for k in chosen:
            pid = int(ids[k])
            share = float(count[k]) / len(ids)
            if pid in items:
                items[pid].feats["is_home"] = 1.0
                continue
            point = self.known[pid]
            items[pid] = PoolItem(
                float(lat[k]),
                float(lon[k]),
                SOURCE_LIBRARY,
                {"is_home": 1.0},
                {
                    "neighbour": point.path,
                    "neighbour_id": pid,
                    "text": f"{share:.0%} of the geotagged photos in this folder were taken within 25 km",
                },
            )

    def _density_features(self, pool: list[PoolItem], query: PhotoPoint, exclude: int | None) -> None:
        lat, lon, ids = self._folder_known(query.folder, exclude)
        if not pool or len(ids) == 0:
            return
        plat = np.array([it.lat for it in pool])
        plon = np.array([it.lon for it in pool])
        d = haversine_km(plat[:, None], plon[:, None], lat[None, :], lon[None, :])
        for r, name in ((1.0, "dens1"), (25.0, "dens25"), (200.0, "dens200")):
            vals = (d <= r).mean(axis=1)
            for it, v in zip(pool, vals, strict=True):
                it.feats[name] = float(v)

    @staticmethod
    def _interactions(pool: list[PoolItem], neighbours: list[TimeNeighbour], query: PhotoPoint) -> None:
        in_scope = [n.gap_s for n in neighbours if n.scope == "camera" or n.point.folder == query.folder]
        strength = float(closeness(min(in_scope))[3]) if in_scope else 0.0  # 1-day scale
        weak = 1.0 - strength
        for it in pool:
            for name in WEAK_INTERACTIONS:
                it.feats[f"weak_x_{name}"] = weak * it.feats.get(name, 0.0)
            it.feats["weak_x_close"] = weak * it.feats.get("close_5", 0.0)

    def _add_class_item(self, probs: list[np.ndarray], items: dict[Any, PoolItem]) -> None:
        """The paper's prediction: the finest class with the best product of level probabilities."""
        assert self.library is not None and self.library.hierarchy is not None
        m = self.library.hierarchy
        score = np.ones(m.shape[0])
        for level, p in enumerate(probs):
            anc = m[:, level]
            score *= np.where(anc >= 0, p[np.maximum(anc, 0)], 1.0)
        best = int(np.argmax(score))
        finest = self.library.levels[-1]
        top = [
            [self.library.levels[-1].class_names[c], round(float(score[c]), 4)]
            for c in np.argsort(-score)[:5]
            if score[c] > 0
        ]
        items["class"] = PoolItem(
            float(finest.class_lat[best]),
            float(finest.class_lon[best]),
            SOURCE_LIBRARY,
            {"is_class": 1.0},
            {"class_probs": top, "class": finest.class_names[best]},
        )

    @staticmethod
    def _add_global_items(source: str, ranked: Sequence[Any], items: dict[Any, PoolItem]) -> None:
        """Places from a global model (geo.hierarchy.RankedClass), scored by their share of the top."""
        total = sum(float(c.score) for c in ranked) or 1.0
        top = [[c.display, round(float(c.score), 4)] for c in ranked]
        for k, c in enumerate(ranked):
            items[(source, k)] = PoolItem(
                float(c.lat),
                float(c.lon),
                source,
                {"is_global": 1.0, "global_p": float(c.score) / total},
                {"class_probs": top, "class": c.display, "model": source},
            )

    def _class_features(self, pool: list[PoolItem], probs: list[np.ndarray]) -> None:
        """How likely the library heads find each place: mean over levels of its class probability."""
        assert self.library is not None
        levels = self.library.levels
        for it in pool:
            row = None
            pid = it.evidence.get("neighbour_id")
            if pid is not None:
                row = self.library.row_of(pid)
            if row is not None and self.library.labels is not None:
                labels = self.library.labels[row]
            else:
                labels = np.array([lv.nearest_class(it.lat, it.lon) for lv in levels])
            vals = [float(p[c]) if c >= 0 else 0.0 for p, c in zip(probs, labels, strict=True)]
            it.feats["class_p"] = float(np.mean(vals)) if vals else 0.0

    def _row_folder(self, row: int) -> str | None:
        point = self.library_points[row]
        return point.folder if point is not None else None

    def _support_features(
        self,
        pool: list[PoolItem],
        neighbours: list[TimeNeighbour],
        vis_rows: np.ndarray,
        vis_sims: np.ndarray,
        query: PhotoPoint,
    ) -> None:
        if not pool:
            return
        lat = np.array([it.lat for it in pool])
        lon = np.array([it.lon for it in pool])
        if len(vis_rows):
            assert self.library is not None
            w = np.exp((vis_sims - vis_sims.max()) / SUPPORT_TEMPERATURE)
            w = w / w.sum()
            d = haversine_km(
                lat[:, None],
                lon[:, None],
                self.library.lat[vis_rows][None, :],
                self.library.lon[vis_rows][None, :],
            )
            for r, name in ((1.0, "vsup1"), (25.0, "vsup25"), (200.0, "vsup200")):
                vals = (d <= r) @ w
                for it, v in zip(pool, vals, strict=True):
                    it.feats[name] = float(v)
        in_scope = [n for n in neighbours if n.scope == "camera" or n.point.folder == query.folder]
        if in_scope:
            # How close in time the nearest in-scope time neighbour lying within r of this place is.
            nlat = np.array([n.point.lat for n in in_scope])
            nlon = np.array([n.point.lon for n in in_scope])
            score = np.array([closeness(n.gap_s).mean() for n in in_scope])
            d = haversine_km(lat[:, None], lon[:, None], nlat[None, :], nlon[None, :])
            for r, name in ((1.0, "tsup1"), (25.0, "tsup25"), (200.0, "tsup200")):
                vals = np.where(d <= r, score[None, :], 0.0).max(axis=1)
                for it, v in zip(pool, vals, strict=True):
                    it.feats[name] = float(v)
        for it in pool:
            it.feats["bias"] = 1.0
            it.feats["no_time"] = float(not query.has_time)


# P(within 1/25/200/750/2500 km) of a same-folder/camera time neighbour by gap, for libraries too small
# to calibrate; a little below what the nearest neighbour in time achieved on library-dev per gap bin
# (94/85/73/49/25/11% within 1 km for <10 min/<1 h/<6 h/<1 d/<7 d/more).
PRIOR_BY_GAP: tuple[tuple[float, tuple[float, ...]], ...] = (
    (600.0, (0.90, 0.95, 0.95, 0.97, 0.98)),
    (3600.0, (0.80, 0.93, 0.95, 0.96, 0.97)),
    (6 * 3600.0, (0.65, 0.90, 0.95, 0.96, 0.97)),
    (86400.0, (0.45, 0.75, 0.85, 0.90, 0.95)),
    (7 * 86400.0, (0.20, 0.45, 0.70, 0.85, 0.90)),
    (math.inf, (0.10, 0.20, 0.40, 0.65, 0.80)),
)
PRIOR_OTHER = (0.05, 0.15, 0.30, 0.45, 0.70)  # a look-alike or a neighbour from another folder


def _prior_probs(item: PoolItem) -> np.ndarray:
    in_scope = any(k.startswith("close_") and not k.startswith("close_other_") for k in item.feats)
    gap = item.evidence.get("gap_s")
    if item.source == SOURCE_TIME and in_scope and gap is not None:
        for limit, probs in PRIOR_BY_GAP:
            if float(gap) <= limit:
                return np.array(probs)
    return np.array(PRIOR_OTHER)


def rule_choice(pool: Sequence[PoolItem]) -> tuple[int, float] | None:
    """The classic time rule's pick (interpolation between close bracketing neighbours, else the nearest
    geotagged photo of the same camera or folder) and its time gap; None without such a neighbour."""
    nearest = None
    for i, it in enumerate(pool):
        if it.feats.get("is_interp"):
            return i, float(it.evidence.get("gap_s", 0.0))
        if it.feats.get("nearest"):
            nearest = (i, float(it.evidence.get("gap_s", 0.0)))
    return nearest


def _scope_order(scope: str) -> int:
    return {"camera": 0, "folder": 1, "library": 2}.get(scope, 3)


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


# -- the model ---------------------------------------------------------------------------------------


def _projected_newton(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    lower: np.ndarray,
    upper: np.ndarray,
    iterations: int = 50,
) -> np.ndarray:
    """Minimise a smooth function under box bounds by Newton steps on the free variables (those not
    held at a bound by their gradient) with a backtracking line search. ``objective`` returns
    (value, gradient, positive-definite curvature matrix)."""
    w = np.clip(np.zeros(len(lower)), lower, upper)
    value, grad, hess = objective(w)
    for _ in range(iterations):
        at_low = (w <= lower) & (grad > 0)
        at_high = (w >= upper) & (grad < 0)
        free = ~(at_low | at_high | (lower == upper))
        if not free.any():
            break
        step = np.zeros_like(w)
        step[free] = np.linalg.solve(hess[np.ix_(free, free)], grad[free])
        t = 1.0
        while True:
            trial = np.clip(w - t * step, lower, upper)
            new_value, new_grad, new_hess = objective(trial)
            if new_value <= value - 1e-4 * float(grad @ (w - trial)) or t < 1e-6:
                break
            t *= 0.5
        moved = float(np.abs(trial - w).max())
        w, value, grad, hess = trial, new_value, new_grad, new_hess
        if moved < 1e-6:
            break
    return w


def _bounds(nonneg: np.ndarray, fix_bias: bool) -> tuple[np.ndarray, np.ndarray]:
    lower = np.where(nonneg, 0.0, -np.inf)
    upper = np.full(len(nonneg), np.inf)
    if fix_bias:
        lower[0] = upper[0] = 0.0
    return lower, upper


def fit_logistic(
    x: np.ndarray, y: np.ndarray, nonneg: np.ndarray, l2: float = 1.0, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """L2-regularised, weighted logistic regression with some weights held >= 0 (projected Newton)."""
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    reg = np.full(x.shape[1], l2)
    reg[0] = 1e-6  # no penalty on the bias

    def objective(w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        z = x @ w
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        value = float(np.sum(sw * (np.logaddexp(0.0, z) - y * z)) + 0.5 * np.sum(reg * w * w))
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(reg)
        return value, x.T @ (sw * (p - y)) + reg * w, hess

    return _projected_newton(objective, *_bounds(nonneg, fix_bias=False))


def fit_listwise(
    x: np.ndarray,
    y: np.ndarray,
    starts: np.ndarray,
    nonneg: np.ndarray,
    l2: float = 1.0,
    group_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Conditional logit over each photo's pool: maximise P(the chosen place is a right one).

    ``starts`` are the first rows of each pool (rows of one pool are contiguous). Pools that are all
    right or all wrong teach nothing about choosing and are dropped. The bias is meaningless here (0).
    """
    ends = np.append(starts[1:], len(x))
    gw_all = np.ones(len(starts)) if group_weight is None else np.asarray(group_weight, dtype=float)
    chosen = [g for g, (a, b) in enumerate(zip(starts, ends, strict=True)) if 0 < y[a:b].sum() < b - a]
    keep = [(starts[g], ends[g]) for g in chosen]
    if not keep:
        return np.zeros(x.shape[1])
    gw = gw_all[chosen]
    idx = np.concatenate([np.arange(a, b) for a, b in keep])
    xs, ys = x[idx], y[idx]
    lengths = np.array([b - a for a, b in keep])
    group = np.repeat(np.arange(len(keep)), lengths)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])

    def objective(w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        z = xs @ w
        zmax = np.maximum.reduceat(z, first)
        e = np.exp(z - zmax[group])
        total = np.add.reduceat(e, first)
        positive = np.add.reduceat(e * ys, first)
        value = float(np.sum(gw * (np.log(total) - np.log(positive)))) + 0.5 * l2 * float(w @ w)
        p_all = e / total[group]
        coef = gw[group] * (p_all - ys * e / positive[group])
        # Curvature of the full softmax term (positive semi-definite): sum of within-pool covariances.
        mean = np.add.reduceat(xs * p_all[:, None], first)
        centred = xs - mean[group]
        hess = (centred * (gw[group] * p_all)[:, None]).T @ centred + l2 * np.eye(len(w))
        return value, xs.T @ coef + l2 * w, hess

    return _projected_newton(objective, *_bounds(nonneg, fix_bias=True))


@dataclass
class FusionModel:
    """Per-radius logistic weights over standardised features, plus the calibration of the top choice."""

    sources: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (len(RADII_KM), len(FEATURES)): P(within r) of a place on its own
    rank_weights: np.ndarray  # (len(RADII_KM), len(FEATURES)): which place of a pool to prefer
    calibrator: Calibrator = field(default_factory=Calibrator)
    report: dict[str, Any] = field(default_factory=dict)
    gate_s: float = 0.0  # the time rule's pick goes first when its gap is at most this (learned)

    @classmethod
    def untrained(cls, sources: Sequence[str], photos: int = 0) -> FusionModel:
        """For libraries with too few geotagged photos to learn from: the time rule first, then places
        ranked by closeness in time and looks; confidences from a fixed prior on the time gap
        (PRIOR_BY_GAP), capped like every uncalibrated confidence."""
        d = len(FEATURES)
        weights = np.zeros((len(RADII_KM), d))  # raw P = sigmoid(0) = 0.5 everywhere
        rank = np.zeros((len(RADII_KM), d))
        for name, w in (("nearest", 2.0), ("psim", 1.0), ("vsup25", 1.0), ("sim_rank0", 0.5)):
            rank[:, FEATURES.index(name)] = w
        for i in range(len(TAUS_S)):
            rank[:, FEATURES.index(f"close_{i}")] = 1.0
        report = {"photos": photos, "untrained": True, "gate_s": math.inf}
        return cls(tuple(sources), np.zeros(d), np.ones(d), weights, rank, Calibrator(), report, math.inf)

    def raw_probs(self, pool: Sequence[PoolItem]) -> np.ndarray:
        if not pool:
            return np.zeros((0, len(RADII_KM)))
        if self.report.get("untrained"):
            return np.stack([_prior_probs(it) for it in pool])
        x = (np.stack([it.vector() for it in pool]) - self.mean) / self.scale
        x[:, 0] = 1.0
        return 1.0 / (1.0 + np.exp(-np.clip(x @ self.weights.T, -30, 30)))

    def rank(self, pool: Sequence[PoolItem]) -> list[tuple[PoolItem, np.ndarray]]:
        """Pool items best first, near-duplicates merged, top 5.

        The order is minimum-Bayes-risk: the listwise model gives, per radius r, a distribution over which
        place is the right one; a place's gain is the expected number of radii within which it lies of
        that place (sum over r and places j of P_r(j) [d(i, j) <= r]). Where the evidence is clear this
        is the model's favourite; where it is spread, a place that many likely places are near wins.
        """
        raw = self.raw_probs(pool)
        if not pool:
            return []
        x = (np.stack([it.vector() for it in pool]) - self.mean) / self.scale
        z = x @ self.rank_weights.T
        p = np.exp(z - z.max(axis=0))
        p /= p.sum(axis=0)
        if MBR_RANKING:
            lat = np.array([it.lat for it in pool])
            lon = np.array([it.lon for it in pool])
            d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
            gain = sum((d <= r).astype(float) @ p[:, j] for j, r in enumerate(RADII_KM))
        else:
            gain = np.log(np.maximum(p, 1e-300)).sum(axis=1)
        order = np.argsort(-gain, kind="stable")
        rule = rule_choice(pool)
        if rule is not None and rule[1] <= self.gate_s:
            order = np.concatenate([[rule[0]], order[order != rule[0]]])
        chosen: list[tuple[PoolItem, np.ndarray]] = []
        for i in order:
            item = pool[i]
            if any(float(haversine_km(item.lat, item.lon, c.lat, c.lon)) < MERGE_KM for c, _ in chosen):
                continue
            chosen.append((item, raw[i]))
            if len(chosen) == MAX_CANDIDATES:
                break
        return chosen

    def candidates(self, pool: Sequence[PoolItem]) -> list[Candidate]:
        """Ranked candidates with calibrated confidence at the finest level that is likely enough."""
        out = []
        for item, raw in self.rank(pool):
            probs = self.calibrator.apply(raw[None, :])[0]
            level, confidence = choose_level(probs)
            evidence = dict(item.evidence)
            evidence["p_within_km"] = {
                f"{r:g}": round(float(p), 3) for r, p in zip(RADII_KM, probs, strict=True)
            }
            out.append(
                Candidate(
                    lat=item.lat,
                    lon=item.lon,
                    radius_km=_radius_for(level),
                    level=level,
                    confidence=round(confidence, 4),
                    source=item.source,
                    evidence=evidence,
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": list(self.sources),
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "rank_weights": self.rank_weights.tolist(),
            "calibration": self.calibrator.to_dict(),
            "report": self.report,
            "gate_s": self.gate_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionModel:
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError("fusion model was trained with other features")
        return cls(
            tuple(data["sources"]),
            np.asarray(data["mean"]),
            np.asarray(data["scale"]),
            np.asarray(data["weights"]),
            np.asarray(data["rank_weights"]),
            Calibrator.from_dict(data.get("calibration", {})),
            dict(data.get("report", {})),
            float(data.get("gate_s", 0.0)),
        )


def _radius_for(level: str) -> float:
    from geotagger.locate.calibration import LEVEL_RADIUS_KM

    return LEVEL_RADIUS_KM[level]


def _labels(pool: Sequence[PoolItem], lat: float, lon: float) -> np.ndarray:
    d = haversine_km(np.array([it.lat for it in pool]), np.array([it.lon for it in pool]), lat, lon)
    return (d[:, None] <= np.array(RADII_KM)[None, :]).astype(float)


def _fit_weights(
    pools: Sequence[Sequence[PoolItem]],
    truths: Sequence[tuple[float, float]],
    pool_weights: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    gw = np.ones(len(pools)) if pool_weights is None else np.asarray(pool_weights, dtype=float)
    blocks = [np.stack([it.vector() for it in pool]) for pool in pools]
    x = np.concatenate(blocks)
    y = np.concatenate([_labels(pool, *t) for pool, t in zip(pools, truths, strict=True)])
    starts = np.concatenate([[0], np.cumsum([len(b) for b in blocks])[:-1]]).astype(int)
    nonneg = np.array([FEATURE_SIGNS[name] for name in FEATURES])
    mean = np.where(nonneg, 0.0, x.mean(axis=0))  # non-negative features stay anchored at 0
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    mean[0], scale[0] = 0.0, 1.0
    xs = (x - mean) / scale
    sw = np.repeat(gw, [len(b) for b in blocks])
    weights = np.stack([fit_logistic(xs, y[:, j], nonneg, sample_weight=sw) for j in range(len(RADII_KM))])
    rank_weights = np.stack(
        [fit_listwise(xs, y[:, j], starts, nonneg, group_weight=gw) for j in range(len(RADII_KM))]
    )
    return mean, scale, weights, rank_weights


def train_fusion(
    pools: Sequence[Sequence[PoolItem]],
    truths: Sequence[tuple[float, float]],
    sources: Sequence[str] = SOURCES,
    folds: int = 4,
    seed: int = 0,
    cancel_check: Callable[[], None] | None = None,
    pool_weights: Sequence[float] | None = None,
) -> FusionModel:
    """Fit the per-radius models on leave-one-out pools of known photos; calibrate on k-fold held-out ones.

    ``pool_weights`` (one per pool) correct for the known photos being located in other conditions than
    the photos to locate (see :func:`shift_weights`).
    """
    keep = [i for i, p in enumerate(pools) if p]
    if len(keep) < MIN_TRAINING_POOLS:
        return FusionModel.untrained(sources, photos=len(keep))
    pools = [pools[i] for i in keep]
    truths = [truths[i] for i in keep]
    weights_all = np.ones(len(keep)) if pool_weights is None else np.asarray(pool_weights, float)[keep]
    n = len(pools)
    folds = max(2, min(folds, n))
    assignment = np.random.default_rng(seed).permutation(n) % folds
    held_raw = np.zeros((n, len(RADII_KM)))
    held_hit = np.zeros((n, len(RADII_KM)))
    rule_cases: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}
    for f in range(folds):
        if cancel_check is not None:
            cancel_check()
        train_idx = [i for i in range(n) if assignment[i] != f]
        test_idx = [i for i in range(n) if assignment[i] == f]
        if not train_idx or not test_idx:
            continue
        fitted = _fit_weights(
            [pools[i] for i in train_idx], [truths[i] for i in train_idx], weights_all[train_idx]
        )
        model = FusionModel(tuple(sources), *fitted)
        for i in test_idx:
            ranked = model.rank(pools[i])
            item, raw = ranked[0]
            held_raw[i] = raw
            held_hit[i] = _labels([item], *truths[i])[0]
            rule = rule_choice(pools[i])
            if rule is not None:
                raw_rule = model.raw_probs([pools[i][rule[0]]])[0]
                rule_cases[i] = (rule[1], raw_rule, _labels([pools[i][rule[0]]], *truths[i])[0])
    gate_s = _learn_gate(held_hit, rule_cases, weights_all)
    for i, (gap, raw_rule, hit_rule) in rule_cases.items():
        if gap <= gate_s:
            held_raw[i], held_hit[i] = raw_rule, hit_rule
    fitted = _fit_weights(pools, truths, weights_all)
    calibrator = Calibrator.fit(held_raw, held_hit, weights_all)
    cal = calibrator.apply(held_raw)
    report = {
        "photos": n,
        "heldout_accuracy": {
            f"{r:g}": float(np.average(held_hit[:, j], weights=weights_all)) for j, r in enumerate(RADII_KM)
        },
        "heldout_brier": {
            f"{r:g}": float(np.average((cal[:, j] - held_hit[:, j]) ** 2, weights=weights_all))
            for j, r in enumerate(RADII_KM)
        },
    }
    report["gate_s"] = gate_s
    return FusionModel(tuple(sources), *fitted, calibrator, report, gate_s)


GATE_GRID_S = (0.0, 600.0, 3600.0, 6 * 3600.0, 86400.0, 3 * 86400.0, 7 * 86400.0, 30 * 86400.0, math.inf)


def _learn_gate(
    held_hit: np.ndarray, rule_cases: dict[int, tuple[float, np.ndarray, np.ndarray]], weights: np.ndarray
) -> float:
    """Up to which time gap the plain time rule beats the fused choice on held-out known photos
    (weighted sum of hits over all radii; ties go to the simpler rule)."""
    best_gate, best_score = 0.0, -math.inf
    for gate in GATE_GRID_S:
        score = 0.0
        for i in range(len(held_hit)):
            case = rule_cases.get(i)
            hits = case[2] if case is not None and case[0] <= gate else held_hit[i]
            score += weights[i] * float(hits.sum())
        if score >= best_score - 1e-9:
            best_gate, best_score = gate, score
    return best_gate


# Bins (seconds) of the gap to the nearest geotagged photo in the same folder or camera.
SHIFT_BINS_S = (600.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0)


def shift_weights(known_gaps: Sequence[float | None], target_gaps: Sequence[float | None]) -> np.ndarray:
    """Importance weights that make the known photos' leave-one-out cases look like the photos to locate.

    A known photo located from the others is usually farther in time from its nearest geotagged
    neighbour than a photo without GPS is (that neighbour is itself held out), so the model would learn to
    distrust time. Weighting each known photo by how common its gap bin is among the photos to locate
    (relative to the known ones) corrects this covariate shift; weights are clipped to [0.2, 5] and
    normalised to mean 1.
    """

    def bins(gaps: Sequence[float | None]) -> np.ndarray:
        return np.array(
            [len(SHIFT_BINS_S) + 1 if g is None else int(np.searchsorted(SHIFT_BINS_S, g)) for g in gaps]
        )

    kb, tb = bins(known_gaps), bins(target_gaps)
    if len(kb) == 0 or len(tb) == 0:
        return np.ones(len(kb))
    n_bins = len(SHIFT_BINS_S) + 2
    k_share = (np.bincount(kb, minlength=n_bins) + 0.5) / (len(kb) + 0.5 * n_bins)
    t_share = (np.bincount(tb, minlength=n_bins) + 0.5) / (len(tb) + 0.5 * n_bins)
    w = np.clip(t_share[kb] / k_share[kb], 0.2, 5.0)
    return w / w.mean()
