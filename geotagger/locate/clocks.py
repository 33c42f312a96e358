"""Camera clock offsets found from the photos themselves (pure numpy, no catalog).

A camera without GPS often has its clock off: the time zone never set on a trip, DST not applied,
minutes of drift. Time evidence then pairs a photo with the wrong geotagged neighbours. Within a folder
(usually one trip or event) a device's clock is set one way, so a *clock unit* is (device, folder), and
the devices of that folder whose photos carry GPS are the *references* (their clock is right by
definition). The offset of a unit is the shift that makes its photos' time neighbours agree: visually
similar pairs (unit photo, reference photo) propose offsets ``t_unit - t_ref``; each proposal is scored
by how many unit photos then have a similar reference photo within a few minutes (a Gaussian kernel,
each unit photo counting once, weighted by similarity). Time-zone offsets are whole or half hours plus
drift: when the best offset lies near a half-hour multiple and the data cannot tell the two apart, the
multiple wins. A clock the data cannot pin down (too few agreeing pairs, or a second offset fitting about
as well) is ``unknown`` and says so; the caller then leaves its photos' times alone.

Sign convention (as the benchmark's ``clock_offset_s``): ``offset_s`` is how far the camera clock is
ahead of the true time, so ``true time = file time - offset_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KERNEL_S = 45.0  # how close in time two photos of the same moment are (seconds)
MAX_OFFSET_S = 15 * 3600.0  # time zones span UTC-12..UTC+14; clocks further off are not guessed
ZONE_STEP_S = 1800.0  # time-zone offsets are whole or half hours
SIM_FLOOR = 0.2  # cosine similarity below which a pair says nothing about the offset
ZONE_PRIOR = 0.5  # extra weight of offsets within ZONE_DRIFT_S of a zone multiple
ZONE_DRIFT_S = 120.0
SNAP_RATIO = 0.9  # snap to the zone multiple when it keeps this share of the best score
MIN_SUPPORT = 2  # fewer agreeing pairs than this: the clock is unknown
UNKNOWN_MARGIN = 0.15  # a second offset within this share of the best score: unknown
CONFIDENT = 0.15  # confidence from which an estimate is marked confident
CANDIDATES_PER_PHOTO = 8  # offsets proposed by each unit photo (its most similar references) ...
MAX_CANDIDATES = 2000  # ... of which the most similar pairs are tried (bounds the work in large folders)

STATUS_CONFIDENT = "confident"
STATUS_UNCERTAIN = "uncertain"
STATUS_UNKNOWN = "unknown"


@dataclass(frozen=True)
class ClockSide:
    """Photos of one side (a unit or its references): capture seconds and L2-normalised embeddings.

    ``t`` is wall-clock seconds; ``utc`` the UTC seconds (NaN where no OffsetTime tag was read)."""

    t: np.ndarray
    utc: np.ndarray
    emb: np.ndarray

    @classmethod
    def of(cls, t: list[float], emb: np.ndarray, utc: list[float | None] | None = None) -> ClockSide:
        t_arr = np.asarray(t, dtype=np.float64)
        u = np.asarray([np.nan if v is None else v for v in (utc or [None] * len(t))], dtype=np.float64)
        e = np.asarray(emb, dtype=np.float64)
        e = e.reshape(len(t_arr), e.shape[-1] if e.ndim > 1 else -1)
        norms = np.linalg.norm(e, axis=1, keepdims=True)
        return cls(t_arr, u, e / np.where(norms > 0, norms, 1.0))

    def __len__(self) -> int:
        return int(self.t.size)

    def take(self, rows: np.ndarray) -> ClockSide:
        """The photos at ``rows`` (indices or a mask)."""
        return ClockSide(self.t[rows], self.utc[rows], self.emb[rows])


@dataclass(frozen=True)
class ClockEstimate:
    """One unit's clock: offset (camera ahead of true time, seconds), agreeing pairs, confidence, status."""

    offset_s: float
    support: int
    confidence: float
    status: str
    runner_up_s: float | None = None  # the best offset clearly apart from the chosen one

    @property
    def usable(self) -> bool:
        """Whether callers should correct the unit's times with it (an unknown clock stays as it is)."""
        return self.status != STATUS_UNKNOWN


UNKNOWN = ClockEstimate(0.0, 0, 0.0, STATUS_UNKNOWN)


