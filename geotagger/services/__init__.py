"""The application layer: the operations that both the CLI and the GUI call.

Each module holds the operations of one concern as plain functions taking a ``Library``;
front ends hold no business logic.
"""

from geotagger.services.library import Library

__all__ = ["Library"]
