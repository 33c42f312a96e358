"""geotagger: find where photos without GPS were taken, explain why, write it back safely."""

__version__ = "0.1.0"
