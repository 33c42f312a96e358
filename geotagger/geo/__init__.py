"""Offline geography: reverse geocoding, semantic partitioning, S2 cells, distance metrics."""