def _times(unit: ClockSide, refs: ClockSide) -> tuple[np.ndarray, np.ndarray]:
    """UTC when every photo on both sides has it (time zones then cancel), else the wall clocks."""
    if np.isfinite(unit.utc).all() and np.isfinite(refs.utc).all():
        return unit.utc, refs.utc
    return unit.t, refs.t


def _weights(unit: ClockSide, refs: ClockSide, sim_floor: float) -> np.ndarray:
    """Pair weights in [0, 1]: how strongly a pair of photos looks like the same moment."""
    sim = unit.emb @ refs.emb.T
    return np.clip((sim - sim_floor) / max(1e-9, 1.0 - sim_floor), 0.0, 1.0)


@dataclass(frozen=True)
class _Pairs:
    """Unit and reference times with the pair weights, references sorted by time for window look-ups."""

    t_unit: np.ndarray
    t_ref: np.ndarray  # sorted
    w: np.ndarray  # [unit, ref] in that order

    @classmethod
    def of(cls, t_unit: np.ndarray, t_ref: np.ndarray, w: np.ndarray) -> _Pairs:
        order = np.argsort(t_ref, kind="stable")
        return cls(t_unit, t_ref[order], w[:, order])

    def scores(self, offsets: np.ndarray, kernel_s: float) -> np.ndarray:
        """Agreement per candidate offset: each unit photo counts its best weighted reference within a
        few kernels of its shifted time (only those windows are visited, so bursts stay cheap)."""
        out = np.zeros(offsets.size)
        n_unit = self.t_unit.size
        block = max(1, 2_000_000 // max(1, n_unit))
        for b in range(0, offsets.size, block):
            out[b : b + block] = self._block(offsets[b : b + block], kernel_s)
        return out

    def _block(self, offsets: np.ndarray, kernel_s: float) -> np.ndarray:
        n_unit = self.t_unit.size
        target = self.t_unit[None, :] - offsets[:, None]  # (candidates, unit): matching reference time
        lo = np.searchsorted(self.t_ref, target - 4 * kernel_s, side="left").ravel()
        hi = np.searchsorted(self.t_ref, target + 4 * kernel_s, side="right").ravel()
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            return np.zeros(offsets.size)
        cell = np.repeat(np.arange(counts.size), counts)
        starts = np.cumsum(counts) - counts
        j = lo[cell] + (np.arange(total) - starts[cell])
        i = cell % n_unit
        gap = self.t_unit[i] - offsets[cell // n_unit] - self.t_ref[j]
        values = self.w[i, j] * np.exp(-0.5 * (gap / kernel_s) ** 2)
        best = np.zeros(counts.size)
        filled = counts > 0
        best[filled] = np.maximum.reduceat(values, starts[filled])
        return best.reshape(offsets.size, n_unit).sum(axis=1)


def estimate_offset(
    unit: ClockSide,
    refs: ClockSide,
    *,
    kernel_s: float = KERNEL_S,
    sim_floor: float = SIM_FLOOR,
    confident: float = CONFIDENT,
    max_offset_s: float = MAX_OFFSET_S,
    zone_prior: float = ZONE_PRIOR,
) -> ClockEstimate:
    """The offset of ``unit``'s clock against the reference photos (see the module docstring)."""
    if len(unit) == 0 or len(refs) == 0:
        return UNKNOWN
    t_unit, t_ref = _times(unit, refs)
    diff = t_unit[:, None] - t_ref[None, :]
    w = np.where(np.abs(diff) <= max_offset_s + kernel_s, _weights(unit, refs, sim_floor), 0.0)
    if not (w > 0).any():
        return UNKNOWN
    # Candidates: the offsets the most similar pairs of each unit photo propose, and their zone multiples.
    k = min(CANDIDATES_PER_PHOTO, w.shape[1])
    top = (
        np.argpartition(-w, k - 1, axis=1)[:, :k]
        if k < w.shape[1]
        else np.tile(np.arange(k), (w.shape[0], 1))
    )
    rows = np.repeat(np.arange(w.shape[0]), k)
    picked = (rows, top.ravel())
    weight = w[picked]
    keep = np.argsort(-weight, kind="stable")[: min(MAX_CANDIDATES, int((weight > 0).sum()))]
    proposed = diff[picked][keep]
    zones = np.round(proposed / ZONE_STEP_S) * ZONE_STEP_S
    candidates = np.unique(np.round(np.concatenate([proposed, zones, [0.0]])))
    candidates = candidates[np.abs(candidates) <= max_offset_s]
    pairs = _Pairs.of(t_unit, t_ref, w)
    scores = pairs.scores(candidates, kernel_s) * _prior(candidates, zone_prior)
    best_i = int(np.argmax(scores))
    best, best_score = float(candidates[best_i]), float(scores[best_i])
    if best_score <= 0:
        return UNKNOWN
    best = _refine(diff, w, best, kernel_s)
    best_score = float((pairs.scores(np.array([best]), kernel_s) * _prior(np.array([best]), zone_prior))[0])
    zone = round(best / ZONE_STEP_S) * ZONE_STEP_S
    if abs(best - zone) <= 2 * kernel_s:
        zone_score = float(pairs.scores(np.array([zone]), kernel_s)[0]) * (1.0 + zone_prior)
        if zone_score >= SNAP_RATIO * best_score:
            best, best_score = float(zone), max(best_score, zone_score)
    apart = np.abs(candidates - best) > 3 * kernel_s
    runner = float(candidates[apart][np.argmax(scores[apart])]) if apart.any() else None
    runner_score = float(scores[apart].max()) if apart.any() else 0.0
    agree = (np.abs(diff - best) <= kernel_s) & (w > 0)
    support = int(agree.any(axis=1).sum())  # unit photos with an agreeing reference photo
    margin = 1.0 - runner_score / best_score
    confidence = float(np.clip(margin * (1.0 - 0.5 ** max(0, support - 1)), 0.0, 1.0))
    pairs = int(agree.sum())
    if support < MIN_SUPPORT or margin < UNKNOWN_MARGIN:
        return ClockEstimate(best, pairs, confidence, STATUS_UNKNOWN, runner)
    status = STATUS_CONFIDENT if confidence >= confident else STATUS_UNCERTAIN
    return ClockEstimate(best, pairs, confidence, status, runner)


def _prior(offsets: np.ndarray, zone_prior: float) -> np.ndarray:
    """Clocks are mostly off by a time zone (whole or half hours) plus little drift: such offsets
    weigh ``1 + zone_prior`` against any other."""
    near = np.abs(offsets - np.round(offsets / ZONE_STEP_S) * ZONE_STEP_S) <= ZONE_DRIFT_S
    return np.where(near, 1.0 + zone_prior, 1.0)


def _refine(diff: np.ndarray, w: np.ndarray, offset: float, kernel_s: float) -> float:
    """The similarity-weighted median of the closest agreeing pair per unit photo (a robust centre)."""
    near = np.abs(diff - offset) <= kernel_s
    cand = np.where(near & (w > 0), np.abs(diff - offset), np.inf)
    j = np.argmin(cand, axis=1)
    rows = np.flatnonzero(np.isfinite(cand[np.arange(cand.shape[0]), j]))
    if rows.size == 0:
        return offset
    values = diff[rows, j[rows]]
    weights = w[rows, j[rows]]
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, cum[-1] / 2.0)])


