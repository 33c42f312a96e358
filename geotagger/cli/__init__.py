"""Command-line front end: a thin layer over ``geotagger.services``."""
