"""Metadata I/O: reading (EXIF, XMP sidecars, HEIC, RAW) and safe writing, from one tag table."""
