"""Indexing: walking folders, fingerprinting files, reading metadata in parallel, writing catalog rows,
and thumbnails. Front ends call it through ``geotagger.services.indexing``."""
