"""Kept for imports: the location stripping lives in ``geotagger.export.strip``."""

from geotagger.export.strip import can_strip, strip_gps, strip_tiff_block, strip_xmp_location

__all__ = ["can_strip", "strip_gps", "strip_tiff_block", "strip_xmp_location"]
