"""The application layer: the operations that both the CLI and the GUI call.

Each module holds the operations of one concern as plain functions taking a ``Library``
(``geotagger.catalog.library``: the core's open catalog, which indexing and locating use too);
front ends hold no business logic. ``geotagger.services.Library`` stays as a convenience
re-export, loaded on first use so that importing a submodule's constants stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geotagger.catalog.library import Library

__all__ = ["Library"]


def __getattr__(name: str) -> Any:
    if name == "Library":
        from geotagger.catalog.library import Library

        return Library
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