def format_offset(seconds: float) -> str:
    """'+1 h 02 min 10 s', '-45 s', '0 s': an offset people read."""
    s = int(round(seconds))
    if s == 0:
        return "0 s"
    sign, s = ("+" if s > 0 else "-"), abs(s)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    parts = []
    if h:
        parts.append(f"{h} h")
    if h or m:
        parts.append(f"{m:02d} min" if h else f"{m} min")
    if sec or not parts:
        parts.append(f"{sec:02d} s" if parts else f"{sec} s")
    return sign + " ".join(parts)


def parse_offset(text: str) -> float:
    """'+3600', '-1h', '+9h02m50s', '-45s', '1.5h' -> seconds; ValueError on anything else."""
    import re

    raw = text.strip().lower().replace(" ", "")
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)", raw)
    if m:
        return float(m.group(1) + m.group(2))
    m = re.fullmatch(r"([+-]?)(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?:in)?)?(?:(\d+(?:\.\d+)?)s)?", raw)
    if not m or not any(m.group(i) for i in (2, 3, 4)):
        raise ValueError(f"not a clock offset: {text!r} (use e.g. +3600, -1h, +9h02m50s)")
    total = float(m.group(2) or 0) * 3600 + float(m.group(3) or 0) * 60 + float(m.group(4) or 0)
    return -total if m.group(1) == "-" else total
