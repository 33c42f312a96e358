"""Geolocation metrics of the paper: great-circle error and accuracy at 1 / 25 / 200 / 750 / 2500 km.

Every benchmark reports through :func:`evaluate` so numbers are comparable across issues.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EARTH_RADIUS_KM = 6371.0
THRESHOLDS_KM: tuple[float, ...] = (1.0, 25.0, 200.0, 750.0, 2500.0)
SCALE_NAMES = {1.0: "street", 25.0: "city", 200.0: "region", 750.0: "country", 2500.0: "continent"}


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in km (R = 6371), broadcasting over numpy arrays."""
    la1, lo1, la2, lo2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((la2 - la1) / 2.0) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def accuracy_at(errors_km: Any, thresholds_km: tuple[float, ...] = THRESHOLDS_KM) -> dict[float, float]:
    """Share of errors <= each threshold (NaN errors, i.e. no prediction, count as misses)."""
    err = np.asarray(errors_km, dtype=np.float64)
    if err.size == 0:
        return {t: float("nan") for t in thresholds_km}
    with np.errstate(invalid="ignore"):
        return {t: float(np.mean(err <= t)) for t in thresholds_km}


def evaluate(pred_lat: Any, pred_lon: Any, true_lat: Any, true_lon: Any) -> dict[str, Any]:
    """Accuracy per threshold (keys "acc_1km" ...), median and mean error in km and the count.

    A NaN prediction is a miss at every threshold and an infinite error for the median.
    """
    err = haversine_km(pred_lat, pred_lon, true_lat, true_lon)
    err = np.atleast_1d(err)
    acc = accuracy_at(err)
    finite = np.where(np.isnan(err), np.inf, err)
    result: dict[str, Any] = {f"acc_{t:g}km": acc[t] for t in THRESHOLDS_KM}
    result["median_km"] = float(np.median(finite)) if err.size else float("nan")
    result["mean_km"] = float(np.mean(err[~np.isnan(err)])) if np.any(~np.isnan(err)) else float("nan")
    result["n"] = int(err.size)
    result["n_missing"] = int(np.isnan(err).sum())
    return result


def format_evaluation(result: dict[str, Any]) -> str:
    """One line: "n=864  1km 12.0%  25km 31.4% ... median 123 km"."""
    parts = [f"n={result['n']}"]
    parts += [f"{t:g}km {100 * result[f'acc_{t:g}km']:.1f}%" for t in THRESHOLDS_KM]
    parts.append(f"median {result['median_km']:.1f} km")
    return "  ".join(parts)
