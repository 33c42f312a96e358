"""Reverse-geocoding benchmark: 100k land-weighted random points (goal: < 10 s on 2 cores, < 500 MB).

Points: 80% near random GeoNames places (jittered ~10 km, so mostly land and dense where people live),
20% uniform on the sphere (mostly sea). Prints load time, batch time, per-point rate and peak RSS.

    python bench/geocode_bench.py [--n 100000] [--seed 0] [--partitions]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np


def random_points(
    n: int, seed: int, place_lat: np.ndarray, place_lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_land = int(n * 0.8)
    pick = rng.integers(0, len(place_lat), n_land)
    lat_l = np.clip(place_lat[pick] + rng.normal(0, 0.09, n_land), -90, 90)
    lon_l = (place_lon[pick] + rng.normal(0, 0.09, n_land) + 180) % 360 - 180
    n_sea = n - n_land
    lat_s = np.degrees(np.arcsin(rng.uniform(-1, 1, n_sea)))
    lon_s = rng.uniform(-180, 180, n_sea)
    return np.concatenate([lat_l, lat_s]), np.concatenate([lon_l, lon_s])


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--partitions", action="store_true", help="also build SemP and S2 partitionings of the points"
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    from geotagger.geo.geocoder import ReverseGeocoder

    geocoder = ReverseGeocoder()
    t_load = time.perf_counter() - t0
    lat, lon = random_points(args.n, args.seed, geocoder.place_lat, geocoder.place_lon)
    t0, c0 = time.perf_counter(), time.process_time()
    raw = geocoder.lookup_arrays(lat, lon)
    t_arrays, c_arrays = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    addresses = geocoder.lookup_many(lat, lon)
    t_many, c_many = time.perf_counter() - t0, time.process_time() - c0
    with_country = sum(1 for a in addresses if a.country_code)
    with_locality = int((raw.locality >= 0).sum())
    print(f"points: {args.n} ({with_country} in a country, {with_locality} with a locality)")
    print(f"load: {t_load:.2f} s")
    print(f"lookup_arrays: {t_arrays:.2f} s wall, {c_arrays:.2f} s CPU ({args.n / t_arrays:,.0f} points/s)")
    print(
        f"lookup_many (Address objects): {t_many:.2f} s wall, {c_many:.2f} s CPU ({args.n / t_many:,.0f} points/s)"
    )
    print(f"machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"peak RSS after geocoding: {peak_rss_mb():.0f} MB")
    if args.partitions:
        from geotagger.geo.s2cells import build_s2_partitioning
        from geotagger.geo.semp import build_partitionings, suggest_thresholds

        taus = suggest_thresholds(args.n)
        t0 = time.perf_counter()
        pset = build_partitionings(addresses, lat, lon, taus)
        t_semp = time.perf_counter() - t0
        sizes = ", ".join(
            f"tau {p.tau}: {len(p)} classes, {p.unassigned} unassigned" for p in pset.partitionings
        )
        print(f"SemP {t_semp:.2f} s: {sizes}")
        t0 = time.perf_counter()
        s2 = build_s2_partitioning(lat, lon, tau_max=taus[0] * 4, tau_min=taus[-1])
        t_s2 = time.perf_counter() - t0
        print(
            f"S2 (tau_max {taus[0] * 4}, tau_min {taus[-1]}) {t_s2:.2f} s: {len(s2)} cells, {s2.unassigned} unassigned"
        )
        print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
