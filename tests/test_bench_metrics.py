"""The library benchmark's metrics on tiny synthetic libraries (no shared data needed)."""

from __future__ import annotations

import hashlib
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.factories import make_jpeg

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import bench_metrics as bm  # noqa: E402
import library_bench as lb  # noqa: E402

T0 = datetime(2020, 5, 1, 12, 0, 0)
KM_PER_DEG_LAT = 6371.0 * 3.141592653589793 / 180  # ~111.19 km


def photo(file: str, lib: str, lat: float, lon: float, role: str, minutes: float | None) -> bm.Photo:
    taken = None if minutes is None else T0 + timedelta(minutes=minutes)
    return bm.Photo(file, lib, lat, lon, role, taken)


def cand(lat: float, lon: float, conf: float = 0.5, radius: float = 1.0) -> bm.Candidate:
    return bm.Candidate(lat, lon, conf, radius)


def test_gcd_zero_and_one_degree_of_latitude() -> None:
    assert bm.gcd(10.0, 20.0, 10.0, 20.0) == 0.0
    assert bm.gcd(0.0, 0.0, 1.0, 0.0) == pytest.approx(KM_PER_DEG_LAT, rel=1e-9)
    # antipodes: half the circumference, and the formula stays in its domain
    assert bm.gcd(0.0, 0.0, 0.0, 180.0) == pytest.approx(6371.0 * 3.141592653589793, rel=1e-9)


def test_fold_is_the_sha1_of_the_folder_name_mod_5_and_keeps_libraries_whole() -> None:
    names = [f"{i}_N0{i % 3}" for i in range(40)]
    for n in names:
        assert bm.fold_of(n) == int(hashlib.sha1(n.encode()).hexdigest(), 16) % 5
    assert {bm.fold_of(n) for n in names} == set(range(5))
    queries = [photo(f"photos/{n}/{k}.jpg", n, 0, 0, "query", k) for n in names for k in range(3)]
    split = bm.folds(queries)
    assert sorted(split) == [0, 1, 2, 3, 4]
    assert sum(len(v) for v in split.values()) == len(queries)
    for f, qs in split.items():
        assert all(bm.fold_of(q.library) == f for q in qs)


def test_accuracy_counts_a_missing_prediction_as_wrong() -> None:
    queries = [photo(f"q{i}", "a", 0.0, 0.0, "query", 0) for i in range(4)]
    points = {
        "q0": (0.0, 0.0),  # right at every radius
        "q1": (0.1, 0.0),  # ~11 km: right from 25 km on
        "q2": (5.0, 0.0),  # ~556 km: right from 750 km on
    }  # q3 has no prediction
    assert bm.accuracy(queries, points) == [25.0, 50.0, 50.0, 75.0, 75.0]


def test_top_k_recall_looks_only_at_the_first_k_candidates() -> None:
    queries = [photo("q", "a", 0.0, 0.0, "query", 0)]
    far = cand(20.0, 0.0)
    cands = {"q": [far, far, cand(0.001, 0.0), far]}
    assert bm.top_k_recall(queries, cands, k=5)[0] == 100.0
    assert bm.top_k_recall(queries, cands, k=2)[0] == 0.0
    assert bm.top_k_recall(queries, cands, k=2)[-1] == 100.0  # 20 degrees is ~2224 km


def test_nearest_in_time_stays_in_the_library_and_breaks_ties_to_the_earlier_photo() -> None:
    photos = [
        photo("a/k1", "a", 1.0, 1.0, "known", 0),
        photo("a/k2", "a", 2.0, 2.0, "known", 100),
        photo("b/k1", "b", 9.0, 9.0, "known", 31),  # closer in time but another photographer
        photo("a/q1", "a", 0.0, 0.0, "query", 30),  # 30 min after k1, 70 before k2
        photo("a/q2", "a", 0.0, 0.0, "query", 50),  # exactly between: the earlier one wins
        photo("a/q3", "a", 0.0, 0.0, "query", None),  # no capture time: no reference
        photo("c/q1", "c", 0.0, 0.0, "query", 0),  # no known photo in its library
    ]
    ref = bm.nearest_in_time(photos)
    assert ref == {"a/q1": (1.0, 1.0), "a/q2": (1.0, 1.0)}


def test_oracle_picks_the_known_photo_nearest_to_the_truth() -> None:
    photos = [
        photo("a/k1", "a", 10.0, 10.0, "known", 0),
        photo("a/k2", "a", 0.2, 0.0, "known", 500),
        photo("b/k1", "b", 0.0, 0.0, "known", 1),  # exact, but not in the query's library
        photo("a/q", "a", 0.0, 0.0, "query", 1),
    ]
    assert bm.oracle(photos) == {"a/q": (0.2, 0.0)}
    queries = [p for p in photos if p.role == "query"]
    # the oracle is a ceiling of the same accuracy measure: ~22 km away
    assert bm.accuracy(queries, bm.oracle(photos)) == [0.0, 100.0, 100.0, 100.0, 100.0]


