"""Great-circle distance and the paper's accuracy thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from geotagger.geo.metrics import THRESHOLDS_KM, accuracy_at, evaluate, format_evaluation, haversine_km


def test_known_distances() -> None:
    # Paris - London ~343.5 km; a quarter meridian = pi/2 * R
    assert haversine_km(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(343.5, abs=1.0)
    assert haversine_km(0, 0, 90, 0) == pytest.approx(np.pi / 2 * 6371, rel=1e-9)
    assert haversine_km(-16.88, -179.99, -16.88, 179.99) == pytest.approx(2.13, abs=0.02)  # dateline
    assert haversine_km(10, 20, 10, 20) == 0


def test_vectorised_and_broadcasting() -> None:
    lat = np.array([0.0, 10.0, 20.0])
    d = haversine_km(lat, 0.0, 0.0, 0.0)
    assert d.shape == (3,)
    assert d[1] == pytest.approx(1111.95, abs=0.1)


def test_accuracy_and_evaluate() -> None:
    assert THRESHOLDS_KM == (1, 25, 200, 750, 2500)
    acc = accuracy_at([0.5, 10, 100, 500, 1000, 5000, np.nan])
    assert acc[1] == pytest.approx(1 / 7) and acc[25] == pytest.approx(2 / 7)
    assert acc[2500] == pytest.approx(5 / 7)
    true_lat, true_lon = np.array([46.593, 41.4036, 47.4966]), np.array([7.909, 2.1744, 19.0345])
    result = evaluate(true_lat + 0.001, true_lon, true_lat, true_lon)
    assert result["acc_1km"] == 1.0 and result["n"] == 3
    assert result["median_km"] == pytest.approx(0.111, abs=0.001)
    missing = evaluate([np.nan, 46.6], [np.nan, 7.9], [46.593, 46.593], [7.909, 7.909])
    assert missing["n_missing"] == 1 and missing["acc_2500km"] == 0.5
    assert missing["median_km"] == float("inf")
    assert "1km 0.0%  25km 50.0%" in format_evaluation(missing)  # 46.6,7.9 is 1.04 km off
