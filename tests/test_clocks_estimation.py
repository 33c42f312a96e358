"""Clock offsets from synthetic sequences: scenes shot by a phone (GPS) and a camera whose clock is off."""

from __future__ import annotations

import numpy as np
import pytest

from geotagger.locate.clocks import (
    STATUS_CONFIDENT,
    STATUS_UNKNOWN,
    ClockSide,
    estimate_offset,
    format_offset,
    parse_offset,
)

DIM = 64


def _scenes(rng: np.random.Generator, n: int, gap_s: float = 3 * 3600.0) -> tuple[np.ndarray, np.ndarray]:
    """n scenes, hours apart, each with its own look (a random direction)."""
    times = 1.6e9 + np.cumsum(rng.uniform(0.5, 1.5, n) * gap_s)
    looks = rng.normal(size=(n, DIM))
    return times, looks / np.linalg.norm(looks, axis=1, keepdims=True)


def _shots(rng, times, looks, per_scene: int, spread_s: float, noise: float = 0.3):
    t, e = [], []
    for when, look in zip(times, looks, strict=True):
        for _ in range(per_scene):
            t.append(when + rng.uniform(-spread_s, spread_s))
            e.append(look + noise * rng.normal(size=DIM) / np.sqrt(DIM))
    return np.array(t), np.array(e)


def _pair(offset_s: float, seed: int = 1, scenes: int = 8):
    rng = np.random.default_rng(seed)
    times, looks = _scenes(rng, scenes)
    rt, re = _shots(rng, times, looks, 2, 40.0)
    ut, ue = _shots(rng, times, looks, 2, 40.0)
    return ClockSide.of(list(ut + offset_s), ue), ClockSide.of(list(rt), re)


@pytest.mark.parametrize(
    "offset_s", [0.0, 3600.0, -7200.0, 9 * 3600 + 170.0, -(11 * 3600 + 40.0), -300.0, 95.0]
)
def test_known_offsets_are_found_within_two_minutes(offset_s: float) -> None:
    unit, refs = _pair(offset_s, seed=int(abs(offset_s)) % 97)
    est = estimate_offset(unit, refs)
    assert est.status == STATUS_CONFIDENT, est
    assert abs(est.offset_s - offset_s) <= 120, est
    assert est.support >= 8  # the pairs of most scenes agree
    assert 0 < est.confidence <= 1


def test_whole_hour_is_kept_when_the_data_cannot_tell_drift_from_it() -> None:
    unit, refs = _pair(3600.0, seed=5)
    est = estimate_offset(unit, refs)
    assert est.offset_s == 3600.0  # snapped: the jitter of pairs is no evidence of drift


def test_drift_beyond_the_kernel_is_not_snapped() -> None:
    unit, refs = _pair(3600.0 + 600.0, seed=6)
    est = estimate_offset(unit, refs)
    assert abs(est.offset_s - 4200.0) <= 60


def test_utc_offsets_are_used_when_both_sides_have_them() -> None:
    # Wall clocks differ by the time zone (+2 h on the camera's tag) but UTC agrees: offset 0.
    unit, refs = _pair(7200.0, seed=7)
    utc_unit = ClockSide.of(list(unit.t), unit.emb, list(unit.t - 7200.0))
    utc_refs = ClockSide.of(list(refs.t), refs.emb, list(refs.t))
    est = estimate_offset(utc_unit, utc_refs)
    assert abs(est.offset_s) <= 60 and est.status == STATUS_CONFIDENT
    assert abs(estimate_offset(unit, refs).offset_s - 7200.0) <= 60  # wall clocks alone: the zone shows


def test_a_single_pair_is_unknown() -> None:
    unit, refs = _pair(3600.0, seed=2, scenes=1)
    unit = ClockSide.of(list(unit.t[:1]), unit.emb[:1])
    refs = ClockSide.of(list(refs.t[:1]), refs.emb[:1])
    assert estimate_offset(unit, refs).status == STATUS_UNKNOWN