def test_by_gap_counts_fused_minus_reference_hits_per_bucket_of_the_time_gap() -> None:
    km = 1 / KM_PER_DEG_LAT
    photos = [
        photo("k1", "A", 0.0, 0.0, "known", 0),
        photo("q1", "A", 0.0, 0.0, "query", 10),  # 10 min from k1
        photo("k2", "A", 10.0, 0.0, "known", 60 * 24 * 10),
        photo("q2", "A", 5.0, 0.0, "query", 60 * 24 * 20),  # 10 days from k2, truth 556 km from it
        photo("q3", "A", 0.0, 0.0, "query", None),  # no time: in no bucket
    ]
    queries = [p for p in photos if p.role == "query"]
    gaps = bm.nearest_gap_s(photos)
    assert gaps == {"q1": 600.0, "q2": 10 * 86400.0}
    ref = bm.nearest_in_time(photos)
    fused = {"q1": (0.0, 30 * km), "q2": (5.0, 0.0), "q3": (0.0, 0.0)}  # q1 30 km off; q2 exact
    buckets = bm.by_gap(queries, gaps, fused, ref)
    assert [b.n for b in buckets] == [1, 0, 0, 0, 1, 0]
    assert buckets[0].hits_minus_reference == (-1, -1, 0, 0, 0)  # lost q1 at 1 and 25 km
    assert buckets[4].hits_minus_reference == (1, 1, 1, 0, 0)  # won q2 up to 200 km; both right beyond
    assert (buckets[4].lo, buckets[4].hi) == (7 * 86400.0, 30 * 86400.0)


def test_scored_uses_each_candidates_level_radius() -> None:
    queries = [photo("q1", "a", 0.0, 0.0, "query", 0), photo("q2", "a", 0.0, 0.0, "query", 0)]
    best = {
        "q1": cand(0.1, 0.0, 0.9, bm.level_radius("exact")),  # 11 km off an exact claim: wrong
        "q2": cand(0.1, 0.0, 0.8, bm.level_radius("city")),  # 11 km off a city claim: right
    }
    assert bm.scored(queries, best) == [(0.9, False), (0.8, True)]
    assert bm.level_radius("region") == 200.0
    assert bm.level_radius("somewhere", 42.0) == 42.0
    with pytest.raises(ValueError):
        bm.level_radius("somewhere")


def test_reliability_and_ece_on_a_hand_computed_example() -> None:
    items = [(0.6, True), (0.6, False), (0.92, True), (0.96, True), (0.98, False)]
    table = bm.reliability(items)
    assert [(b.lo, b.n) for b in table] == [(0.5, 2), (0.9, 1), (0.95, 2)]
    assert table[0].mean_confidence == pytest.approx(0.6)
    assert table[0].share_right == pytest.approx(0.5)
    assert table[2].hi == 1.0 and table[2].mean_confidence == pytest.approx(0.97)
    # ECE = (2*|0.6-0.5| + 1*|0.92-1| + 2*|0.97-0.5|) / 5
    assert bm.ece(items) == pytest.approx((0.2 + 0.08 + 0.94) / 5)
    assert bm.ece([]) is None
    assert bm.reliability([(1.0, True)])[0].lo == 0.95  # a confidence of exactly 1 is binned


def test_precision_and_coverage_divide_by_the_right_counts() -> None:
    items = [(0.91, True), (0.95, True), (0.97, False), (0.5, True)]
    at90 = bm.at_threshold(items, 0.9, n_queries=10)  # 10 queries, 4 with a suggestion
    assert (at90.n, at90.coverage) == (3, 30.0)
    assert at90.precision == pytest.approx(200 / 3)
    at95 = bm.at_threshold(items, 0.95, n_queries=10)
    assert (at95.n, at95.precision, at95.coverage) == (2, 50.0, 20.0)
    none = bm.at_threshold(items, 0.99, n_queries=10)
    assert (none.n, none.precision, none.coverage) == (0, None, 0.0)


def test_per_fold_figures_and_their_mean_and_min() -> None:
    libs = {f: next(f"lib{i}" for i in range(100) if bm.fold_of(f"lib{i}") == f) for f in range(5)}
    queries = [photo(f"{libs[f]}/q{k}", libs[f], 0, 0, "query", 0) for f in range(4) for k in range(f + 1)]
    counts = bm.per_fold(queries, lambda qs: float(len(qs)))
    assert counts == [1.0, 2.0, 3.0, 4.0, None]  # fold 4 has no queries
    assert bm.mean_min(counts) == (2.5, 1.0)
    assert bm.mean_min([None, None]) == (None, None)


