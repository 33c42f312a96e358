"""The Qt desktop app (the only package that imports PySide6). Run with ``geotagger gui``."""
