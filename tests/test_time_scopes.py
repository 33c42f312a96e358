"""Time evidence that knows its limits: device/owner/folder/library scopes, clock status, measured priors
and the ceilings they put on weak evidence, and the calibrator without a blanket cap."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import numpy as np
import pytest

from geotagger.locate.calibration import PRIOR_PSEUDO_COUNT, Calibrator
from geotagger.locate.fusion import EvidenceContext
from geotagger.locate.time_evidence import (
    LIBRARY_SCOPE_MAX_S,
    PhotoPoint,
    TimeIndex,
    capture_seconds,
    effective_gap_s,
    prior_scope,
)
from geotagger.locate.time_priors import GAP_BINS_S, SCOPES, ceiling, fit_rates, gap_bin, prior
from geotagger.paths import resources_dir

T0 = datetime(2024, 6, 1, 12, 0, 0)
PHONE, CAMERA = "google|pixel 7|", "fujifilm|x100v|"


def point(pid, minutes, lat=None, lon=None, folder="/a", device=None, **kw) -> PhotoPoint:
    local, utc = capture_seconds(T0 + timedelta(minutes=minutes), None)
    return PhotoPoint(pid, f"{folder}/IMG_{pid:04d}.jpg", folder, local, utc, device, lat, lon, **kw)


def test_scopes_from_same_device_to_another_folder() -> None:
    known = [
        point(1, -5, 46.0, 7.0, device=CAMERA),  # same device (no serial: same folder)
        point(2, -3, 46.0, 7.0, device=PHONE),  # another device of the owner
        point(3, -2, 46.0, 7.0),  # same folder, device unknown
        point(4, -1, 46.0, 7.0, folder="/b", device=CAMERA),  # same model elsewhere: not the same device
        point(5, -4, 46.0, 7.0, folder="/c", device="canon|eos|123"),
    ]
    q = point(9, 0, device=CAMERA)
    scopes = {n.point.id: n.scope for n in TimeIndex(known).neighbours(q, per_side=5)}
    assert scopes == {1: "device", 2: "owner", 3: "folder", 4: "library", 5: "library"}
    # With a serial number the device is one clock across folders.
    serial = point(10, 0, folder="/d", device="canon|eos|123")
    assert {n.point.id: n.scope for n in TimeIndex(known).neighbours(serial, per_side=5)}[5] == "device"
    # A query without device sees its folder as "folder" scope.
    assert {n.point.id: n.scope for n in TimeIndex(known).neighbours(point(11, 0), per_side=5)}[2] == "folder"


def test_another_folder_is_a_neighbour_only_within_hours() -> None:
    limit_min = LIBRARY_SCOPE_MAX_S / 60
    known = [
        point(1, -limit_min - 60, 46.0, 7.0, folder="/other"),
        point(2, limit_min - 60, 10.0, 10.0, folder="/other"),
        point(3, -3 * 365 * 24 * 60, 1.0, 1.0),  # same folder three years before: still the owner's
    ]
    found = {n.point.id: n for n in TimeIndex(known).neighbours(point(9, 0), per_side=2)}
    assert set(found) == {2, 3}
    assert found[2].scope == "library" and found[3].scope == "folder"


def test_clock_fields_default_to_the_reference_clock_and_camera() -> None:
    p = point(1, 0, device=None)
    assert p.clock == "reference" and p.clock_error_s == 0.0 and p.clock_known and p.device is None
    legacy = PhotoPoint(2, "/a/x.jpg", "/a", 0.0, None, PHONE)  # camera given positionally
    assert legacy.device == PHONE


def test_unknown_or_uncertain_clocks_weaken_the_neighbour() -> None:
    known = [point(1, -5, 46.0, 7.0, device=PHONE, clock_error_s=0.0)]
    for clock, error, expect in (
        ("reference", 0.0, "same_clock"),
        ("estimated", 600.0, "same_clock"),
        ("unknown", None, "other_clock"),
    ):
        q = point(9, 0, device=CAMERA, clock=clock, clock_error_s=error)
        n = TimeIndex(known).neighbours(q)[0]
        assert prior_scope(q, n) == expect
        assert effective_gap_s(q, n) == pytest.approx(300 + (error or 0.0))
        item = EvidenceContext(known).pool(q, None, sources=("time",))[0]
        assert item.feats["clock_unknown"] == float(expect == "other_clock")
        assert item.feats["scope_owner"] == 1.0
        assert item.prior is not None and np.allclose(item.prior, prior(expect, effective_gap_s(q, n))[0])
    # The same device: the clock error cancels out and the clock status does not matter.
    same = point(9, 0, device=PHONE, clock="unknown", clock_error_s=None)
    n = TimeIndex(known).neighbours(same)[0]
    assert n.scope == "device" and prior_scope(same, n) == "same_clock" and effective_gap_s(same, n) == 300


def test_measured_priors_fall_with_the_gap_and_the_scope() -> None:
    data = json.loads((resources_dir() / "time_priors.json").read_text())
    assert set(data["scopes"]) == set(SCOPES)
    assert "photos" not in json.dumps(data)  # derived counts only: no paths
    for scope in SCOPES:
        rates = np.array([prior(scope, b if math.isfinite(b) else 1e12)[0] for b in GAP_BINS_S])
        assert np.all(np.diff(rates, axis=0) <= 1e-12)  # never more likely farther in time
        assert np.all(np.diff(rates, axis=1) >= -1e-12)  # never less likely within a larger radius
    minutes, _ = prior("same_clock", 300)
    days, _ = prior("same_clock", 3 * 86400)
    years, _ = prior("same_clock", 3 * 365 * 86400)
    assert minutes[0] >= 0.85 and days[0] < 0.5 and years[1] < 0.5
    assert prior("library", 3600)[0][1] < 0.3  # another folder's photo rarely says where
    for gap in (60, 3 * 86400, 1083 * 86400):  # an unknown clock never makes a neighbour more telling
        assert np.all(prior("other_clock", gap)[0] <= prior("same_clock", gap)[0])
        unknown, known = ceiling("other_clock", gap), ceiling("same_clock", gap)
        assert unknown is None or np.all(unknown <= known)


def test_ceilings_forbid_exact_from_days_and_confidence_from_years() -> None:
    assert ceiling("same_clock", 600) is None  # close in time: the library's own photos decide
    days = ceiling("same_clock", 2 * 86400)
    assert days is not None and days[0] < 0.6  # never "exact" (needs 0.6 at the least) from days away
    years = ceiling("other_clock", 1083 * 86400)  # exif-samples: another camera, 1083 days, clock unknown
    assert years is not None and years[:4].max() < 0.6  # no level at all, let alone a confident one
    weeks = ceiling("same_clock", 13 * 86400)
    assert weeks is not None and weeks[:4].max() < 0.9
    other_folder = ceiling("library", 60)  # few cases measured this close: a wide bound, still no level
    assert other_folder is not None and other_folder[:4].max() < 0.6
    hours = ceiling("library", 3 * 3600)
    assert hours is not None and hours[:4].max() < 0.3


def test_fit_rates_smooths_and_keeps_the_order() -> None:
    counts = [{"n": 10, "hits": [9] * 5}, {"n": 0, "hits": [0] * 5}, {"n": 10, "hits": [10] * 5}]
    rates = np.array(fit_rates(counts))
    assert rates[0, 0] < 1.0 and rates[2, 0] < 1.0  # Laplace: 10 of 10 is not certainty
    assert np.all(np.diff(rates[:, 0]) <= 1e-12)  # the violating far bin is pooled with the near ones
    assert rates[2, 0] == pytest.approx(rates[0, 0])
    assert gap_bin(0) == 0 and gap_bin(1e12) == len(GAP_BINS_S) - 1


def test_calibrator_combines_a_few_held_out_photos_with_the_prior_without_a_cap() -> None:
    raw = np.tile(np.linspace(0.5, 0.99, 20)[:, None], (1, 5))
    hits = np.ones_like(raw)
    cal = Calibrator.fit(raw, hits)
    assert cal.samples == 20 and not cal.reliable
    strong = np.array([0.93, 0.96, 0.97, 0.97, 0.99])
    out = cal.apply(raw[-1:], prior=strong)[0]
    w = 20.0  # one block of 20 hits
    assert out[0] == pytest.approx((w + PRIOR_PSEUDO_COUNT * 0.93) / (w + PRIOR_PSEUDO_COUNT))
    assert out[0] > 0.9  # no blanket 0.75 cap below 30 photos
    weak = np.array([0.1, 0.2, 0.4, 0.6, 0.7])
    assert cal.apply(raw[-1:], prior=weak)[0][0] < out[0]  # the prior still counts
    capped = cal.apply(raw[-1:], prior=strong, ceiling=np.array([0.3, 0.5, 0.7, 0.8, 0.9]))[0]
    assert capped[0] == pytest.approx(0.3) and np.all(np.diff(capped) >= 0)
    # Without any calibration, the prior is the answer.
    assert Calibrator().apply(raw[:1], prior=strong)[0] == pytest.approx(strong)
    # Saved and loaded, the blocks come back.
    again = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert again.apply(raw[-1:], prior=strong)[0] == pytest.approx(out)
