"""The Qt-free preview behind the app's camera clock panel: sign of the offset (camera AHEAD, as
`geotagger clocks set`), the time zone of photos without a UTC offset, and photos outside the track."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from geotagger.errors import UserInputError
from geotagger.locate.tracks import TrackArrays
from geotagger.services.track_preview import PhotoTime, match_photos, thin, track_drawing, true_utc

START = datetime(2024, 6, 1, 10, 0, tzinfo=UTC).timestamp()  # 12:00 in Zurich (CEST)


def _track(n: int = 361, step_s: float = 10.0) -> TrackArrays:
    """One hour north along 8.0 E from 46.0 N in the Bernese Oberland: 0.0005 degrees per 10 s."""
    i = np.arange(n, dtype=np.float64)
    return TrackArrays("walk", START + step_s * i, 46.0 + 0.0005 * i, np.full(n, 8.0), np.full(n, np.nan))


def _wall(hour: int, minute: int, second: int = 0) -> float:
    """Wall-clock seconds as the catalog stores them (the time read as if it were UTC)."""
    return datetime(2024, 6, 1, hour, minute, second, tzinfo=UTC).timestamp()


def test_camera_ahead_moves_the_photo_back_in_time() -> None:
    track = _track()
    # The file says 12:10:00 +02:00, i.e. 10:10 UTC: 60 points in, 46.03 N.
    photo = PhotoTime(1, "a.jpg", "cam", "/f", "Cam", _wall(12, 10), _wall(10, 10))
    (exact,) = match_photos([photo], [track], ahead_s=0)
    assert exact.lat == pytest.approx(46.03) and exact.lon == pytest.approx(8.0) and exact.gap_s == 0
    (ahead,) = match_photos([photo], [track], ahead_s=300)  # camera 5 min ahead: truly taken at 10:05
    assert ahead.utc_s == pytest.approx(_wall(10, 5))
    assert ahead.lat == pytest.approx(46.015)
    (behind,) = match_photos([photo], [track], ahead_s=-125)  # behind: later, between two points
    assert behind.lat == pytest.approx(46.03 + 0.0005 * 12.5)
    assert behind.gap_s == pytest.approx(5.0) and behind.track == "walk"
    assert behind.as_json()["time"] == "2024-06-01 10:12:05 UTC"


def test_time_zone_of_photos_without_utc_offset() -> None:
    track = _track()
    photo = PhotoTime(2, "b.jpg", "cam", "/f", "Cam", _wall(12, 10), None)
    zurich = true_utc(photo, 0, "Europe/Zurich", [track])
    assert zurich == pytest.approx(_wall(10, 10))
    (auto,) = match_photos([photo], [track])  # the zone where the track was: Zurich's
    assert auto.lat == pytest.approx(46.03)
    (utc,) = match_photos([photo], [track], zone="UTC")  # read as 12:10 UTC: after the track ended
    assert utc.utc_s == pytest.approx(_wall(12, 10)) and utc.lat is None and utc.gap_s is None
    (tokyo,) = match_photos([photo], [track], ahead_s=-7 * 3600, zone="Asia/Tokyo")
    assert tokyo.lat == pytest.approx(46.03)  # 19:10 in Tokyo (+09:00) is 10:10 UTC
    with pytest.raises(UserInputError, match="Mars/Olympus"):
        match_photos([photo], [track], zone="Mars/Olympus")


def test_outside_the_track_span_has_no_position() -> None:
    track = _track()
    before = PhotoTime(3, "c.jpg", "cam", "/f", "Cam", _wall(11, 30), _wall(9, 30))  # 30 min before the start
    near_end = PhotoTime(4, "d.jpg", "cam", "/f", "Cam", _wall(13, 10), _wall(11, 10))  # 10 min after the end
    no_time = PhotoTime(5, "e.jpg", "cam", "/f", "Cam", None, None)
    far, near, none = match_photos([before, near_end, no_time], [track])
    assert far.lat is None and far.utc_s == pytest.approx(_wall(9, 30))
    assert near.lat == pytest.approx(46.18) and near.gap_s == pytest.approx(600)  # the end point
    assert none.lat is None and none.utc_s is None
    assert [m.lat for m in match_photos([before], [])] == [None]  # no tracks: nothing to place on


def test_long_tracks_are_thinned_for_drawing() -> None:
    track = _track(n=100_000, step_s=1.0)
    points = thin(track)
    assert len(points) <= 5000 and len(points) > 4000
    assert points[0] == [46.0, 8.0] and points[-1] == [pytest.approx(46.0 + 0.0005 * 99_999), 8.0]
    lats = [p[0] for p in points]
    assert lats == sorted(lats)
    (drawn,) = track_drawing([track])
    assert drawn["name"] == "walk" and drawn["total"] == 100_000 and drawn["points"] == points
    assert thin(_track(n=3)) == [[46.0, 8.0], [46.0005, 8.0], [46.001, 8.0]]


def test_photos_of_other_cameras_keep_their_own_clock() -> None:
    track = _track()
    mine = PhotoTime(6, "f.jpg", "cam", "/f", "Cam", _wall(12, 10), _wall(10, 10))
    other = PhotoTime(7, "g.jpg", "phone", "/f", "Phone", _wall(12, 20), _wall(10, 20))
    moved, kept = match_photos([mine, other], [track], ahead_s=300, own_clocks={7: 600.0})
    assert moved.lat == pytest.approx(46.015)  # the trial clock: 5 min ahead
    assert kept.lat == pytest.approx(46.03)  # its own stored clock: 10 min ahead, truly 10:10
