"""Clock periods: one device in one folder whose clock changed (reset, or set to another time zone
half-way through a trip) has two offsets. We look for the change at the pauses between its
photos: a split wins only when both parts are confident on their own with enough agreeing pairs, their
offsets differ by more than the kernel allows, and together they explain more photo pairs than one
offset does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geotagger.locate.clocks import KERNEL_S, STATUS_CONFIDENT, ClockEstimate, ClockSide, estimate_offset

MIN_PERIOD_PHOTOS = 4  # photos on each side of a change before it is considered
# Guards against splitting one clock by chance (many split points are tried): each period needs this many
# agreeing pairs and this confidence, and the two together this many more pairs than one offset explains.
MIN_PERIOD_SUPPORT = 4
MIN_PERIOD_CONFIDENCE = 0.3
SPLITS_TRIED = 12  # change points tried: the largest pauses (a clock is reset or re-set on a travel day)


@dataclass(frozen=True)
class ClockPeriod:
    """An estimate valid for the unit's photos with wall-clock seconds in [start_s, end_s) (None: open)."""

    start_s: float | None
    end_s: float | None
    estimate: ClockEstimate

    def covers(self, local_s: float | None) -> bool:
        if local_s is None:
            return self.start_s is None
        return (self.start_s is None or local_s >= self.start_s) and (
            self.end_s is None or local_s < self.end_s
        )


def estimate_periods(unit: ClockSide, refs: ClockSide, **options: float) -> list[ClockPeriod]:
    """One period with one offset, or two when the data shows a change (see the module docstring)."""
    whole = estimate_offset(unit, refs, **options)
    single = [ClockPeriod(None, None, whole)]
    if len(unit) < 2 * MIN_PERIOD_PHOTOS:
        return single
    order = np.argsort(unit.t, kind="stable")
    t = unit.t[order]
    pauses = np.diff(t)
    allowed = np.arange(MIN_PERIOD_PHOTOS, len(t) - MIN_PERIOD_PHOTOS + 1)  # first index of the 2nd part
    ranked = allowed[np.argsort(-pauses[allowed - 1], kind="stable")][:SPLITS_TRIED]
    kernel = float(options.get("kernel_s", KERNEL_S))
    best: list[ClockPeriod] | None = None
    best_total = whole.support + MIN_PERIOD_SUPPORT - 1
    for split in ranked:
        first = estimate_offset(unit.take(order[:split]), refs, **options)
        second = estimate_offset(unit.take(order[split:]), refs, **options)
        if first.status != STATUS_CONFIDENT or second.status != STATUS_CONFIDENT:
            continue
        if min(first.support, second.support) < MIN_PERIOD_SUPPORT:
            continue
        if min(first.confidence, second.confidence) < MIN_PERIOD_CONFIDENCE:
            continue
        if abs(first.offset_s - second.offset_s) <= 3 * kernel:
            continue
        if first.support + second.support > best_total:
            boundary = float((t[split - 1] + t[split]) / 2.0)
            best = [ClockPeriod(None, boundary, first), ClockPeriod(boundary, None, second)]
            best_total = first.support + second.support
    return best or single
