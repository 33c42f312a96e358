"""Metrics of the library benchmark, kept apart from the runner so that they can be tested on tiny data.

Everything here is pure: truth rows, capture times and predictions in, figures out. A figure that is a
share of queries always divides by *all* queries of the set (a query without a prediction is wrong),
as the shared scorer does, so that our top-1 equals its line exactly.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

RADII_KM = (1.0, 25.0, 200.0, 750.0, 2500.0)
LEVEL_KM = {"exact": 1.0, "city": 25.0, "region": 200.0, "country": 750.0}
BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0001)
N_FOLDS = 5

Point = tuple[float, float]


@dataclass(frozen=True)
class Photo:
    """One benchmark photo: where it was taken (truth), its library folder, role, and its file's clock."""

    file: str
    library: str
    lat: float
    lon: float
    role: str  # "known" (GPS kept) or "query"
    taken: datetime | None = None  # capture time as the file states it (camera clock), None if absent


@dataclass(frozen=True)
class Candidate:
    """A suggested place with its stated confidence and the radius of its level."""

    lat: float
    lon: float
    confidence: float
    radius_km: float


def gcd(a1: float, o1: float, a2: float, o2: float) -> float:
    """Great-circle distance in km (R = 6371 km), the same formula as the shared scorer."""
    a1, o1, a2, o2 = map(math.radians, (a1, o1, a2, o2))
    h = math.sin((a2 - a1) / 2) ** 2 + math.cos(a1) * math.cos(a2) * math.sin((o2 - o1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def fold_of(library: str) -> int:
    """Leave-photographers-out fold of a library folder (stable across runs and machines)."""
    return int(hashlib.sha1(library.encode()).hexdigest(), 16) % N_FOLDS


def level_radius(level: str, radius_km: float | None = None) -> float:
    """Radius in km within which a candidate of this level counts as right."""
    if level in LEVEL_KM:
        return LEVEL_KM[level]
    if radius_km is not None:
        return float(radius_km)
    raise ValueError(f"unknown level {level!r} and no radius")


def accuracy(queries: Sequence[Photo], points: Mapping[str, Point]) -> list[float]:
    """Percent of queries whose point is within each radius of the truth (missing point = wrong)."""
    hits = [0] * len(RADII_KM)
    for q in queries:
        p = points.get(q.file)
        if p is None:
            continue
        d = gcd(q.lat, q.lon, p[0], p[1])
        for i, r in enumerate(RADII_KM):
            hits[i] += d <= r
    n = max(len(queries), 1)
    return [100.0 * h / n for h in hits]


def top_k_recall(
    queries: Sequence[Photo], candidates: Mapping[str, Sequence[Candidate]], k: int = 5
) -> list[float]:
    """Percent of queries with the truth within each radius of any of their first k candidates."""
    hits = [0] * len(RADII_KM)
    for q in queries:
        cands = candidates.get(q.file, ())[:k]
        if not cands:
            continue
        d = min(gcd(q.lat, q.lon, c.lat, c.lon) for c in cands)
        for i, r in enumerate(RADII_KM):
            hits[i] += d <= r
    n = max(len(queries), 1)
    return [100.0 * h / n for h in hits]


def _known_by_library(photos: Iterable[Photo]) -> dict[str, list[Photo]]:
    by_lib: dict[str, list[Photo]] = {}
    for p in photos:
        if p.role == "known":
            by_lib.setdefault(p.library, []).append(p)
    return by_lib


def nearest_in_time(photos: Sequence[Photo]) -> dict[str, Point]:
    """Reference: each query takes the position of the known photo of its library closest in file time.

    Ties go to the earlier known photo, then to the file name, so the reference is deterministic.
    Queries (or libraries) without capture times get no prediction.
    """
    by_lib = _known_by_library(p for p in photos if p.taken is not None)
    out: dict[str, Point] = {}
    for q in photos:
        if q.role != "query" or q.taken is None or not by_lib.get(q.library):
            continue
        best = min(
            by_lib[q.library],
            key=lambda k: (abs((k.taken - q.taken).total_seconds()), k.taken, k.file),  # type: ignore[operator]
        )
        out[q.file] = (best.lat, best.lon)
    return out


# Edges (s) of the gap buckets: an hour, a day, three days, a week, a month.
GAP_EDGES_S = (3600.0, 86400.0, 3 * 86400.0, 7 * 86400.0, 30 * 86400.0)


def nearest_gap_s(photos: Sequence[Photo]) -> dict[str, float]:
    """Each timed query's gap (s, file clocks) to the nearest known photo of its library."""
    by_lib = _known_by_library(p for p in photos if p.taken is not None)
    out: dict[str, float] = {}
    for q in photos:
        if q.role != "query" or q.taken is None or not by_lib.get(q.library):
            continue
        out[q.file] = min(abs((k.taken - q.taken).total_seconds()) for k in by_lib[q.library])  # type: ignore[operator]
    return out


@dataclass(frozen=True)
class GapBucket:
    """Queries whose nearest known photo lies in [lo, hi) seconds, and the fused minus reference hits."""

    lo: float
    hi: float
    n: int
    hits_minus_reference: tuple[int, ...]  # per RADII_KM, in photos (not percent)


def by_gap(
    queries: Sequence[Photo],
    gaps: Mapping[str, float],
    points: Mapping[str, Point],
    reference: Mapping[str, Point],
    edges: Sequence[float] = GAP_EDGES_S,
) -> list[GapBucket]:
    """Where in time the fused choice gains or loses against nearest-in-time: per bucket of the gap to
    the nearest known photo, the difference in photos right within each radius (queries without a time
    are left out)."""
    bounds = [0.0, *edges, math.inf]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        inside = [q for q in queries if q.file in gaps and lo <= gaps[q.file] < hi]
        diff = [0] * len(RADII_KM)
        for q in inside:
            for table, sign in ((points, 1), (reference, -1)):
                p = table.get(q.file)
                if p is None:
                    continue
                d = gcd(q.lat, q.lon, p[0], p[1])
                for i, r in enumerate(RADII_KM):
                    diff[i] += sign * (d <= r)
        out.append(GapBucket(lo, hi, len(inside), tuple(diff)))
    return out


def oracle(photos: Sequence[Photo]) -> dict[str, Point]:
    """Ceiling of picking among the library's geotagged photos: the known photo nearest to the truth."""
    by_lib = _known_by_library(photos)
    out: dict[str, Point] = {}
    for q in photos:
        if q.role != "query" or not by_lib.get(q.library):
            continue
        best = min(by_lib[q.library], key=lambda k: (gcd(q.lat, q.lon, k.lat, k.lon), k.file))
        out[q.file] = (best.lat, best.lon)
    return out


def scored(queries: Sequence[Photo], best: Mapping[str, Candidate]) -> list[tuple[float, bool]]:
    """(stated confidence, right) of each query's best candidate; right = truth within its level radius."""
    out = []
    for q in queries:
        c = best.get(q.file)
        if c is not None:
            out.append((c.confidence, gcd(q.lat, q.lon, c.lat, c.lon) <= c.radius_km))
    return out


@dataclass(frozen=True)
class Bin:
    lo: float
    hi: float
    n: int
    mean_confidence: float
    share_right: float


def reliability(items: Sequence[tuple[float, bool]], bins: Sequence[float] = BINS) -> list[Bin]:
    """Reliability table: per confidence bin [lo, hi), how many, mean confidence, share right."""
    table = []
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        sel = [s for s in items if lo <= s[0] < hi]
        if sel:
            mean = sum(s[0] for s in sel) / len(sel)
            right = sum(s[1] for s in sel) / len(sel)
            table.append(Bin(lo, min(hi, 1.0), len(sel), mean, right))
    return table


def ece(items: Sequence[tuple[float, bool]], bins: Sequence[float] = BINS) -> float | None:
    """Expected calibration error: bin-size-weighted mean of |mean confidence - share right|."""
    if not items:
        return None
    return sum(b.n * abs(b.mean_confidence - b.share_right) for b in reliability(items, bins)) / len(items)


@dataclass(frozen=True)
class AtThreshold:
    threshold: float
    n: int
    precision: float | None  # percent right among those at or above the threshold (None if none)
    coverage: float  # percent of all queries at or above the threshold


def at_threshold(items: Sequence[tuple[float, bool]], threshold: float, n_queries: int) -> AtThreshold:
    """Precision and coverage of the suggestions whose confidence is at least `threshold`."""
    sel = [s for s in items if s[0] >= threshold]
    precision = 100.0 * sum(s[1] for s in sel) / len(sel) if sel else None
    return AtThreshold(threshold, len(sel), precision, 100.0 * len(sel) / max(n_queries, 1))


def folds(queries: Sequence[Photo]) -> dict[int, list[Photo]]:
    """Queries split into the leave-photographers-out folds (every fold present, possibly empty)."""
    out: dict[int, list[Photo]] = {f: [] for f in range(N_FOLDS)}
    for q in queries:
        out[fold_of(q.library)].append(q)
    return out


def mean_min(values: Iterable[float | None]) -> tuple[float | None, float | None]:
    """Mean and minimum over folds, ignoring folds where the figure is undefined."""
    vs = [v for v in values if v is not None]
    if not vs:
        return None, None
    return sum(vs) / len(vs), min(vs)


def per_fold(
    queries: Sequence[Photo], figure: Callable[[Sequence[Photo]], float | None]
) -> list[float | None]:
    """One figure computed on each fold's queries alone (None for an empty fold)."""
    return [figure(qs) if qs else None for qs in folds(queries).values()]


@dataclass
class ClockAgreement:
    """How `geotagger clocks` units compare with the offsets a benchmark variant applied."""

    status_counts: dict[str, int]
    confident: int = 0
    confident_within: int = 0  # confident units within the tolerance of the applied offset
    confident_within_flipped: int = 0  # the same with the estimate's sign flipped (a convention check)
    unmatched: int = 0  # units whose folder/device is not one of the variant's (or is ambiguous)
    detail: list[dict[str, Any]] | None = None

    @property
    def share_within(self) -> float | None:
        return 100.0 * self.confident_within / self.confident if self.confident else None


def _applied_offset(unit: Mapping[str, str], applied: Mapping[tuple[str, str], float]) -> float | None:
    """The applied offset of the (library folder, device) a clocks unit names, None if not exactly one."""
    folder = PurePath((unit.get("folder") or "").replace("\\", "/")).name
    device = (unit.get("device") or "").strip().lower()
    hits = [
        off
        for (lib, dev), off in applied.items()
        if lib == folder and dev and device and (dev.lower() in device or device in dev.lower())
    ]
    return hits[0] if len(hits) == 1 else None


def clock_agreement(
    units: Sequence[Mapping[str, str]],
    applied: Mapping[tuple[str, str], float],
    tolerance_s: float = 120.0,
) -> ClockAgreement:
    """Count units by status and score the confident ones against the applied offset (file - true time).

    `units` are rows of `geotagger clocks --format csv` (device, folder, offset_s, status, ...);
    `applied` maps (library folder, "Make Model") to the offset the variant applied to that device.
    """
    out = ClockAgreement(status_counts={}, detail=[])
    for u in units:
        status = (u.get("status") or "").strip().lower()
        out.status_counts[status] = out.status_counts.get(status, 0) + 1
        truth = _applied_offset(u, applied)
        out.unmatched += truth is None
        raw = (u.get("offset_s") or "").strip()
        est = float(raw) if raw else None
        err = abs(est - truth) if est is not None and truth is not None else None
        if status == "confident":
            out.confident += 1
            out.confident_within += err is not None and err <= tolerance_s
            flipped = abs(-est - truth) if est is not None and truth is not None else None
            out.confident_within_flipped += flipped is not None and flipped <= tolerance_s
        out.detail.append({**u, "applied_offset_s": truth, "error_s": err})  # type: ignore[union-attr]
    return out


@dataclass
class TextFigures:
    """How the candidates that rest on text read on the photos fare (issue 12)."""

    queries: int  # queries with at least one text candidate among their candidates
    accuracy: list[float]  # the best text candidate, within r, as a share of those queries (RADII_KM)
    confident: int  # text candidates (any rank) with confidence >= 0.9
    confident_right: int  # ... whose truth lies within their level's radius
    top1: int  # queries whose best candidate is a text one

    @property
    def confident_precision(self) -> float | None:
        return 100.0 * self.confident_right / self.confident if self.confident else None


def text_figures(
    queries: Sequence[Photo], text: Mapping[str, Sequence[Candidate]], top_is_text: Iterable[str] = ()
) -> TextFigures:
    """Queries with a text candidate, its accuracy, and the precision of confident text candidates."""
    with_text = [q for q in queries if text.get(q.file)]
    acc = accuracy(with_text, {q.file: (text[q.file][0].lat, text[q.file][0].lon) for q in with_text})
    conf = [
        gcd(q.lat, q.lon, c.lat, c.lon) <= c.radius_km
        for q in with_text
        for c in text[q.file]
        if c.confidence >= 0.9
    ]
    files = {q.file for q in queries}
    return TextFigures(len(with_text), acc, len(conf), sum(conf), len(files & set(top_is_text)))
