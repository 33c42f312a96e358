"""Building a photo's fusion pool: time neighbours, look-alikes, home places and class predictions,
each described by the features the fusion model scores (features.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from geotagger.locate.candidate import SOURCE_LIBRARY, SOURCE_TIME
from geotagger.locate.fusion.features import (
    HOME_CANDIDATES,
    K_SUPPORT,
    K_VISUAL,
    PRIOR_FEATURE_RADII,
    SOURCES,
    PoolItem,
    closeness,
)
from geotagger.locate.fusion.pool_features import PoolFeatures
from geotagger.locate.library_model import LibraryModel
from geotagger.locate.text_evidence.pool import PhotoMatches, add_text_items, text_support
from geotagger.locate.time_evidence import (
    SCOPES,
    PhotoPoint,
    TimeIndex,
    TimeNeighbour,
    effective_gap_s,
    evidence_line,
    haversine_km,
    interpolate,
    prior_scope,
    same_clock,
)
from geotagger.locate.time_priors import ceiling, prior


class EvidenceContext(PoolFeatures):
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
        self._known_arrays = (
            np.array([p.lat for p in self.known.values()], dtype=float),
            np.array([p.lon for p in self.known.values()], dtype=float),
            np.array(list(self.known), dtype=int),
        )
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
        text: PhotoMatches | None = None,
    ) -> list[PoolItem]:
        """All candidate places for one photo; ``exclude_self`` for leave-one-out on known photos;
        ``text``: the place names read on it (text_evidence), judged against the other geotagged photos."""
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
        if text is not None:
            klat, klon, kids = self._known_arrays
            keep = kids != exclude
            add_text_items(items, text, klat[keep], klon[keep])
        pool = list(items.values())
        self._support_features(pool, neighbours, vis_rows, vis_sims, query)
        self._density_features(pool, query, exclude)
        if probs is not None:
            self._class_features(pool, probs)
        if SOURCE_LIBRARY in sources and self.library is not None and emb is not None:
            self._pair_similarity(pool, emb)
        self._interactions(pool, neighbours, query)
        in_scope = [n.gap_s for n in neighbours if n.in_folder]
        text_support(pool, 1.0 - (float(closeness(min(in_scope))[3]) if in_scope else 0.0))
        self._library_evidence(pool, vis_rows, vis_sims, items.get("class"))
        return pool

    def nearest_gap(self, query: PhotoPoint, exclude_self: bool = False) -> float | None:
        """Gap (s) to the nearest geotagged photo of the same device or folder; None when there is none."""
        gaps = [
            n.gap_s
            for n in self.time.neighbours(query, per_side=1, exclude_id=query.id if exclude_self else None)
            if n.in_folder
        ]
        return min(gaps) if gaps else None

    # -- sources -------------------------------------------------------------------------------

    @staticmethod
    def _time_feats(
        query: PhotoPoint, n: TimeNeighbour
    ) -> tuple[dict[str, float], tuple[np.ndarray, np.ndarray | None]]:
        """Features of a time neighbour, and its measured prior P(within r) and ceiling for its gap, scope
        and clock.

        Closeness is measured on the gap widened by the clock corrections' uncertainty; the scope and
        whether both clocks are known are features of their own, so each library learns what they are worth.
        """
        gap = effective_gap_s(query, n)
        close = closeness(gap)
        prefix = "close_" if n.in_folder else "close_other_"
        feats = {f"{prefix}{i}": float(c) for i, c in enumerate(close)}
        for scope in SCOPES:
            feats[f"scope_{scope}"] = float(n.scope == scope)
        feats["clock_unknown"] = float(not same_clock(query, n))
        feats["camera_conflict"] = float(
            bool(query.device and n.point.device and query.device != n.point.device)
        )
        scope = prior_scope(query, n)
        rates, _ = prior(scope, gap)
        for r, rate in zip(PRIOR_FEATURE_RADII, rates, strict=False):
            feats[f"tprior{r:g}"] = float(rate)
        return feats, (rates, ceiling(scope, gap))

    def _add_time_items(
        self, query: PhotoPoint, neighbours: list[TimeNeighbour], items: dict[Any, PoolItem]
    ) -> None:
        best: dict[str, TimeNeighbour] = {}
        for n in neighbours:
            p = n.point
            assert p.lat is not None and p.lon is not None
            feats, (rates, cap) = self._time_feats(query, n)
            items[p.id] = PoolItem(
                p.lat,
                p.lon,
                SOURCE_TIME,
                feats,
                {
                    "neighbour": p.path,
                    "neighbour_id": p.id,
                    "gap_s": round(n.gap_s, 1),
                    "direction": n.direction,
                    "scope": n.scope,
                    "text": evidence_line(n),
                },
                prior=rates,
                ceiling=cap,
            )
            # The closest neighbour on each side in the most specific scope brackets the query.
            if n.rank == 0 and (
                n.direction not in best or _scope_order(n.scope) < _scope_order(best[n.direction].scope)
            ):
                best[n.direction] = n
        in_scope = [(n.gap_s, n.point.id) for n in neighbours if n.in_folder]
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
                feats, (rates, cap) = self._time_feats(query, nearer)
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
                        "scope": nearer.scope,
                        "before": b.point.path,
                        "before_id": b.point.id,
                        "after": a.point.path,
                        "after_id": a.point.id,
                        "interpolated": True,
                        "text": f"between {_name(b.point.path)} and {_name(a.point.path)} "
                        f"({apart:.1f} km apart); {evidence_line(nearer)}",
                    },
                    prior=rates,
                    ceiling=cap,
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

    def _row_folder(self, row: int) -> str | None:
        point = self.library_points[row]
        return point.folder if point is not None else None


def _scope_order(scope: str) -> int:
    return SCOPES.index(scope) if scope in SCOPES else len(SCOPES)


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
