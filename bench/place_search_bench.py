"""Place search speed: index build once, then per-query latency over typed prefixes (the budget is
50 ms per query on the ~240k GeoNames places, regions and countries).

    python bench/place_search_bench.py [--queries 2000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from geotagger.geo.place_search import PlaceSearch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    start = time.perf_counter()
    index = PlaceSearch()
    build = time.perf_counter() - start
    rng = random.Random(args.seed)
    # What a user types: 1 to 8 first letters of real names (short prefixes match the most entries).
    names = [index.hit(rng.randrange(index.size)).name for _ in range(args.queries)]
    queries = [name[: rng.randint(1, 8)] for name in names] + ["a", "s", "san", "lauterbrunnen", "zurich"]
    times = []
    for query in queries:
        t = time.perf_counter()
        index.search(query, 10)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"entries: {index.size:,} ({len(index._keys):,} keys); index build: {build:.2f} s")
    print(
        f"queries: {len(times)}; median {statistics.median(times):.3f} ms, "
        f"p99 {times[int(0.99 * (len(times) - 1))]:.3f} ms, max {times[-1]:.3f} ms (budget 50 ms)"
    )


if __name__ == "__main__":
    main()
