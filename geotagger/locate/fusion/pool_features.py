"""The features of a pool's places that depend on the whole pool: agreement with the visual and time
neighbours, folder density, class probabilities, pair similarity, weak-time interactions; and the
evidence every library candidate carries. Mixed into EvidenceContext (evidence.py)."""

from __future__ import annotations

import numpy as np

from geotagger.locate.candidate import SOURCE_LIBRARY
from geotagger.locate.fusion.features import (
    K_VISUAL,
    SUPPORT_TEMPERATURE,
    WEAK_INTERACTIONS,
    PoolItem,
    closeness,
)
from geotagger.locate.library_model import LibraryModel, normalise
from geotagger.locate.time_evidence import PhotoPoint, TimeNeighbour, haversine_km


class PoolFeatures:
    """Feature computations over a pool; EvidenceContext provides the library and the known photos."""

    library: LibraryModel | None
    library_points: list[PhotoPoint | None]
    _folder_coords: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]

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
        in_scope = [n.gap_s for n in neighbours if n.in_folder]
        strength = float(closeness(min(in_scope))[3]) if in_scope else 0.0  # 1-day scale
        weak = 1.0 - strength
        for it in pool:
            for name in WEAK_INTERACTIONS:
                it.feats[f"weak_x_{name}"] = weak * it.feats.get(name, 0.0)
            it.feats["weak_x_close"] = weak * it.feats.get("close_5", 0.0)

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
        in_scope = [n for n in neighbours if n.in_folder]
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
