"""Time evidence: neighbours by scope, gaps, interpolation, evidence lines."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from geotagger.locate.time_evidence import (
    PhotoPoint,
    TimeIndex,
    camera_key,
    capture_seconds,
    evidence_line,
    format_gap,
    gap_seconds,
    haversine_km,
    interpolate,
)

T0 = datetime(2024, 6, 1, 12, 0, 0)


def point(pid: int, minutes: float, lat=None, lon=None, folder="/a", camera=None, offset=None) -> PhotoPoint:
    local, utc = capture_seconds(T0 + timedelta(minutes=minutes), offset)
    return PhotoPoint(pid, f"{folder}/IMG_{pid:04d}.jpg", folder, local, utc, camera, lat, lon)


def test_capture_seconds_and_gap_use_utc_only_when_both_offsets_are_known() -> None:
    a = point(1, 0, offset=120)  # 12:00 at UTC+2 = 10:00 UTC
    b = point(2, 0, offset=0)  # 12:00 UTC
    c = point(3, 30)  # no offset: wall clock only
    assert gap_seconds(a, b) == pytest.approx(2 * 3600)
    assert gap_seconds(a, c) == pytest.approx(30 * 60)
    assert capture_seconds(None, None) == (None, None)


def test_camera_key_ignores_case_and_needs_make_or_model() -> None:
    assert camera_key("Canon", "EOS 5D", "123") == camera_key("canon ", "eos 5d", "123")
    assert camera_key(None, None, "123") is None


def test_neighbours_prefer_same_device_then_folder_and_rank_by_side() -> None:
    known = [
        point(1, -10, 46.0, 7.0, camera="c|a|1"),
        point(2, -3, 47.0, 8.0, camera="c|b|2"),
        point(3, 20, 46.1, 7.1, camera="c|a|1"),
        point(4, 5, 10.0, 10.0, folder="/other"),
    ]
    q = point(9, 0, camera="c|a|1")
    found = TimeIndex(known).neighbours(q, per_side=1)
    by_id = {n.point.id: n for n in found}
    assert by_id[1].scope == "device" and by_id[1].direction == "before" and by_id[1].rank == 0
    assert by_id[3].scope == "device" and by_id[3].direction == "after"
    assert by_id[2].scope == "owner" and by_id[2].gap_s == pytest.approx(180)  # another camera, same folder
    assert by_id[4].scope == "library"  # only found when looking through the whole library
    assert len(found) == len(by_id)  # each photo once


def test_exclude_and_photos_without_time() -> None:
    known = [point(1, -10, 1.0, 1.0), point(2, 10, 1.0, 1.0)]
    index = TimeIndex(known)
    assert {n.point.id for n in index.neighbours(known[0])} == {2}  # a photo is never its own neighbour
    assert {n.point.id for n in index.neighbours(point(5, 0), exclude_id=2)} == {1}
    untimed = PhotoPoint(7, "/a/x.jpg", "/a", None, None, None)
    assert index.neighbours(untimed) == []


def test_interpolation_between_close_neighbours_only() -> None:
    before, after = point(1, -10, 46.0, 7.0), point(2, 30, 46.0, 7.1)
    q = point(9, 0)
    nb = TimeIndex([before, after]).neighbours(q, per_side=1)
    b = next(n for n in nb if n.direction == "before")
    a = next(n for n in nb if n.direction == "after")
    lat, lon, apart = interpolate(q, b, a)
    assert lat == pytest.approx(46.0) and lon == pytest.approx(7.025)  # a quarter of the way
    assert apart == pytest.approx(float(haversine_km(46.0, 7.0, 46.0, 7.1)))
    far = TimeIndex([before, point(3, 30, 48.0, 9.0)]).neighbours(q, per_side=1)
    assert interpolate(q, far[0], far[1]) is None  # 250 km apart: a straight line means nothing


def test_interpolation_crosses_the_antimeridian_the_short_way() -> None:
    nb = TimeIndex([point(1, -10, -17.0, 179.99), point(2, 10, -17.0, -179.99)]).neighbours(
        point(9, 0), per_side=1
    )
    _, lon, apart = interpolate(point(9, 0), nb[0], nb[1])
    assert abs(lon) == pytest.approx(180.0, abs=1e-6) and apart < 5


def test_evidence_line_and_gap_format() -> None:
    nb = TimeIndex([point(420, -12, 1.0, 1.0)]).neighbours(point(9, 0), per_side=1)[0]
    assert evidence_line(nb) == "taken 12 min after IMG_0420.jpg (GPS)"
    assert format_gap(30) == "30 s" and format_gap(5 * 3600) == "5.0 h" and format_gap(6 * 86400) == "6 days"


def test_haversine_matches_a_known_distance() -> None:
    # Paris - London, about 344 km
    assert float(haversine_km(48.8566, 2.3522, 51.5074, -0.1278)) == pytest.approx(343.5, abs=1.0)
    assert haversine_km(np.array([0.0]), np.array([0.0]), 0.0, 180.0)[0] == pytest.approx(np.pi * 6371.0)