def test_two_offsets_fitting_equally_are_unknown() -> None:
    # Every scene is shot twice by the phone, exactly 1 h apart, and looks the same both times:
    # the camera fits +0 and +1 h equally well.
    rng = np.random.default_rng(3)
    times, looks = _scenes(rng, 6, gap_s=12 * 3600.0)
    rt, re = _shots(rng, times, looks, 1, 5.0, noise=0.05)
    rt = np.concatenate([rt, rt + 3600.0])
    re = np.concatenate([re, re])
    ut, ue = _shots(rng, times, looks, 1, 5.0, noise=0.05)
    est = estimate_offset(ClockSide.of(list(ut), ue), ClockSide.of(list(rt), re))
    assert est.status == STATUS_UNKNOWN
    assert est.runner_up_s is not None


def test_unrelated_photos_give_no_offset() -> None:
    rng = np.random.default_rng(4)
    times, looks = _scenes(rng, 6)
    other_times, other_looks = _scenes(rng, 6)
    rt, re = _shots(rng, times, looks, 2, 40.0)
    ut, ue = _shots(rng, other_times + 5 * 86400, -other_looks, 2, 40.0)  # other days, opposite looks
    est = estimate_offset(ClockSide.of(list(ut), ue), ClockSide.of(list(rt), re))
    assert est.status == STATUS_UNKNOWN and not est.usable


def test_empty_sides_are_unknown() -> None:
    unit, refs = _pair(0.0)
    empty = ClockSide.of([], np.zeros((0, DIM)))
    assert estimate_offset(empty, refs).status == STATUS_UNKNOWN
    assert estimate_offset(unit, empty).status == STATUS_UNKNOWN


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("+3600", 3600), ("-1h", -3600), ("+9h02m50s", 32570), ("-45s", -45), ("1.5h", 5400), ("-23min", -1380)],
)
def test_parse_offset(text: str, seconds: float) -> None:
    assert parse_offset(text) == seconds


@pytest.mark.parametrize("text", ["", "+", "1x", "h", "+1h-2m", "abc"])
def test_parse_offset_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="not a clock offset"):
        parse_offset(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (-45, "-45 s"),
        (3730, "+1 h 02 min 10 s"),
        (-3600, "-1 h 00 min"),
        (300, "+5 min"),
        (-39640, "-11 h 00 min 40 s"),
    ],
)
def test_format_offset(seconds: float, text: str) -> None:
    assert format_offset(seconds) == text


def test_a_clock_reset_half_way_gives_two_periods() -> None:
    from geotagger.locate.clock_periods import estimate_periods

    rng = np.random.default_rng(11)
    times, looks = _scenes(rng, 12)
    times[6:] += 2 * 86400.0  # a travel day half-way, when the clock was set right
    rt, re = _shots(rng, times, looks, 2, 40.0)
    ut, ue = _shots(rng, times, looks, 2, 40.0)
    half = len(ut) // 2
    shifted = ut + np.where(np.arange(len(ut)) < half, 3600.0, 0.0)  # one hour ahead, then reset
    periods = estimate_periods(ClockSide.of(list(shifted), ue), ClockSide.of(list(rt), re))
    assert [round(p.estimate.offset_s / 60) for p in periods] == [60, 0]
    assert all(p.estimate.status == STATUS_CONFIDENT for p in periods)
    first, second = periods
    assert first.start_s is None and second.end_s is None and first.end_s == second.start_s
    assert (
        first.covers(shifted[half - 1]) and second.covers(shifted[half]) and not first.covers(shifted[half])
    )


def test_one_clock_stays_one_period() -> None:
    from geotagger.locate.clock_periods import estimate_periods

    unit, refs = _pair(3600.0, seed=12, scenes=12)
    periods = estimate_periods(unit, refs)
    assert len(periods) == 1 and periods[0].start_s is None and periods[0].end_s is None
    assert periods[0].estimate.offset_s == 3600.0
