"""Which service operations exist in this installation, found at call time.

The GUI holds no business logic: every action calls one function of ``geotagger.services``. An action
whose service is not available is disabled with a tooltip saying so, instead of failing on click.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
_broken: dict[str, str] = {}

# action -> candidates (module under geotagger.services, function name), first found wins
OPERATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "index": (("indexing", "index"),),
    "thumbnail": (("indexing", "thumbnail"),),
    "locate": (("locating", "locate"),),
    "accept": (("decisions", "accept"),),
    "reject": (("decisions", "reject"),),
    "undo_decision": (("decisions", "undo"),),
    "write": (("writing", "write"),),
    "undo": (("writing", "undo"),),
    "explain": (("explaining", "explain"),),
    "export": (("exporting", "export"), ("export", "export")),
    "list_packs": (("models", "list_packs"),),
    "list_albums": (("albums", "list_albums"),),
    "album_photo_ids": (("albums", "album_photo_ids"),),
}


def find(action: str) -> Callable[..., Any] | None:
    """The service function for ``action``, or None when no such service is installed."""
    for module_name, func_name in OPERATIONS[action]:
        full = f"geotagger.services.{module_name}"
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name == full or full.startswith(exc.name + ".")):
                continue
            _report_broken(full, exc)
            continue
        except ImportError as exc:  # an installed but broken service: disable its actions, keep the app
            _report_broken(full, exc)
            continue
        func = getattr(module, func_name, None)
        if callable(func):
            return func
    return None


def available(action: str) -> bool:
    """Whether the action's service is installed, without importing it (cheap: for enabling actions
    on the GUI thread; the import itself happens in a worker on first use)."""
    for module_name, func_name in OPERATIONS[action]:
        full = f"geotagger.services.{module_name}"
        if full in _broken:
            continue
        module = sys.modules.get(full)
        if module is not None:
            if callable(getattr(module, func_name, None)):
                return True
            continue
        try:
            if importlib.util.find_spec(full) is not None:
                return True
        except (ImportError, ValueError):
            continue
    return False


def lazy(action: str) -> Callable[..., Any]:
    """A stand-in that imports the service when called (in the worker thread that calls it)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return require(action)(*args, **kwargs)

    call.__name__ = action
    return call


def preload() -> list[str]:
    """Import every service now (run in a worker at start-up); returns the broken ones."""
    for action in OPERATIONS:
        find(action)
    return sorted(_broken)


def _report_broken(module: str, exc: Exception) -> None:
    if module not in _broken:
        _broken[module] = f"{type(exc).__name__}: {exc}"
        log.error("%s cannot be imported (%s); its actions are disabled", module, _broken[module])


def require(action: str) -> Callable[..., Any]:
    func = find(action)
    if func is None:
        from geotagger.errors import GeotaggerError

        raise GeotaggerError(f"{action} is not available in this installation")
    return func


def missing_reason(action: str) -> str:
    names = [f"geotagger.services.{m}" for m, _ in OPERATIONS[action]]
    broken = [f"{n} is broken ({_broken[n]})" for n in names if n in _broken]
    if broken:
        return "Not available: " + "; ".join(broken)
    return "Not available: needs " + ", ".join(
        f"{n}.{f}" for n, (_, f) in zip(names, OPERATIONS[action], strict=True)
    )
