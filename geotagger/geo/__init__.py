"""Offline geography: reverse geocoding, semantic partitioning, S2 cells, distance metrics.

- ``geocoder``: ReverseGeocoder.default().lookup(lat, lon) / lookup_many(lats, lons) -> Address
  (Natural Earth polygons + GeoNames places, data in resources/geo, rebuilt by packaging/build_geodata.py)
- ``semp``: build_partitionings(addresses, lats, lons, taus) -> PartitioningSet (JSON round trip),
  suggest_thresholds(n)
- ``s2cells``: build_s2_partitioning / build_s2_partitionings (the ECCV'18 baseline)
- ``hierarchy``: hierarchical_predict(per-level probabilities, PartitioningSet) -> ranked places
- ``metrics``: haversine_km, accuracy_at, evaluate (accuracy at 1/25/200/750/2500 km, median error)
"""