def test_clock_agreement_matches_units_by_folder_and_device() -> None:
    applied = {
        ("lib1", "FUJIFILM X100V"): 3600.0,
        ("lib1", "Google Pixel 7"): 0.0,
        ("lib2", "FUJIFILM X100V"): -3600.0,
        ("lib3", "FUJIFILM X100V"): 600.0,
    }
    units = [
        {"device": "FUJIFILM X100V", "folder": "/x/photos/lib1", "offset_s": "3590", "status": "confident"},
        {"device": "fujifilm x100v", "folder": "/x/photos/lib2", "offset_s": "3600", "status": "confident"},
        {"device": "FUJIFILM X100V", "folder": "/x/photos/lib3", "offset_s": "", "status": "unknown"},
        {"device": "Google Pixel 7", "folder": "/x/photos/lib1", "offset_s": "0", "status": "uncertain"},
        {"device": "Canon EOS", "folder": "/x/photos/lib9", "offset_s": "5", "status": "confident"},
    ]
    c = bm.clock_agreement(units, applied, tolerance_s=120)
    assert c.status_counts == {"confident": 3, "unknown": 1, "uncertain": 1}
    assert c.confident == 3
    assert c.confident_within == 1  # lib1 (10 s off); lib2 has the opposite sign; lib9 unmatched
    assert c.confident_within_flipped == 1  # only lib2 agrees when flipped
    assert c.unmatched == 1
    assert c.share_within == pytest.approx(100 / 3)
    assert c.detail[0]["error_s"] == 10.0 and c.detail[2]["error_s"] is None


def test_read_exif_gives_the_files_own_clock_and_device(tmp_path: Path) -> None:
    taken = datetime(2019, 7, 14, 9, 30, 5)
    path = make_jpeg(tmp_path / "a.jpg", taken=taken, make="FUJIFILM", model="X100V")
    assert lb.read_exif(path) == (taken, "FUJIFILM X100V")
    bare = make_jpeg(tmp_path / "b.jpg", make=None, model=None)
    assert lb.read_exif(bare) == (None, "")


def test_candidates_from_suggestions_json_are_best_then_alternatives() -> None:
    entry = {
        "lat": 1.0,
        "lon": 2.0,
        "confidence": 0.8,
        "level": "city",
        "radius_km": 25.0,
        "alternatives": [
            {"lat": 3.0, "lon": 4.0, "confidence": 0.6, "level": "exact", "radius_km": 1.0},
            {"lat": None, "lon": None, "confidence": 0.1, "level": "country"},
        ],
    }
    assert lb.candidates_of(entry) == [cand(1.0, 2.0, 0.8, 25.0), cand(3.0, 4.0, 0.6, 1.0)]
    line = "fused n=424 coverage=100.0% acc@1/25/200/750/2500km = 58.3/74.3/84.7/92.2/96.0"
    assert lb.scorer_figures(line) == [58.3, 74.3, 84.7, 92.2, 96.0]


def _scenario(top1, reference, precision=96.0, coverage=40.0) -> dict:
    fused = {
        "top1": top1,
        "reference": reference,
        "conf>=0.9": {"n": 10, "precision": precision, "coverage": coverage},
    }
    return {"runs": {"fused": fused}}


def test_goals_pass_and_fail_on_the_issue_thresholds() -> None:
    res = {
        "dev": _scenario([60, 76, 85, 93, 96], [57.8, 73.1, 82.8, 91.7, 95.3]),
        "days": _scenario([25, 47, 68, 82, 91], [25.5, 46.5, 67.5, 81.9, 90.9], precision=94.9),
        "devices": _scenario([59.1, 75.0, 80, 90, 95], [0, 0, 0, 0, 0]),
    }
    res["devices"]["clocks"] = {"available": True, "confident": 10, "confident_within_2min": 9}
    res["devices"]["clocks"]["confident_within_2min_pct"] = 90.0
    verdicts = {g: v for g, v, _ in lb.goals(res)}
    assert verdicts["dev: top-1 >= reference everywhere, +2 at 1 and 25 km"] == "PASS"
    assert verdicts["days: top-1 >= reference at every radius"] == "FAIL"  # 25.0 < 25.5 at 1 km
    assert verdicts["devices: within 1 point of dev at 1 and 25 km"] == "PASS"
    assert verdicts["clocks: >= 90% of confident offsets within 2 min"] == "PASS"
    assert verdicts["days: confidence >= 0.9 right >= 95%"] == "FAIL"
    assert verdicts["dev: >= 35% of queries at confidence >= 0.9"] == "PASS"
    res["devices"]["clocks"] = {"available": False, "message": "clocks: command not available"}
    res["dev"]["runs"]["fused"]["top1"][1] = 75.0  # +1.9 at 25 km is not +2
    verdicts = {g: v for g, v, _ in lb.goals(res)}
    assert verdicts["clocks: >= 90% of confident offsets within 2 min"] == "FAIL"
    assert verdicts["dev: top-1 >= reference everywhere, +2 at 1 and 25 km"] == "FAIL"
